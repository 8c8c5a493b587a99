"""Eligibility of a study's candidates over a 50,000-person panel (with ~150,000 contact-log
entries and consents), p95 of the SQL evaluation (research.eligibility.evaluate: counts per
rule + first page of eligible people), beside a naive baseline that loads the rows and applies
the same rules in Python. The data is created inside a transaction that is rolled back, so
the database is left as it was."""

from __future__ import annotations

import os
import statistics
import time
from datetime import timedelta

TARGET_P95_MS = 300.0
PARTICIPANTS = 50_000


class _Rollback(Exception):
    pass


def _seed(cursor, now) -> None:
    # generate_series keeps the set-up to a few seconds; values are deterministic (hash of i).
    cursor.execute(
        """
        INSERT INTO research_participant (name, email, company, role, attributes, country, timezone, source,
                                          opted_out, created_at, updated_at, erased_summary)
        SELECT 'Bench ' || i, 'bench' || i || '@bench.example', 'Co ' || (i %% 900), 'Shopper',
               jsonb_build_object('panel', 'bench', 'plan', (ARRAY['free','pro','enterprise'])[1 + i %% 3],
                                  'platform', (ARRAY['web','ios','android'])[1 + (i / 3) %% 3]),
               (ARRAY['US','GB','DE','FR','BR','IN','JP'])[1 + i %% 7], 'UTC', 'bench',
               (i %% 25 = 0), %(now)s, %(now)s, '{}'::jsonb
        FROM generate_series(1, %(n)s) AS i
        """,
        {"now": now, "n": PARTICIPANTS},
    )
    cursor.execute(
        """
        INSERT INTO research_consentrecord (participant_id, scope, granted, granted_at, expires_at, withdrawn_at)
        SELECT id, 'research', TRUE, %(now)s - interval '100 days',
               CASE WHEN id %% 11 = 0 THEN %(now)s - interval '1 day' ELSE %(now)s + interval '300 days' END,
               CASE WHEN id %% 17 = 0 THEN %(now)s - interval '3 days' END
        FROM research_participant WHERE source = 'bench' AND id %% 9 <> 0
        """,
        {"now": now},
    )
    cursor.execute(
        """
        INSERT INTO research_contactlog (participant_id, kind, at, note)
        SELECT p.id, (ARRAY['invited','scheduled','attended','attended','no_show','declined'])[1 + (p.id + k) %% 6],
               %(now)s - ((((p.id * 7919 + k * 104729) %% 400) + 1) || ' days')::interval, ''
        FROM research_participant p, generate_series(1, 3) AS k
        WHERE p.source = 'bench' AND (p.id + k) %% 4 <> 0
        """,
        {"now": now},
    )
    from research.services import participant_stats_refresh

    cursor.execute("ANALYZE research_contactlog; ANALYZE research_consentrecord")
    participant_stats_refresh()
    cursor.execute("ANALYZE research_participant; ANALYZE research_contactlog; ANALYZE research_consentrecord")


def _naive(rule, criteria_plan: str, now) -> tuple[int, dict]:
    """Baseline: fetch the screened people, their contacts and consents, apply the rules in Python."""
    from research.models import ConsentRecord, ContactLog, Participant

    people = dict(
        Participant.objects.filter(attributes__panel="bench", attributes__plan=criteria_plan).values_list(
            "id", "opted_out"
        )
    )
    window = now - timedelta(days=rule.window_days)
    cool = now - timedelta(days=rule.cooldown_days)
    last, sessions, no_shows = {}, {}, {}
    for pid, kind, at in ContactLog.objects.filter(participant_id__in=list(people)).values_list(
        "participant_id", "kind", "at"
    ):
        last[pid] = max(last.get(pid, at), at)
        if at >= window and kind == "attended":
            sessions[pid] = sessions.get(pid, 0) + 1
        if at >= window and kind == "no_show":
            no_shows[pid] = no_shows.get(pid, 0) + 1
    consent = set(
        ConsentRecord.objects.filter(participant_id__in=list(people), scope=rule.consent_scope, granted=True)
        .exclude(withdrawn_at__isnull=False)
        .exclude(expires_at__lte=now)
        .values_list("participant_id", flat=True)
    )
    counts = dict.fromkeys(["opted_out", "cooldown", "max_sessions", "no_show", "consent"], 0)
    eligible = 0
    for pid, opted in people.items():
        flags = {
            "opted_out": opted,
            "cooldown": pid in last and last[pid] >= cool,
            "max_sessions": sessions.get(pid, 0) >= rule.max_sessions,
            "no_show": no_shows.get(pid, 0) >= rule.no_show_limit,
            "consent": pid not in consent,
        }
        for k, v in flags.items():
            counts[k] += bool(v)
        eligible += not any(flags.values())
    return eligible, counts


