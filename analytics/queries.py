"""The insight engine: a JSON query spec in, a plain result dict out.

Specs (all dates UTC, `date_from`/`date_to` as ISO dates or relative "-30d"):
- trends:   {"type": "trends", "events": [{"event": "order_completed", "math": "count|uniques|sum|avg",
             "property": "amount"}], "interval": "day|week|month", "breakdown": "country"}
- funnel:   {"type": "funnel", "steps": ["checkout_started", "payment_submitted", "order_completed"],
             "window_days": 7}
- retention:{"type": "retention", "period": "week|day", "periods": 8, "start_event": null, "return_event": null}
- active_users: {"type": "active_users"} — DAU, WAU, MAU and stickiness (DAU/MAU)
- top_events:   {"type": "top_events", "limit": 10}
- quality:  {"type": "quality"} — conforming / flagged / quarantined per day
Every spec may carry "filters": [{"property": "country", "op": "eq|neq|contains|gt|lt|is_set", "value": "US"}].

Whatever can be answered from rollups is (daily counts and uniques per event, per-user daily
activity); property filters, breakdowns, sums and non-daily uniques read raw events.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

INTERVALS = {"day", "week", "month"}
MATHS = {"count", "uniques", "sum", "avg"}
OPS = {"eq", "neq", "contains", "gt", "lt", "is_set"}
TYPES = {"trends", "funnel", "retention", "active_users", "top_events", "quality", "violations"}
MAX_BREAKDOWN = 8
MAX_FUNNEL_STEPS = 20


class SpecError(ValueError):
    """A spec that cannot run; the message names the field."""


# --- spec validation -------------------------------------------------------------------------


def resolve_date(value: Any, default: date, today: date) -> date:
    if value in (None, ""):
        return default
    if isinstance(value, date):
        return value
    text = str(value)
    match = re.fullmatch(r"-(\d{1,4})d", text)
    if match:
        return today - timedelta(days=int(match.group(1)))
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise SpecError(f"date: {text!r} is not an ISO date (YYYY-MM-DD) or a relative date like -30d.") from None


def normalise(spec: dict, *, today: date | None = None) -> dict:
    """Validate a spec and fill defaults; raises SpecError naming the field."""
    if not isinstance(spec, dict):
        raise SpecError("spec: must be a JSON object.")
    today = today or timezone.now().date()
    kind = spec.get("type")
    if kind not in TYPES:
        raise SpecError(f"type: must be one of {', '.join(sorted(TYPES))} (got {kind!r}).")
    out = dict(spec)
    out["date_to"] = resolve_date(spec.get("date_to"), today, today)
    out["date_from"] = resolve_date(spec.get("date_from"), out["date_to"] - timedelta(days=29), today)
    if out["date_from"] > out["date_to"]:
        raise SpecError("date_from: must be on or before date_to.")
    if (out["date_to"] - out["date_from"]).days > 731:
        raise SpecError("date_from: the range is limited to two years.")
    filters = spec.get("filters") or []
    if not isinstance(filters, list):
        raise SpecError("filters: must be a list.")
    for i, f in enumerate(filters):
        if not isinstance(f, dict) or not f.get("property"):
            raise SpecError(f"filters[{i}]: needs a property.")
        if f.get("op", "eq") not in OPS:
            raise SpecError(f"filters[{i}].op: must be one of {', '.join(sorted(OPS))}.")
    out["filters"] = filters
    if kind == "trends":
        interval = spec.get("interval", "day")
        if interval not in INTERVALS:
            raise SpecError(f"interval: must be day, week or month (got {interval!r}).")
        out["interval"] = interval
        events = spec.get("events") or []
        if not events or not isinstance(events, list):
            raise SpecError("events: a trend needs at least one event.")
        series = []
        for i, e in enumerate(events):
            e = {"event": e} if isinstance(e, str) else dict(e)
            if not e.get("event"):
                raise SpecError(f"events[{i}].event: required.")
            e.setdefault("math", "count")
            if e["math"] not in MATHS:
                raise SpecError(f"events[{i}].math: must be count, uniques, sum or avg.")
            if e["math"] in ("sum", "avg") and not e.get("property"):
                raise SpecError(f"events[{i}].property: {e['math']} needs a numeric property.")
            series.append(e)
        out["events"] = series
    elif kind == "funnel":
        steps = spec.get("steps") or []
        if not isinstance(steps, list) or len(steps) < 2:
            raise SpecError("steps: a funnel needs at least two steps.")
        if len(steps) > MAX_FUNNEL_STEPS:
            raise SpecError(f"steps: a funnel has at most {MAX_FUNNEL_STEPS} steps (got {len(steps)}).")
        out["steps"] = [str(s) for s in steps]
        try:
            out["window_days"] = int(spec.get("window_days") or 7)
        except (TypeError, ValueError):
            raise SpecError("window_days: must be a whole number of days.") from None
        if not 1 <= out["window_days"] <= 90:
            raise SpecError("window_days: must be between 1 and 90 days.")
    elif kind == "retention":
        period = spec.get("period", "week")
        if period not in ("day", "week"):
            raise SpecError("period: must be day or week.")
        out["period"] = period
        out["periods"] = max(2, min(int(spec.get("periods") or 8), 26))
    return out


# --- helpers -------------------------------------------------------------------------------


def _filters_sql(filters: list[dict], params: list) -> str:
    parts = []
    for f in filters:
        op = f.get("op", "eq")
        prop = str(f["property"])
        value = f.get("value")
        if op == "is_set":
            parts.append("properties ? %s")
            params.append(prop)
        elif op == "eq":
            parts.append("properties->>%s = %s")
            params += [prop, str(value)]
        elif op == "neq":
            parts.append("(properties->>%s IS DISTINCT FROM %s)")
            params += [prop, str(value)]
        elif op == "contains":
            parts.append("properties->>%s ILIKE %s")
            params += [prop, f"%{value}%"]
        elif op in ("gt", "lt"):
            parts.append(
                f"(CASE WHEN jsonb_typeof(properties->%s) = 'number' THEN (properties->>%s)::numeric END) "
                f"{'>' if op == 'gt' else '<'} %s"
            )
            params += [prop, prop, float(value)]
    return "".join(f" AND {p}" for p in parts)


def _rows(sql: str, params: list | dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _days(date_from: date, date_to: date) -> list[date]:
    return [date_from + timedelta(days=i) for i in range((date_to - date_from).days + 1)]


def _bucket(d: date, interval: str) -> date:
    if interval == "week":
        return d - timedelta(days=d.weekday())
    if interval == "month":
        return d.replace(day=1)
    return d


def _buckets(date_from: date, date_to: date, interval: str) -> list[date]:
    seen: list[date] = []
    for d in _days(date_from, date_to):
        b = _bucket(d, interval)
        if not seen or seen[-1] != b:
            seen.append(b)
    return seen


def _ts_range(spec: dict) -> tuple[datetime, datetime]:
    start = datetime.combine(spec["date_from"], datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(spec["date_to"] + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return start, end


# --- trends --------------------------------------------------------------------------------


def trends(product_id: int, spec: dict) -> dict:
    buckets = _buckets(spec["date_from"], spec["date_to"], spec["interval"])
    x = [b.isoformat() for b in buckets]
    series: list[dict] = []
    source = "rollup"
    for e in spec["events"]:
        label = e.get("label") or _series_label(e)
        use_rollup = (
            not spec["filters"]
            and not spec.get("breakdown")
            and (e["math"] == "count" or (e["math"] == "uniques" and spec["interval"] == "day"))
        )
        if use_rollup:
            column = "count" if e["math"] == "count" else "uniques"
            rows = _rows(
                f"SELECT day, sum({column}) FROM analytics_eventdailyrollup "  # noqa: S608 - fixed column names
                "WHERE product_id = %s AND event = %s AND day BETWEEN %s AND %s GROUP BY day",
                [product_id, e["event"], spec["date_from"], spec["date_to"]],
            )
            by_bucket: dict[date, float] = {}
            for day, value in rows:
                b = _bucket(day, spec["interval"])
                by_bucket[b] = by_bucket.get(b, 0) + int(value or 0)
            series.append({"name": label, "values": [by_bucket.get(b, 0) for b in buckets]})
            continue
        source = "raw"
        series.extend(_trend_raw(product_id, spec, e, label, buckets))
    maths = {e["math"] for e in spec["events"]}
    y_title = {"count": "Events", "uniques": "Unique users"}.get(next(iter(maths)), "") if len(maths) == 1 else ""
    if len(maths) == 1 and next(iter(maths)) in ("sum", "avg"):
        y_title = f"{'Sum' if 'sum' in maths else 'Average'} of {spec['events'][0]['property']}"
    return {
        "kind": "trends",
        "x": x,
        "series": series,
        "interval": spec["interval"],
        "source": source,
        "y_title": y_title or "Events or users",
    }


def _series_label(e: dict) -> str:
    math = e["math"]
    if math == "count":
        return e["event"]
    if math == "uniques":
        return f"{e['event']} (unique users)"
    return f"{math} of {e['property']} ({e['event']})"


def _trend_raw(product_id: int, spec: dict, e: dict, label: str, buckets: list[date]) -> list[dict]:
    start, end = _ts_range(spec)
    params: list = []
    math = e["math"]
    if math == "count":
        agg = "count(*)"
    elif math == "uniques":
        agg = "count(DISTINCT distinct_id)"
    else:
        agg = (
            f"{'sum' if math == 'sum' else 'avg'}(CASE WHEN jsonb_typeof(properties->%s) = 'number' "
            "THEN (properties->>%s)::numeric END)"
        )
        params += [e["property"], e["property"]]
    breakdown = spec.get("breakdown")
    group = "NULL"
    if breakdown:
        group = "coalesce(properties->>%s, '(none)')"
        params.insert(0, breakdown)
    where_params: list = [product_id, e["event"], start, end]
    filters = _filters_sql(spec["filters"], where_params)
    sql = (
        f"SELECT {group} AS g, (date_trunc(%s, timestamp AT TIME ZONE 'UTC'))::date AS b, {agg} "  # noqa: S608
        "FROM analytics_event WHERE product_id = %s AND event = %s AND status = 'accepted' "
        f"AND timestamp >= %s AND timestamp < %s{filters} GROUP BY 1, 2"
    )
    if breakdown:
        all_params = [params[0], spec["interval"], *params[1:], *where_params]
    else:
        all_params = [spec["interval"], *params, *where_params]
    rows = _rows(sql, all_params)
    groups: dict[Any, dict[date, float]] = {}
    for g, b, value in rows:
        groups.setdefault(g, {})[b] = float(value) if value is not None else 0
    if not breakdown:
        values = groups.get(None, {})
        return [{"name": label, "values": [_num(values.get(b, 0)) for b in buckets]}]
    ranked = sorted(groups.items(), key=lambda kv: -sum(kv[1].values()))
    out = [
        {"name": f"{label} · {g}", "values": [_num(vals.get(b, 0)) for b in buckets]}
        for g, vals in ranked[:MAX_BREAKDOWN]
    ]
    if len(ranked) > MAX_BREAKDOWN and math in ("count", "sum"):
        rest: dict[date, float] = {}
        for _g, vals in ranked[MAX_BREAKDOWN:]:
            for b, v in vals.items():
                rest[b] = rest.get(b, 0) + v
        out.append({"name": f"{label} · other", "values": [_num(rest.get(b, 0)) for b in buckets]})
    return out


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 2)


# --- funnels -------------------------------------------------------------------------------


def funnel(product_id: int, spec: dict) -> dict:
    """Strict order: each step's first occurrence after the previous step, within the window.

    Without property filters the counts come from the funnel's rollup once it is built
    (analytics.funnels); until then, and with filters, from raw events."""
    from analytics import funnels

    rollup = None if spec["filters"] else funnels.lookup(product_id, spec["steps"], spec["window_days"])
    if rollup is not None:
        counts = funnels.counts(rollup, spec["date_from"], spec["date_to"])
        return _funnel_result(spec, dict(enumerate(counts)), source="rollup")
    return _funnel_result(spec, _funnel_raw_counts(product_id, spec), source="raw")


def _funnel_raw_counts(product_id: int, spec: dict) -> dict[int, int]:
    start, end = _ts_range(spec)
    steps = spec["steps"]
    window = timedelta(days=spec["window_days"])
    params: list = []
    filter_params: list = []
    filters = _filters_sql(spec["filters"], filter_params)
    ctes = []
    params += [product_id, steps[0], start, end, *filter_params]
    ctes.append(
        "s0 AS (SELECT distinct_id, min(timestamp) AS t, min(timestamp) AS t0 FROM analytics_event "  # noqa: S608
        "WHERE product_id = %s AND event = %s AND status = 'accepted' AND timestamp >= %s AND timestamp < %s"
        f"{filters} GROUP BY distinct_id)"
    )
    e_filters = filters.replace("properties", "e.properties")
    for i, step in enumerate(steps[1:], start=1):
        params += [product_id, step, *filter_params, start, window, end + window]
        ctes.append(
            f"s{i} AS (SELECT e.distinct_id, min(e.timestamp) AS t, p.t0 FROM s{i - 1} p "  # noqa: S608
            "JOIN analytics_event e ON e.distinct_id = p.distinct_id AND e.product_id = %s AND e.event = %s "
            f"AND e.status = 'accepted'{e_filters} "
            "AND e.timestamp >= %s AND e.timestamp >= p.t AND e.timestamp <= p.t0 + %s AND e.timestamp < %s "
            "GROUP BY e.distinct_id, p.t0)"
        )
    counts = " UNION ALL ".join(f"SELECT {i}, count(*) FROM s{i}" for i in range(len(steps)))  # noqa: S608
    with transaction.atomic(), connection.cursor() as cursor:
        # Each step is a hash join on distinct_id; the planner underestimates the CTEs and
        # would otherwise pick a nested loop that is quadratic in users.
        # Merge joins sort every step's events by distinct_id (collation-aware, spilling to disk).
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(f"WITH {', '.join(ctes)} {counts}", params)
        return dict(cursor.fetchall())


def _funnel_result(spec: dict, rows: dict[int, int], *, source: str) -> dict:
    steps = spec["steps"]
    out = []
    first = rows.get(0, 0) or 0
    for i, step in enumerate(steps):
        n = rows.get(i, 0) or 0
        prev = rows.get(i - 1, 0) if i else n
        out.append(
            {
                "event": step,
                "count": n,
                "conversion": (n / first) if first else 0.0,
                "step_conversion": (n / prev) if prev else 0.0,
                "drop_off": (prev - n) if i else 0,
            }
        )
    return {"kind": "funnel", "steps": out, "window_days": spec["window_days"], "source": source}


# --- retention -----------------------------------------------------------------------------


def retention(product_id: int, spec: dict) -> dict:
    """Cohorts by first active period in the range; share active again in each later period."""
    period = spec["period"]
    periods = spec["periods"]
    step = 7 if period == "week" else 1
    date_from = _bucket(spec["date_from"], "week") if period == "week" else spec["date_from"]
    if spec.get("start_event") or spec["filters"]:
        start, end = _ts_range({"date_from": date_from, "date_to": spec["date_to"]})
        params: list = [product_id, start, end]
        filters = _filters_sql(spec["filters"], params)
        event_clause = ""
        if spec.get("return_event"):
            event_clause = " AND event IN (%s, %s)"
            params += [spec.get("start_event") or spec["return_event"], spec["return_event"]]
        activity = (
            "SELECT DISTINCT distinct_id, (timestamp AT TIME ZONE 'UTC')::date AS day FROM analytics_event "  # noqa: S608
            "WHERE product_id = %s AND status = 'accepted' AND timestamp >= %s AND timestamp < %s"
            f"{filters}{event_clause}"
        )
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '64MB'")  # hash the (cohort, period) counts in memory
            cursor.execute(
                _RETENTION_BITS.format(step=step), _retention_bits_params(product_id, date_from, spec, periods)
            )
            rows = cursor.fetchall()
        return _retention_grid(rows, date_from=date_from, spec=spec, step=step)
    sql = f"""
    WITH a AS ({activity}),
    firsts AS (SELECT distinct_id, min(day) AS first_day FROM a GROUP BY distinct_id)
    SELECT cohort, k, count(*) FROM (
        -- DISTINCT as a subquery lets PostgreSQL hash it (count(DISTINCT) always sorts)
        SELECT DISTINCT a.distinct_id, ((f.first_day - %s::date) / {step}) AS cohort,
               ((a.day - f.first_day) / {step}) AS k
        FROM a JOIN firsts f USING (distinct_id)
        WHERE ((a.day - f.first_day) / {step}) < %s
    ) AS per_user GROUP BY 1, 2
    """  # noqa: S608 - step is an int we chose
    rows = _rows(sql, [*params, date_from, periods])
    return _retention_grid(rows, date_from=date_from, spec=spec, step=step)


# Retention without filters: one row per user from the activity bitmaps (see rollups). `sub` is
# the user's bitmap cut to the range, `p` the position of their first active day in it; period
# k is active when the `step` bits from p + k * step hold a 1.
_RETENTION_BITS = """
WITH u AS MATERIALIZED (  -- each user's cut and first position computed once, not per period
    SELECT first_day + s AS base, sub, position(B'1' IN sub) AS p
    FROM (
        SELECT first_day, s, substring(days FROM s + 1 FOR %(to)s::date - first_day - s + 1) AS sub
        FROM (
            SELECT first_day, days, GREATEST(%(from)s::date - first_day, 0) AS s
            FROM analytics_useractivitybits
            WHERE product_id = %(product)s AND first_day <= %(to)s AND last_day >= %(from)s
        ) AS b
    ) AS c
)
SELECT ((base + p - 1 - %(from)s::date) / {step}) AS cohort, k, count(*)
FROM u, generate_series(0, %(periods)s - 1) AS k
WHERE p > 0 AND position(B'1' IN substring(sub FROM p + k * {step} FOR {step})) > 0
GROUP BY 1, 2
"""  # step is an int we chose


def _retention_bits_params(product_id: int, date_from: date, spec: dict, periods: int) -> dict:
    return {"product": product_id, "from": date_from, "to": spec["date_to"], "periods": periods}


def _retention_grid(rows: list[tuple], *, date_from: date, spec: dict, step: int) -> dict:
    period, periods = spec["period"], spec["periods"]
    grid: dict[int, dict[int, int]] = {}
    for cohort, k, n in rows:
        grid.setdefault(int(cohort), {})[int(k)] = int(n)
    cohorts = []
    last_day = spec["date_to"]
    for c in sorted(grid):
        cohort_start = date_from + timedelta(days=c * step)
        size = grid[c].get(0, 0)
        # only complete periods: the current, partial week would look like a drop
        available = max(0, min(periods, ((last_day - cohort_start).days + 1) // step))
        if not available:
            continue
        values = [grid[c].get(k, 0) for k in range(available)]
        cohorts.append(
            {
                "cohort": cohort_start.isoformat(),
                "size": size,
                "values": values,
                "shares": [v / size if size else 0.0 for v in values],
            }
        )
    return {"kind": "retention", "period": period, "periods": periods, "cohorts": cohorts[-periods:]}


# --- active users --------------------------------------------------------------------------


def active_user_counts(activity_sql: str, params: list, days: list[date]) -> dict[int, list[int]]:
    """DAU/WAU/MAU per day from an activity query returning (distinct_id, day) pairs.

    Sweep line: an active (user, day) covers [day, day + w) for window w (1, 7, 30); starting
    each cover after the user's previous one ends makes covers disjoint per user, so a running
    sum of +1/-1 deltas is the distinct count, in one pass over user-days."""
    sql = f"""
    WITH a AS ({activity_sql}),
    l AS (SELECT day, lag(day) OVER (PARTITION BY distinct_id ORDER BY day) AS prev FROM a),
    w AS (SELECT * FROM (VALUES (1), (7), (30)) AS v(w)),
    deltas AS (
        SELECT w, GREATEST(day, coalesce(prev + w, day)) AS d, 1 AS delta FROM l, w
        UNION ALL
        SELECT w, day + w, -1 FROM l, w
    )
    SELECT w, d, sum(delta) FROM deltas GROUP BY w, d ORDER BY w, d
    """  # noqa: S608
    running: dict[int, dict[date, int]] = {1: {}, 7: {}, 30: {}}
    for w, d, delta in _rows(sql, params):
        running[w][d] = int(delta)
    out: dict[int, list[int]] = {}
    for w, deltas in running.items():
        total, values, i = 0, [], 0
        ordered = sorted(deltas.items())
        for day in days:
            while i < len(ordered) and ordered[i][0] <= day:
                total += ordered[i][1]
                i += 1
            values.append(total)
        out[w] = values
    return out


def active_users(product_id: int, spec: dict) -> dict:
    """DAU, WAU (7 days) and MAU (30 days) per day, and stickiness DAU/MAU.

    Without property filters this reads the ActiveUsersDaily rollup (kept by the rollups);
    with filters it sweeps the matching raw events."""
    days = _days(spec["date_from"], spec["date_to"])
    if spec["filters"]:
        start = datetime.combine(spec["date_from"] - timedelta(days=29), datetime.min.time(), tzinfo=UTC)
        end = datetime.combine(spec["date_to"] + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        params: list = [product_id, start, end]
        filters = _filters_sql(spec["filters"], params)
        activity = (
            "SELECT DISTINCT distinct_id, (timestamp AT TIME ZONE 'UTC')::date AS day FROM analytics_event "  # noqa: S608
            f"WHERE product_id = %s AND status = 'accepted' AND timestamp >= %s AND timestamp < %s{filters}"
        )
        counts = active_user_counts(activity, params, days)
        dau, wau, mau = counts[1], counts[7], counts[30]
    else:
        rows = {
            d: (a, w, m)
            for d, a, w, m in _rows(
                "SELECT day, dau, wau, mau FROM analytics_activeusersdaily "
                "WHERE product_id = %s AND day BETWEEN %s AND %s",
                [product_id, spec["date_from"], spec["date_to"]],
            )
        }
        dau = [rows.get(d, (0, 0, 0))[0] for d in days]
        wau = [rows.get(d, (0, 0, 0))[1] for d in days]
        mau = [rows.get(d, (0, 0, 0))[2] for d in days]
    sticky = [round(a / m, 4) if m else 0.0 for a, m in zip(dau, mau, strict=True)]
    return {
        "kind": "active_users",
        "x": [d.isoformat() for d in days],
        "series": [{"name": "DAU", "values": dau}, {"name": "WAU", "values": wau}, {"name": "MAU", "values": mau}],
        "stickiness": sticky,
        "latest": {"dau": dau[-1], "wau": wau[-1], "mau": mau[-1], "stickiness": sticky[-1]} if days else {},
    }


# --- top events and data quality -----------------------------------------------------------


def top_events(product_id: int, spec: dict) -> dict:
    limit = int(spec.get("limit") or 10)
    if spec["filters"]:
        start, end = _ts_range(spec)
        params: list = [product_id, start, end]
        filters = _filters_sql(spec["filters"], params)
        rows = _rows(
            "SELECT event, count(*), count(DISTINCT distinct_id) FROM analytics_event "  # noqa: S608
            f"WHERE product_id = %s AND status = 'accepted' AND timestamp >= %s AND timestamp < %s{filters} "
            "GROUP BY event ORDER BY 2 DESC LIMIT %s",
            [*params, limit],
        )
        uniques_label = "unique users"
    else:
        rows = _rows(
            "SELECT event, sum(count), max(uniques) FROM analytics_eventdailyrollup "
            "WHERE product_id = %s AND day BETWEEN %s AND %s GROUP BY event HAVING sum(count) > 0 "
            "ORDER BY 2 DESC LIMIT %s",
            [product_id, spec["date_from"], spec["date_to"], limit],
        )
        uniques_label = "peak daily users"
    return {
        "kind": "table",
        "columns": ["event", "events", uniques_label],
        "rows": [[e, int(c), int(u or 0)] for e, c, u in rows],
    }


def quality(product_id: int, spec: dict) -> dict:
    rows = _rows(
        "SELECT day, sum(count) - sum(flagged), sum(flagged), sum(quarantined) FROM analytics_eventdailyrollup "
        "WHERE product_id = %s AND day BETWEEN %s AND %s GROUP BY day",
        [product_id, spec["date_from"], spec["date_to"]],
    )
    by_day = {d: (int(ok or 0), int(f or 0), int(q or 0)) for d, ok, f, q in rows}
    days = _days(spec["date_from"], spec["date_to"])
    ok = [by_day.get(d, (0, 0, 0))[0] for d in days]
    flagged = [by_day.get(d, (0, 0, 0))[1] for d in days]
    quarantined = [by_day.get(d, (0, 0, 0))[2] for d in days]
    total = sum(ok) + sum(flagged) + sum(quarantined)
    return {
        "kind": "quality",
        "x": [d.isoformat() for d in days],
        "series": [
            {"name": "Conforming", "values": ok},
            {"name": "Flagged (allowed)", "values": flagged},
            {"name": "Quarantined", "values": quarantined},
        ],
        "conformance": (sum(ok) / total) if total else None,
    }


def violations(product_id: int, spec: dict) -> dict:
    rows = _rows(
        "SELECT event, code, property, count, last_seen, example FROM analytics_violationtype "
        "WHERE product_id = %s ORDER BY count DESC LIMIT %s",
        [product_id, int(spec.get("limit") or 10)],
    )
    return {
        "kind": "table",
        "columns": ["event", "reason", "property", "events", "last seen", "example"],
        "rows": [[e, c, p, int(n), ls.date().isoformat(), ex] for e, c, p, n, ls, ex in rows],
    }


RUNNERS = {
    "violations": violations,
    "trends": trends,
    "funnel": funnel,
    "retention": retention,
    "active_users": active_users,
    "top_events": top_events,
    "quality": quality,
}


def run(product_id: int, spec: dict, *, today: date | None = None) -> dict:
    """Validate and run a spec for one product; the result is JSON-serialisable."""
    normalised = normalise(spec, today=today)
    result = RUNNERS[normalised["type"]](product_id, normalised)
    result["date_from"] = normalised["date_from"].isoformat()
    result["date_to"] = normalised["date_to"].isoformat()
    return result


def merge_filters(spec: dict, *, date_from: Any = None, date_to: Any = None, filters: list | None = None) -> dict:
    """A tile's spec with a dashboard's filters applied (dashboard dates win; filters add up)."""
    out = dict(spec)
    if date_from:
        out["date_from"] = date_from
    if date_to:
        out["date_to"] = date_to
    if filters:
        out["filters"] = [*(spec.get("filters") or []), *filters]
    return out
