"""Funnel rollups give exactly what the raw-event funnel gives, for any range and window, and
stay exact as late events arrive, users disappear and the rollup is rebuilt."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from analytics import funnels, queries, rollups, services
from analytics.models import Event, FunnelProgress, FunnelRollup
from tests.analytics.test_fast_paths import TODAY, at, random_events, reference_funnel

STEPS = ["app_opened", "product_viewed", "cart_viewed", "order_completed"]


def run_funnel(product, window_days: int, date_from: int, date_to: int, filters=None) -> dict:
    spec = {"type": "funnel", "steps": STEPS, "window_days": window_days, "date_from": f"-{date_from}d"}
    spec["date_to"] = f"-{date_to}d"
    if filters:
        spec["filters"] = filters
    return queries.run(product.pk, spec, today=TODAY)


def expected(product, window_days: int, date_from: int, date_to: int) -> list[int]:
    first, last = TODAY - timedelta(days=date_from), TODAY - timedelta(days=date_to)
    return reference_funnel(product, STEPS, first, last, window_days)


RANGES = [(30, 3), (60, 0), (10, 10), (45, 20), (1, 0)]


@pytest.fixture(autouse=True)
def _refresh_at_once(settings):
    settings.ANALYTICS_FUNNEL_REFRESH_SECONDS = 0  # the throttle has its own test


@pytest.mark.django_db
@pytest.mark.parametrize("window_days", [1, 3, 7])
def test_funnel_rollup_matches_raw_events_over_any_range(product, window_days):
    services.events_ingest(product=product, events=random_events(11, users=15, n=2000, days=60))
    rollups.rollup_dirty_days()
    first = run_funnel(product, window_days, 30, 3)
    assert first["source"] == "raw"  # not built yet: registered for the worker
    assert FunnelRollup.objects.get(product=product).built_at is None
    funnels.sweep()
    deepest = 0
    for date_from, date_to in RANGES:
        result = run_funnel(product, window_days, date_from, date_to)
        want = expected(product, window_days, date_from, date_to)
        assert result["source"] == "rollup"
        assert [s["count"] for s in result["steps"]] == want, (date_from, date_to)
        deepest = max(deepest, want[2])
    assert deepest > 0  # the data goes past the second step


@pytest.mark.django_db
def test_funnel_rollup_follows_late_events_and_deleted_users(product):
    services.events_ingest(product=product, events=random_events(12, users=20, n=1200, days=50))
    rollups.rollup_dirty_days()
    run_funnel(product, 7, 40, 0)
    funnels.sweep()
    before = [s["count"] for s in run_funnel(product, 7, 40, 0)["steps"]]
    # A newcomer completes the funnel across days 20..16 ago; an existing user's late step lands
    # inside an earlier window; both arrive after the rollup was built.
    late = [
        {"event": "app_opened", "distinct_id": "late", "timestamp": at(TODAY - timedelta(days=20), 9)},
        {"event": "product_viewed", "distinct_id": "late", "timestamp": at(TODAY - timedelta(days=18), 9)},
        {"event": "cart_viewed", "distinct_id": "late", "timestamp": at(TODAY - timedelta(days=17), 9)},
        {"event": "order_completed", "distinct_id": "late", "timestamp": at(TODAY - timedelta(days=16), 9)},
        {"event": "order_completed", "distinct_id": "u3", "timestamp": at(TODAY - timedelta(days=33), 23, 59)},
    ]
    services.events_ingest(product=product, events=late)
    rollups.rollup_dirty_days()  # re-rolls the days, marks the funnel stale, refreshes it
    assert FunnelRollup.objects.get(product=product).stale_from is None
    after = run_funnel(product, 7, 40, 0)
    assert after["source"] == "rollup"
    assert [s["count"] for s in after["steps"]] == expected(product, 7, 40, 0)
    assert after["steps"][3]["count"] >= before[3] + 1
    for date_from, date_to in RANGES:
        assert [s["count"] for s in run_funnel(product, 7, date_from, date_to)["steps"]] == expected(
            product, 7, date_from, date_to
        )
    # A late first step between two of a user's first-step days: the later day stops being
    # their first in ranges that now start before it.
    days = set(
        Event.objects.filter(product=product, distinct_id="u0", event="app_opened").values_list(
            "timestamp__date", flat=True
        )
    )
    gap = next(TODAY - timedelta(days=n) for n in range(25, 5, -1) if TODAY - timedelta(days=n) not in days)
    services.events_ingest(
        product=product, events=[{"event": "app_opened", "distinct_id": "u0", "timestamp": at(gap, 5)}]
    )
    rollups.rollup_dirty_days()
    for date_from in range(1, 45, 2):
        assert [s["count"] for s in run_funnel(product, 7, date_from, 0)["steps"]] == expected(product, 7, date_from, 0)
    # Events deleted and their days re-rolled: the user is gone from the funnel too.
    Event.objects.filter(product=product, distinct_id__in=["late", "u0"], timestamp__date=gap).delete()
    Event.objects.filter(product=product, distinct_id="late").delete()
    rollups.rollup_range(product_id=product.pk, first=gap, last=TODAY - timedelta(days=16))
    funnels.sweep()
    for date_from in range(1, 45, 2):
        assert [s["count"] for s in run_funnel(product, 7, date_from, 0)["steps"]] == expected(product, 7, date_from, 0)


@pytest.mark.django_db
def test_filtered_funnels_read_raw_events_and_unused_rollups_are_dropped(product):
    services.events_ingest(product=product, events=random_events(13, users=10, n=300, days=20))
    rollups.rollup_dirty_days()
    filtered = run_funnel(product, 7, 20, 0, filters=[{"property": "plan", "op": "is_set"}])
    assert filtered["source"] == "raw" and not FunnelRollup.objects.exists()  # filters: no rollup
    run_funnel(product, 7, 20, 0)
    funnels.sweep()
    rollup = FunnelRollup.objects.get()
    assert FunnelProgress.objects.filter(funnel=rollup).exists()
    FunnelRollup.objects.filter(pk=rollup.pk).update(last_used_at=rollup.last_used_at - timedelta(days=31))
    funnels.sweep()
    assert not FunnelRollup.objects.exists() and not FunnelProgress.objects.exists()


@pytest.mark.django_db
def test_funnel_spec_limits_name_the_field(product):
    with pytest.raises(queries.SpecError, match="steps: a funnel has at most 20 steps"):
        queries.run(product.pk, {"type": "funnel", "steps": [f"e{i}" for i in range(21)]})
    with pytest.raises(queries.SpecError, match="window_days: must be between 1 and 90 days"):
        queries.run(product.pk, {"type": "funnel", "steps": STEPS, "window_days": 400})
    with pytest.raises(queries.SpecError, match="window_days: must be a whole number"):
        queries.run(product.pk, {"type": "funnel", "steps": STEPS, "window_days": "a week"})


@pytest.mark.django_db(transaction=True)
def test_worker_builds_a_funnel_registered_by_a_query(product, celery_worker_thread):
    services.events_ingest(product=product, events=random_events(14, users=10, n=300, days=20))
    rollups.rollup_dirty_days()
    from django.core.cache import cache

    from analytics.tasks import ROLLUP_PENDING_KEY

    cache.delete(ROLLUP_PENDING_KEY)
    assert run_funnel(product, 7, 20, 0)["source"] == "raw"  # registers and asks the worker
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and FunnelRollup.objects.get().built_at is None:
        time.sleep(0.1)
    result = run_funnel(product, 7, 20, 0)
    assert result["source"] == "rollup"
    assert [s["count"] for s in result["steps"]] == expected(product, 7, 20, 0)


@pytest.mark.django_db
def test_funnels_catch_up_with_new_events_at_most_every_few_minutes(product, settings):
    services.events_ingest(product=product, events=random_events(15, users=10, n=300, days=20))
    rollups.rollup_dirty_days()
    run_funnel(product, 7, 20, 0)
    funnels.sweep()
    services.events_ingest(
        product=product, events=[{"event": "app_opened", "distinct_id": "new", "timestamp": at(TODAY)}]
    )
    rollups.rollup_dirty_days()  # refreshes at once: never refreshed since the build
    assert run_funnel(product, 7, 20, 0)["steps"][0]["count"] == expected(product, 7, 20, 0)[0]
    settings.ANALYTICS_FUNNEL_REFRESH_SECONDS = 300
    services.events_ingest(
        product=product, events=[{"event": "app_opened", "distinct_id": "newer", "timestamp": at(TODAY)}]
    )
    rollups.rollup_dirty_days()  # refreshed a moment ago: waits
    rollup = FunnelRollup.objects.get()
    assert rollup.stale_from == TODAY
    assert run_funnel(product, 7, 20, 0)["steps"][0]["count"] == expected(product, 7, 20, 0)[0] - 1
    FunnelRollup.objects.update(refreshed_at=rollup.refreshed_at - timedelta(minutes=5))
    rollups.rollup_dirty_days()
    assert run_funnel(product, 7, 20, 0)["steps"][0]["count"] == expected(product, 7, 20, 0)[0]


@pytest.mark.django_db
def test_a_step_repeated_later_in_the_funnel_counts_as_the_raw_funnel_does(product):
    services.events_ingest(product=product, events=random_events(16, users=12, n=800, days=30))
    rollups.rollup_dirty_days()
    steps = ["product_viewed", "app_opened", "product_viewed", "order_completed"]
    spec = {"type": "funnel", "steps": steps, "window_days": 2, "date_from": "-25d", "date_to": "-2d"}
    assert queries.run(product.pk, spec, today=TODAY)["source"] == "raw"
    funnels.sweep()
    result = queries.run(product.pk, spec, today=TODAY)
    assert result["source"] == "rollup"
    want = reference_funnel(product, steps, TODAY - timedelta(days=25), TODAY - timedelta(days=2), 2)
    assert [s["count"] for s in result["steps"]] == want and want[2] > 0


@pytest.mark.django_db
def test_ops_leads_see_funnel_rollups_in_the_admin_and_can_rebuild_one(client, admin_user, product):
    services.events_ingest(product=product, events=random_events(17, users=5, n=100, days=10))
    rollups.rollup_dirty_days()
    run_funnel(product, 7, 10, 0)
    funnels.sweep()
    rollup = FunnelRollup.objects.get()
    client.force_login(admin_user)
    page = client.get("/admin/analytics/funnelrollup/")
    assert page.status_code == 200 and "app_opened → product_viewed" in page.content.decode()
    response = client.post(
        "/admin/analytics/funnelrollup/", {"action": "rebuild", "_selected_action": [rollup.pk]}, follow=True
    )
    assert "rebuilds 1 funnel(s)" in response.content.decode()
    assert FunnelRollup.objects.get().built_at is None
    assert run_funnel(product, 7, 10, 0)["source"] == "raw"
    funnels.sweep()
    assert run_funnel(product, 7, 10, 0)["source"] == "rollup"