def _backend_cpu_ms(connection) -> float:
    """CPU time the PostgreSQL backend serving this connection has used (user + system), from
    /proc: unlike wall time it does not grow when other processes compete for the CPUs."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def main(runs: int = 30) -> dict:
    from bench.common import setup_django

    setup_django()
    from django.db import connection, transaction
    from django.utils import timezone

    from research import eligibility
    from research.models import EligibilityRule

    now = timezone.now()
    rule = EligibilityRule(name="bench", cooldown_days=30, max_sessions=2, window_days=180, no_show_limit=1)
    criteria = [{"attribute": "panel", "op": "eq", "value": "bench"}]
    out: dict = {}
    try:
        with transaction.atomic():
            started = time.monotonic()
            with connection.cursor() as cursor:
                _seed(cursor, now)
            seeded = time.monotonic() - started
            timings = []
            result = None
            cpu_start, client_start = _backend_cpu_ms(connection), time.process_time()
            for _ in range(runs):
                t0 = time.perf_counter()
                result = eligibility.evaluate(rule=rule, limit=50, now=now)
                timings.append((time.perf_counter() - t0) * 1000)
            cpu_ms = (_backend_cpu_ms(connection) - cpu_start + (time.process_time() - client_start) * 1000) / runs
            narrow = []
            for plan in ("pro", "enterprise"):
                t0 = time.perf_counter()
                eligibility.evaluate(criteria=[*criteria, {"attribute": "plan", "op": "eq", "value": plan}], rule=rule)
                narrow.append((time.perf_counter() - t0) * 1000)
            naive = []
            for _ in range(3):
                t0 = time.perf_counter()
                _naive(rule, "pro", now)
                naive.append((time.perf_counter() - t0) * 1000)
            sql_pro_ms = narrow[0]
            p95 = _p95(timings)
            print(
                f"== research: eligibility over the whole panel, {result.screened:,} participants "
                f"(seeded in {seeded:.1f} s) =="
            )
            print(
                f"eligible {result.eligible:,}; excluded per rule: "
                + ", ".join(f"{k} {v:,}" for k, v in result.excluded.items())
            )
            print(f"SQL evaluate, whole panel: p50 {statistics.median(timings):.0f} ms, p95 {p95:.0f} ms ({runs} runs)")
            naive_ms = statistics.median(naive)
            print(
                f"screened to plan=pro: SQL {sql_pro_ms:.0f} ms vs naive Python rules {naive_ms:.0f} ms "
                f"(baseline) = {naive_ms / sql_pro_ms:.1f}x faster"
            )
            print(f"CPU time per evaluation (database + Python, independent of machine load): {cpu_ms:.0f} ms")
            load = os.getloadavg()[0]
            print(f"machine: {os.cpu_count()} CPUs, load average {load:.1f} during the run")
            verdict = "MEETS TARGET" if p95 <= TARGET_P95_MS else "MISSES TARGET"
            print(f"target p95 <= {TARGET_P95_MS:.0f} ms: {verdict}")
            out = {
                "cpu_ms": cpu_ms,
                "p95_ms": p95,
                "naive_ms": naive_ms,
                "sql_pro_ms": sql_pro_ms,
                "screened": result.screened,
            }
            raise _Rollback
    except _Rollback:
        pass
    return out


if __name__ == "__main__":
    main()
