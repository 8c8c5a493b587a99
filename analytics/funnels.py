"""Funnel rollups: a funnel's outcome per user and start day, kept current like the other rollups.

A strict-order funnel counts a user at the first occurrence t0 of step 1 in the date range, then
takes each next step's first occurrence at or after the previous one, up to t0 + window. Ranges
are whole UTC days, so a user's outcome depends only on the first day D in the range on which
they did step 1, and on the events in [D, D + 1 + window days). FunnelProgress stores that
outcome (`reached`) for every (user, D), with the user's previous such day; a funnel over any
range is then one pass over the rows of its days, each user taken at their earliest day in it
(see `counts`).

Events arriving for day X change only the outcomes of start days X - window .. X, and only of
the users who sent them: the dirty-day sweep marks X stale in the transaction that re-rolls it,
and `refresh_stale` recomputes those users' rows of those days.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone

from analytics.models import EventDailyRollup, FunnelRollup

# A rollup nobody has read for this long is dropped by the sweep (its funnel was deleted or edited).
UNUSED_FOR = timedelta(days=30)
# last_used_at is written at most this often, so reading a funnel is not a write each time.
TOUCH_EVERY = timedelta(hours=6)


def funnel_key(steps: list[str], window_days: int) -> str:
    return hashlib.sha256(json.dumps([steps, window_days]).encode()).hexdigest()


def lookup(product_id: int, steps: list[str], window_days: int) -> FunnelRollup | None:
    """The funnel's rollup if it is built; registers it (built soon by the worker) if not."""
    now = timezone.now()
    rollup, created = FunnelRollup.objects.get_or_create(
        product_id=product_id,
        key=funnel_key(steps, window_days),
        defaults={"steps": steps, "window_days": window_days, "last_used_at": now},
    )
    if created:
        _dispatch_build()
        return None
    if rollup.last_used_at < now - TOUCH_EVERY:
        FunnelRollup.objects.filter(pk=rollup.pk).update(last_used_at=now)
    return rollup if rollup.built_at is not None else None


def _dispatch_build() -> None:
    """The rollup sweep builds new funnels; beat runs it every minute should the broker be down."""
    from analytics import services

    services.rollups_dispatch()


# A user counts at their first day in the range: the row whose previous day falls before it.
_COUNTS = """
SELECT reached, count(*) FROM analytics_funnelprogress
WHERE funnel_id = %(funnel)s AND day BETWEEN %(first)s AND %(last)s
  AND (prev_day IS NULL OR prev_day < %(first)s)
GROUP BY reached
"""


def counts(rollup: FunnelRollup, date_from: date, date_to: date) -> list[int]:
    """Users reaching each step, for a range of whole days."""
    with connection.cursor() as cursor:
        cursor.execute(_COUNTS, {"funnel": rollup.pk, "first": date_from, "last": date_to})
        reached = dict(cursor.fetchall())
    n = len(rollup.steps)
    return [sum(c for r, c in reached.items() if r >= i) for i in range(n)]


# --- building and refreshing -------------------------------------------------------------------

# The outcome per (user, start day): one temp row per user and day with the first step, then one
# pass per further step. A pass sorts the users still going together with that step's events by
# time, newest first; a running min over the events seen so far is, at each user row, the
# step's first occurrence at or after the user's previous step (RANGE frames include equal
# times). No per-user join fan-out, so heavy users cost what their events cost. A refresh
# limits every pass to the users in analytics_funnel_users ({only}).
_STARTS = """
INSERT INTO analytics_funnel_work (u, d, t0, t, reached)
SELECT distinct_id, (timestamp AT TIME ZONE 'UTC')::date, min(timestamp), min(timestamp), 0
FROM analytics_event
WHERE product_id = %(product)s AND event = %(step)s AND status = 'accepted'
  AND timestamp >= %(start)s AND timestamp < %(end)s {only}
GROUP BY 1, 2
"""
_ADVANCE = """
INSERT INTO analytics_funnel_work (u, d, t0, t, reached)
SELECT u, d, t0, nxt, %(i)s FROM (
    SELECT u, d, t0, is_user,
           min(t) FILTER (WHERE NOT is_user) OVER (PARTITION BY u COLLATE "C" ORDER BY t DESC) AS nxt
    FROM (
        SELECT u, d, t0, t, true AS is_user FROM analytics_funnel_work WHERE reached = %(i)s - 1
        UNION ALL
        SELECT distinct_id, NULL, NULL, timestamp, false FROM analytics_event
        WHERE product_id = %(product)s AND event = %(step)s AND status = 'accepted'
          AND timestamp >= %(start)s AND timestamp < %(end)s + %(window)s
          AND distinct_id IN (SELECT u FROM analytics_funnel_work WHERE reached = %(i)s - 1)
    ) AS both_kinds
) AS ordered
WHERE is_user AND nxt <= t0 + %(window)s
"""
_ONLY = "AND distinct_id IN (SELECT u FROM analytics_funnel_users)"
# Users with new events on the stale days: the only ones whose outcomes can change, as raw
# events are append-only (a re-roll that may follow deletions rebuilds instead: see rebuild_later).
_USERS = """
INSERT INTO analytics_funnel_users (u)
SELECT DISTINCT distinct_id FROM analytics_event
WHERE product_id = %(product)s AND event = ANY(%(steps)s) AND status = 'accepted'
  AND timestamp >= %(changed_start)s AND timestamp < %(changed_end)s
"""

