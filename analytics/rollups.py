"""Rollups: recomputing a (product, day) from raw events. Idempotent: delete + insert in one
transaction, so re-running a day gives the same rows and late events re-roll their day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction

from analytics import funnels
from analytics.models import DirtyDay, FunnelRollup

_EVENT_DAILY = """
INSERT INTO analytics_eventdailyrollup (product_id, day, event, count, uniques, flagged, quarantined)
SELECT product_id, (timestamp AT TIME ZONE 'UTC')::date, event,
       count(*) FILTER (WHERE status = 'accepted'),
       count(DISTINCT distinct_id) FILTER (WHERE status = 'accepted'),
       count(*) FILTER (WHERE status = 'accepted' AND reasons <> '[]'::jsonb),
       count(*) FILTER (WHERE status = 'quarantined')
FROM analytics_event
WHERE product_id = %(product)s AND timestamp >= %(start)s AND timestamp < %(end)s
GROUP BY 1, 2, 3
"""

_USER_DAILY = """
INSERT INTO analytics_userdailyactivity (product_id, day, distinct_id, events)
SELECT product_id, (timestamp AT TIME ZONE 'UTC')::date, distinct_id, count(*)
FROM analytics_event
WHERE product_id = %(product)s AND timestamp >= %(start)s AND timestamp < %(end)s AND status = 'accepted'
GROUP BY 1, 2, 3
"""


# Users whose activity bitmap must be rebuilt: those of the re-rolled days, before and after.
_TOUCHED_CREATE = "CREATE TEMP TABLE IF NOT EXISTS analytics_rollup_touched (distinct_id text)"
_TOUCHED_ADD = """
INSERT INTO analytics_rollup_touched (distinct_id)
SELECT DISTINCT distinct_id FROM analytics_userdailyactivity
WHERE product_id = %(product)s AND day BETWEEN %(first)s AND %(last)s
"""

# One row per user: bit i (from the left) is set when the user was active on first_day + i.
# Each user-day contributes a string with one '1' at its offset, padded to the user's span; the
# OR of them is the bitmap (every string of a user has the same length, as bit_or requires).
_USER_BITS = """
INSERT INTO analytics_useractivitybits (product_id, distinct_id, first_day, last_day, days)
SELECT %(product)s, distinct_id, f, l,
       bit_or(rpad(lpad('1', day - f + 1, '0'), l - f + 1, '0')::varbit)
FROM (
    SELECT distinct_id, day, min(day) OVER w AS f, max(day) OVER w AS l
    FROM analytics_userdailyactivity
    WHERE product_id = %(product)s {users}
    WINDOW w AS (PARTITION BY distinct_id)
) AS a
GROUP BY distinct_id, f, l
"""


def user_bits_rebuild(*, product_id: int, touched: bool) -> None:
    """Rebuild the activity bitmaps of the product's users: all of them, or only those listed
    in the session's analytics_rollup_touched table (the users of the days just re-rolled)."""
    users = "AND distinct_id IN (SELECT distinct_id FROM analytics_rollup_touched)" if touched else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM analytics_useractivitybits WHERE product_id = %(product)s {users}",  # noqa: S608
            {"product": product_id},
        )
        cursor.execute(_USER_BITS.format(users=users), {"product": product_id})


# Rollups of one product are serialised (a transaction-scoped advisory lock): two workers
# re-rolling the same day at once would both delete, then both insert the same keys.
_ROLLUP_LOCK_NAMESPACE = 7301


def serialise_product(product_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_ROLLUP_LOCK_NAMESPACE, product_id])


def rollup_day(*, product_id: int, day: date) -> None:
    rollup_range(product_id=product_id, first=day, last=day)


