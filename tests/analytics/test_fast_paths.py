"""The rollup-backed fast paths (retention from activity bitmaps, funnels over the covering
index) give exactly what a straightforward computation over the raw events gives."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from analytics import queries, rollups, services
from analytics.models import Event, UserActivityBits, UserDailyActivity

TODAY = datetime.now(UTC).date()


def at(d: date, hour: int = 12, minute: int = 0) -> str:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=UTC).isoformat()


def random_events(seed: int, *, users: int = 40, n: int = 600, days: int = 80) -> list[dict]:
    rng = random.Random(seed)
    names = ["app_opened", "product_viewed", "cart_viewed", "order_completed"]
    out = []
    for _ in range(n):
        d = TODAY - timedelta(days=int(rng.random() ** 1.5 * days))
        out.append(
            {
                "event": rng.choices(names, weights=[6, 4, 2, 1])[0],
                "distinct_id": f"u{int(rng.random() ** 2 * users)}",
                "timestamp": at(d, rng.randrange(24), rng.randrange(60)),
            }
        )
    return out


def raw_activity(product) -> set[tuple[str, date]]:
    return {
        (e.distinct_id, e.timestamp.astimezone(UTC).date())
        for e in Event.objects.filter(product=product, status="accepted")
    }


def reference_retention(product, spec: dict) -> dict:
    """The definition, in plain Python over raw events: cohort by first active day in the range,
    period k = (day - first day) // step, counted once per user."""
    spec = queries.normalise(spec, today=TODAY)
    step = 7 if spec["period"] == "week" else 1
    date_from = queries._bucket(spec["date_from"], "week") if step == 7 else spec["date_from"]
    days_by_user: dict[str, set[date]] = {}
    for user, day in raw_activity(product):
        if date_from <= day <= spec["date_to"]:
            days_by_user.setdefault(user, set()).add(day)
    grid: dict[int, dict[int, set[str]]] = {}
    for user, days in days_by_user.items():
        first = min(days)
        cohort = (first - date_from).days // step
        for day in days:
            k = (day - first).days // step
            if k < spec["periods"]:
                grid.setdefault(cohort, {}).setdefault(k, set()).add(user)
    rows = [(c, k, len(users)) for c, ks in grid.items() for k, users in ks.items()]
    return queries._retention_grid(rows, date_from=date_from, spec=spec, step=step)


def reference_funnel(product, steps: list[str], date_from: date, date_to: date, window_days: int) -> list[int]:
    start = datetime.combine(date_from, datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(date_to + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    window = timedelta(days=window_days)
    by_user: dict[str, list[tuple[datetime, str]]] = {}
    for e in Event.objects.filter(product=product, status="accepted"):
        by_user.setdefault(e.distinct_id, []).append((e.timestamp, e.event))
    counts = [0] * len(steps)
    for events in by_user.values():
        firsts = [t for t, name in events if name == steps[0] and start <= t < end]
        if not firsts:
            continue
        t0 = t = min(firsts)
        counts[0] += 1
        for i, step in enumerate(steps[1:], start=1):
            later = [u for u, name in events if name == step and t <= u <= t0 + window and start <= u < end + window]
            if not later:
                break
            t = min(later)
            counts[i] += 1
    return counts


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2])
def test_retention_from_bitmaps_matches_raw_events(product, seed):
    services.events_ingest(product=product, events=random_events(seed))
    rollups.rollup_dirty_days()
    specs = [
        {"type": "retention", "period": "week", "periods": 8, "date_from": "-63d"},
        {"type": "retention", "period": "week", "periods": 4, "date_from": "-40d", "date_to": "-5d"},
        {"type": "retention", "period": "day", "periods": 10, "date_from": "-20d"},
        {"type": "retention", "period": "day", "periods": 5, "date_from": "-30d", "date_to": "-12d"},
    ]
    for spec in specs:
        fast = queries.run(product.pk, spec, today=TODAY)
        expected = reference_retention(product, spec)
        assert fast["cohorts"] == expected["cohorts"], spec
        assert fast["cohorts"], spec  # the data does fill the grid


@pytest.mark.django_db
def test_activity_bitmaps_follow_late_events_and_rerolls(product):
    services.events_ingest(product=product, events=random_events(3, n=200))
    rollups.rollup_dirty_days()
    expected_bits = bitmaps_from_user_days(product)
    assert current_bitmaps(product) == expected_bits
    # re-rolling changes nothing (idempotent)
    rollups.rollup_range(product_id=product.pk, first=TODAY - timedelta(days=80), last=TODAY)
    assert current_bitmaps(product) == expected_bits
    # a late event before a user's first day and one inside their span both land in the bitmap
    first = UserActivityBits.objects.get(product=product, distinct_id="u0").first_day
    late = [
        {"event": "app_opened", "distinct_id": "u0", "timestamp": at(first - timedelta(days=3))},
        {"event": "app_opened", "distinct_id": "newcomer", "timestamp": at(TODAY - timedelta(days=50))},
    ]
    services.events_ingest(product=product, events=late)
    rollups.rollup_dirty_days()
    bits = current_bitmaps(product)
    assert bits == bitmaps_from_user_days(product)
    assert bits["u0"][0] == first - timedelta(days=3) and bits["u0"][2].startswith("1001")
    assert bits["newcomer"] == (TODAY - timedelta(days=50), TODAY - timedelta(days=50), "1")
    spec = {"type": "retention", "period": "week", "periods": 8, "date_from": "-80d"}
    assert queries.run(product.pk, spec, today=TODAY)["cohorts"] == reference_retention(product, spec)["cohorts"]


@pytest.mark.django_db
def test_activity_bitmaps_drop_users_whose_events_are_gone(product):
    services.events_ingest(product=product, events=random_events(4, n=100))
    rollups.rollup_dirty_days()
    Event.objects.filter(product=product, distinct_id="u0").delete()
    rollups.rollup_range(product_id=product.pk, first=TODAY - timedelta(days=80), last=TODAY)
    assert "u0" not in current_bitmaps(product)
    assert current_bitmaps(product) == bitmaps_from_user_days(product)


def current_bitmaps(product) -> dict[str, tuple[date, date, str]]:
    return {b.distinct_id: (b.first_day, b.last_day, b.days) for b in UserActivityBits.objects.filter(product=product)}


def bitmaps_from_user_days(product) -> dict[str, tuple[date, date, str]]:
    days: dict[str, set[date]] = {}
    for user, day in UserDailyActivity.objects.filter(product=product).values_list("distinct_id", "day"):
        days.setdefault(user, set()).add(day)
    out = {}
    for user, ds in days.items():
        first, last = min(ds), max(ds)
        bits = "".join("1" if first + timedelta(days=i) in ds else "0" for i in range((last - first).days + 1))
        out[user] = (first, last, bits)
    return out


@pytest.mark.django_db
@pytest.mark.parametrize("window_days", [1, 7])
def test_funnel_matches_raw_events(product, window_days):
    services.events_ingest(product=product, events=random_events(5, users=12, n=800, days=40))
    rollups.rollup_dirty_days()
    steps = ["app_opened", "product_viewed", "cart_viewed", "order_completed"]
    spec = {"type": "funnel", "steps": steps, "window_days": window_days, "date_from": "-30d", "date_to": "-3d"}
    result = queries.run(product.pk, spec, today=TODAY)
    expected = reference_funnel(product, steps, TODAY - timedelta(days=30), TODAY - timedelta(days=3), window_days)
    assert [s["count"] for s in result["steps"]] == expected
    assert expected[2] > 0  # the data goes past the second step