# Rows are written with prev_day: the user's previous start day, inside the span from the
# sorted rows, before it from one index probe per user. Then each user's next row after the
# span gets its prev_day corrected.
_INSERT = """
INSERT INTO analytics_funnelprogress (funnel_id, distinct_id, day, reached, prev_day)
SELECT %(funnel)s, g.u, g.d, g.reached, coalesce(lag(g.d) OVER (PARTITION BY g.u COLLATE "C" ORDER BY g.d), {before})
FROM (SELECT u, d, max(reached) AS reached FROM analytics_funnel_work GROUP BY u, d) AS g
"""
_BEFORE = (
    "(SELECT max(day) FROM analytics_funnelprogress p "
    "WHERE p.funnel_id = %(funnel)s AND p.distinct_id = g.u AND p.day < %(first)s)"
)
_NEXT_ROWS = """
UPDATE analytics_funnelprogress f SET prev_day = n.prev
FROM (
    SELECT nx.id,
           (SELECT max(day) FROM analytics_funnelprogress p
            WHERE p.funnel_id = %(funnel)s AND p.distinct_id = t.u AND p.day <= %(last)s) AS prev
    FROM analytics_funnel_users t
    CROSS JOIN LATERAL (
        SELECT id FROM analytics_funnelprogress
        WHERE funnel_id = %(funnel)s AND distinct_id = t.u AND day > %(last)s ORDER BY day LIMIT 1
    ) AS nx
) AS n
WHERE f.id = n.id AND f.prev_day IS DISTINCT FROM n.prev
"""


def _compute(rollup: FunnelRollup, first: date, last: date, *, changed: tuple[date, date] | None = None) -> int:
    """Replace the rollup's rows of start days first..last, for every user (a build), or, when
    `changed` names the event days that received new events, for the users with step events
    on them (a refresh). Returns the rows written."""
    steps, window = rollup.steps, timedelta(days=rollup.window_days)
    params = {
        "funnel": rollup.pk,
        "product": rollup.product_id,
        "steps": steps,
        "first": first,
        "last": last,
        "start": _midnight(first),
        "end": _midnight(last + timedelta(days=1)),
        "window": window,
    }
    only = _ONLY if changed else ""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute("SET LOCAL jit = off")  # compiling costs more than these plans run
        cursor.execute("SET LOCAL enable_nestloop = off")  # the temp tables are never analysed
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS analytics_funnel_work "
            "(u text, d date, t0 timestamptz, t timestamptz, reached smallint)"
        )
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS analytics_funnel_users (u text)")
        cursor.execute("TRUNCATE analytics_funnel_work, analytics_funnel_users")
        if changed:
            changed_span = {"changed_start": _midnight(changed[0]), "changed_end": _midnight(changed[1] + timedelta(1))}
            cursor.execute(_USERS, {**params, **changed_span})
        cursor.execute(_STARTS.format(only=only), {**params, "step": steps[0]})
        for i, step in enumerate(steps[1:], start=1):
            cursor.execute(_ADVANCE, {**params, "step": step, "i": i})
            if cursor.rowcount == 0:
                break
        cursor.execute("SET LOCAL enable_nestloop = on")  # per-user index probes from here
        cursor.execute("ANALYZE analytics_funnel_work, analytics_funnel_users")  # for the plans below
        cursor.execute(
            "DELETE FROM analytics_funnelprogress "  # noqa: S608 - `only` is one of two constants
            f"WHERE funnel_id = %(funnel)s AND day BETWEEN %(first)s AND %(last)s {only}",
            params,
        )
        cursor.execute(_INSERT.format(before=_BEFORE if changed else "NULL::date"), params)
        written = cursor.rowcount
        if changed:
            cursor.execute(_NEXT_ROWS, params)
        return written


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _history_start(product_id: int) -> date | None:
    rows = EventDailyRollup.objects.filter(product_id=product_id, count__gt=0).order_by("day")
    return rows.values_list("day", flat=True).first()