@transaction.atomic
def rollup_range(*, product_id: int, first: date, last: date, refresh_active: bool = True) -> None:
    """Recompute the rollups of days first..last (inclusive) from raw events, set-based."""
    serialise_product(product_id)
    start = datetime.combine(first, time.min, tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC)
    params = {"product": product_id, "first": first, "last": last, "start": start, "end": end}
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM analytics_eventdailyrollup WHERE product_id = %(product)s "
            "AND day BETWEEN %(first)s AND %(last)s",
            params,
        )
        cursor.execute(_TOUCHED_CREATE)
        cursor.execute("TRUNCATE analytics_rollup_touched")
        cursor.execute(_TOUCHED_ADD, params)  # users of these days before the re-roll…
        cursor.execute(
            "DELETE FROM analytics_userdailyactivity WHERE product_id = %(product)s "
            "AND day BETWEEN %(first)s AND %(last)s",
            params,
        )
        cursor.execute(_EVENT_DAILY, params)
        cursor.execute(_USER_DAILY, params)
        cursor.execute(_TOUCHED_ADD, params)  # …and after it
    user_bits_rebuild(product_id=product_id, touched=True)
    if refresh_active:  # a day's users count towards the WAU/MAU of the 29 days after it
        active_users_refresh(product_id=product_id, first=first, last=last + timedelta(days=29))
        # Outside the dirty-day sweep events may have been deleted, which a funnel refresh (it
        # follows new events) cannot see.
        funnels.rebuild_later(FunnelRollup.objects.filter(product_id=product_id))


@transaction.atomic
def active_users_refresh(*, product_id: int, first: date, last: date) -> None:
    """Recompute DAU/WAU/MAU for days first..last (capped at today) from user-day activity."""
    from analytics.queries import active_user_counts

    serialise_product(product_id)

    today = datetime.now(UTC).date()
    last = min(last, today)
    if last < first:
        return
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    activity = (
        "SELECT distinct_id, day FROM analytics_userdailyactivity WHERE product_id = %s AND day BETWEEN %s AND %s"
    )
    counts = active_user_counts(activity, [product_id, first - timedelta(days=29), last], days)
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM analytics_activeusersdaily WHERE product_id = %s AND day BETWEEN %s AND %s",
            [product_id, first, last],
        )
        cursor.execute(
            "INSERT INTO analytics_activeusersdaily (product_id, day, dau, wau, mau) "
            "SELECT %s, x.d, x.a, x.w, x.m FROM unnest(%s::date[], %s::int[], %s::int[], %s::int[]) AS x(d, a, w, m)",
            [product_id, days, counts[1], counts[7], counts[30]],
        )


_DEFINITION_STATS = """
WITH s AS (
    SELECT event,
           coalesce(sum(count) FILTER (WHERE day > (now() AT TIME ZONE 'UTC')::date - 30), 0) AS v,
           min(day) FILTER (WHERE count > 0) AS first_day,
           max(day) FILTER (WHERE count > 0) AS last_day
    FROM analytics_eventdailyrollup WHERE product_id = %(product)s GROUP BY event
)
UPDATE analytics_eventdefinition d
SET volume_30d = s.v,
    first_seen = s.first_day::timestamp AT TIME ZONE 'UTC',
    last_seen = LEAST(now(), (s.last_day + 1)::timestamp AT TIME ZONE 'UTC' - interval '1 second'),
    status = CASE WHEN d.status = 'planned' AND s.last_day IS NOT NULL THEN 'active' ELSE d.status END
FROM s
WHERE d.product_id = %(product)s AND d.name = s.event
"""


def definitions_refresh_stats(*, product_id: int) -> None:
    """First/last seen and 30-day volume on the plan; a planned event that arrives becomes active."""
    with connection.cursor() as cursor:
        cursor.execute(_DEFINITION_STATS, {"product": product_id})


def rollup_dirty_days(limit: int = 1000) -> int:
    """Re-roll the dirty days; a day marked again while it was being rolled stays dirty."""
    done = 0
    spans: dict[int, tuple[date, date]] = {}
    for row in DirtyDay.objects.order_by("marked_at")[:limit]:
        with transaction.atomic():
            rollup_range(product_id=row.product_id, first=row.day, last=row.day, refresh_active=False)
            funnels.mark_stale(product_id=row.product_id, first=row.day, last=row.day)
            DirtyDay.objects.filter(pk=row.pk, marked_at=row.marked_at).delete()
        first, last = spans.get(row.product_id, (row.day, row.day))
        spans[row.product_id] = (min(first, row.day), max(last, row.day))
        done += 1
    for product_id, (first, last) in spans.items():
        active_users_refresh(product_id=product_id, first=first, last=last + timedelta(days=29))
        definitions_refresh_stats(product_id=product_id)
    funnels.sweep()
    return done