def _locked(rollup_id: int) -> FunnelRollup | None:
    """The rollup as it is once this transaction holds its product's rollup lock (or None if gone)."""
    from analytics.rollups import serialise_product  # rollups imports this module

    product_id = FunnelRollup.objects.filter(pk=rollup_id).values_list("product_id", flat=True).first()
    if product_id is None:
        return None
    serialise_product(product_id)
    return FunnelRollup.objects.filter(pk=rollup_id).first()


@transaction.atomic
def build(rollup_id: int) -> int:
    """Compute a funnel's rows over the product's whole history (the first build, or a rebuild)."""
    rollup = _locked(rollup_id)
    if rollup is None:
        return 0
    today = timezone.now().date()
    with connection.cursor() as cursor:  # a rebuild starts from nothing
        cursor.execute("DELETE FROM analytics_funnelprogress WHERE funnel_id = %s", [rollup.pk])
    written = _compute(rollup, _history_start(rollup.product_id) or today, today)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE analytics_funnelprogress")  # so funnels plan their range scans well
    FunnelRollup.objects.filter(pk=rollup.pk).update(built_at=timezone.now(), stale_from=None, stale_to=None)
    return written


def mark_stale(*, product_id: int, first: date, last: date) -> None:
    """Days first..last received new events: the built funnels must catch up with them. Called
    in the transaction that re-rolls those days, so a crash cannot lose the mark."""
    with connection.cursor() as cursor:
        cursor.execute(
            # LEAST and GREATEST skip NULLs: a fresh mark takes the span as it is.
            "UPDATE analytics_funnelrollup SET stale_from = LEAST(stale_from, %s), stale_to = GREATEST(stale_to, %s) "
            "WHERE product_id = %s AND built_at IS NOT NULL",
            [first, last, product_id],
        )


def rebuild_later(rollups) -> int:
    """Rebuild these funnels from raw events in the next sweep (they read raw events until then):
    after events were deleted or re-rolled outside ingestion, or at an ops lead's request."""
    return rollups.update(built_at=None, stale_from=None, stale_to=None)


@transaction.atomic
def refresh_stale(rollup_id: int) -> int:
    """Recompute the outcomes the new events can change: the start days from `window` days
    before the first stale day, of the users with step events on the stale days."""
    rollup = _locked(rollup_id)
    if rollup is None or rollup.stale_from is None or rollup.built_at is None:
        return 0
    changed = (rollup.stale_from, rollup.stale_to)
    first = rollup.stale_from - timedelta(days=rollup.window_days)
    written = _compute(rollup, first, rollup.stale_to, changed=changed)
    FunnelRollup.objects.filter(pk=rollup.pk).update(stale_from=None, stale_to=None, refreshed_at=timezone.now())
    return written


def sweep(refresh_every: timedelta | None = None) -> int:
    """Build new funnels, refresh stale ones and drop the unused: what the rollup task runs.

    A funnel catches up with new events at most every `refresh_every` (the setting
    ANALYTICS_FUNNEL_REFRESH_SECONDS, 5 minutes by default, as often as tiles are refreshed):
    under steady ingestion today is always stale, and each catch-up re-reads today's users."""
    if refresh_every is None:
        refresh_every = timedelta(seconds=settings.ANALYTICS_FUNNEL_REFRESH_SECONDS)
    due = Q(refreshed_at__isnull=True) | Q(refreshed_at__lte=timezone.now() - refresh_every)
    done = 0
    unused = FunnelRollup.objects.filter(last_used_at__lt=timezone.now() - UNUSED_FOR)
    for rollup in unused:
        rollup.delete()
    for rollup_id in FunnelRollup.objects.filter(built_at__isnull=True).values_list("pk", flat=True):
        build(rollup_id)
        done += 1
    for rollup_id in FunnelRollup.objects.filter(due, stale_from__isnull=False).values_list("pk", flat=True):
        refresh_stale(rollup_id)
        done += 1
    return done


@receiver(pre_delete, sender=FunnelRollup)
def _delete_progress(sender, instance: FunnelRollup, **kwargs) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM analytics_funnelprogress WHERE funnel_id = %s", [instance.pk])
