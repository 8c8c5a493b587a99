"""Rollups (idempotent, late events re-roll their day) and the insight engine."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest

from analytics import queries, rollups, services
from analytics.models import DirtyDay, EventDailyRollup, EventDefinition, UserDailyActivity

TODAY = datetime.now(UTC).date()


def at(days_ago: int, hour: int = 12) -> str:
    d = TODAY - timedelta(days=days_ago)
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC).isoformat()


def ev(name, user, days_ago, hour=12, **props):
    return {"event": name, "distinct_id": user, "timestamp": at(days_ago, hour), "properties": props}


def ingest_and_roll(product, events):
    services.events_ingest(product=product, events=events)
    rollups.rollup_dirty_days()


@pytest.mark.django_db
def test_rollup_is_idempotent_and_late_events_reroll_their_day(product):
    ingest_and_roll(product, [ev("page_viewed", "a", 3), ev("page_viewed", "a", 3), ev("page_viewed", "b", 3)])
    row = EventDailyRollup.objects.get(product=product, event="page_viewed")
    assert (row.count, row.uniques, row.flagged) == (3, 2, 3)  # unknown event: flagged in allow mode
    rollups.rollup_day(product_id=product.pk, day=TODAY - timedelta(days=3))
    assert EventDailyRollup.objects.count() == 1 and UserDailyActivity.objects.count() == 2
    ingest_and_roll(product, [ev("page_viewed", "c", 3, hour=1)])  # late event for the same day
    row = EventDailyRollup.objects.get(product=product, event="page_viewed")
    assert (row.count, row.uniques) == (4, 3)
    assert DirtyDay.objects.count() == 0


@pytest.mark.django_db
def test_quarantined_events_are_not_counted(product):
    source, _key = services.source_create(product=product, name="strict", enforcement="quarantine")
    services.events_ingest(product=product, events=[ev("mystery", "a", 1)], source=source)
    services.events_ingest(product=product, events=[ev("mystery", "b", 1)])
    rollups.rollup_dirty_days()
    row = EventDailyRollup.objects.get()
    assert (row.count, row.quarantined) == (1, 1)
    assert list(UserDailyActivity.objects.values_list("distinct_id", flat=True)) == ["b"]


@pytest.mark.django_db
def test_rollups_update_the_plan_seen_dates_and_activate_planned_events(product):
    definition = services.event_definition_create(product=product, name="order_completed")
    assert definition.status == "planned"
    ingest_and_roll(product, [ev("order_completed", "a", 5), ev("order_completed", "b", 2)])
    definition.refresh_from_db()
    assert definition.status == "active" and definition.volume_30d == 2
    assert definition.first_seen.date() == TODAY - timedelta(days=5)
    assert definition.last_seen.date() == TODAY - timedelta(days=2)


@pytest.mark.django_db(transaction=True)
def test_worker_rolls_up_after_ingestion(product, celery_worker_thread):
    services.events_ingest(product=product, events=[ev("page_viewed", "a", 0), ev("page_viewed", "b", 0)])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not EventDailyRollup.objects.exists():
        time.sleep(0.1)
    assert EventDailyRollup.objects.get().uniques == 2


@pytest.mark.django_db
def test_trends_count_uniques_sum_avg_and_breakdown(product):
    ingest_and_roll(
        product,
        [
            ev("order_completed", "a", 2, amount=10, country="US"),
            ev("order_completed", "a", 2, amount=30, country="US"),
            ev("order_completed", "b", 1, amount=5, country="DE"),
        ],
    )
    spec = {"type": "trends", "date_from": "-3d", "events": ["order_completed"]}
    result = queries.run(product.pk, spec)
    assert result["source"] == "rollup" and result["x"][0] == (TODAY - timedelta(days=3)).isoformat()
    assert result["series"][0]["values"] == [0, 2, 1, 0]
    uniques = queries.run(product.pk, {**spec, "events": [{"event": "order_completed", "math": "uniques"}]})
    assert uniques["series"][0]["values"] == [0, 1, 1, 0]
    total = queries.run(
        product.pk, {**spec, "events": [{"event": "order_completed", "math": "sum", "property": "amount"}]}
    )
    assert total["source"] == "raw" and total["series"][0]["values"] == [0, 40, 5, 0]
    avg = queries.run(
        product.pk, {**spec, "events": [{"event": "order_completed", "math": "avg", "property": "amount"}]}
    )
    assert avg["series"][0]["values"] == [0, 20, 5, 0]
    split = queries.run(product.pk, {**spec, "breakdown": "country"})
    assert {s["name"]: s["values"] for s in split["series"]} == {
        "order_completed · US": [0, 2, 0, 0],
        "order_completed · DE": [0, 0, 1, 0],
    }
    filtered = queries.run(product.pk, {**spec, "filters": [{"property": "country", "op": "eq", "value": "DE"}]})
    assert filtered["series"][0]["values"] == [0, 0, 1, 0]
    weekly = queries.run(product.pk, {**spec, "interval": "month", "date_from": "-1d", "date_to": "-1d"})
    assert weekly["series"][0]["values"] == [1]


@pytest.mark.django_db
def test_funnel_orders_steps_within_the_window(product):
    ingest_and_roll(
        product,
        [
            ev("cart_viewed", "a", 10),
            ev("checkout_started", "a", 10, hour=13),
            ev("order_completed", "a", 9),
            ev("cart_viewed", "b", 10),
            ev("checkout_started", "b", 10, hour=14),
            ev("order_completed", "b", 1),  # outside a 7-day window
            ev("checkout_started", "c", 10),  # never viewed the cart
            ev("cart_viewed", "c", 10, hour=15),
        ],
    )
    result = queries.run(
        product.pk,
        {"type": "funnel", "steps": ["cart_viewed", "checkout_started", "order_completed"], "date_from": "-14d"},
    )
    assert [s["count"] for s in result["steps"]] == [3, 2, 1]
    assert [s["drop_off"] for s in result["steps"]] == [0, 1, 1]
    assert result["steps"][2]["conversion"] == pytest.approx(1 / 3)


@pytest.mark.django_db
def test_retention_grid_and_active_users(product):
    base = TODAY - timedelta(days=TODAY.weekday()) - timedelta(days=14)  # a Monday two weeks ago
    offset = (TODAY - base).days
    ingest_and_roll(
        product,
        [
            ev("app_opened", "a", offset),
            ev("app_opened", "b", offset),
            ev("app_opened", "a", offset - 7),
            ev("app_opened", "c", offset - 7),
            ev("app_opened", "a", offset - 8),
        ],
    )
    grid = queries.run(product.pk, {"type": "retention", "period": "week", "periods": 3, "date_from": base.isoformat()})
    cohorts = {c["cohort"]: c for c in grid["cohorts"]}
    assert cohorts[base.isoformat()]["values"][:2] == [2, 1]
    assert cohorts[base.isoformat()]["shares"][1] == 0.5
    assert cohorts[(base + timedelta(days=7)).isoformat()]["size"] == 1

    active = queries.run(product.pk, {"type": "active_users", "date_from": base.isoformat()})
    series = {s["name"]: s["values"] for s in active["series"]}
    day = {d: i for i, d in enumerate(active["x"])}
    second_week = (base + timedelta(days=7)).isoformat()
    assert series["DAU"][day[base.isoformat()]] == 2
    assert series["DAU"][day[second_week]] == 2
    assert series["WAU"][day[second_week]] == 2  # a and c; b was last seen 7 days before
    assert series["MAU"][day[second_week]] == 3
    assert series["MAU"][day[(base + timedelta(days=8)).isoformat()]] == 3
    assert active["stickiness"][day[second_week]] == pytest.approx(2 / 3, abs=1e-3)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "pie"}, "type: must be one of"),
        ({"type": "trends"}, "events: a trend needs at least one event."),
        ({"type": "trends", "events": [{"event": "x", "math": "sum"}]}, "events[0].property: sum needs"),
        ({"type": "funnel", "steps": ["a"]}, "steps: a funnel needs at least two steps."),
        ({"type": "trends", "events": ["x"], "date_from": "last week"}, "date: 'last week' is not an ISO date"),
        ({"type": "trends", "events": ["x"], "interval": "hour"}, "interval: must be day, week or month"),
    ],
)
def test_bad_specs_name_the_field(product, spec, message):
    with pytest.raises(queries.SpecError, match=message.replace("[", r"\[").replace("]", r"\]")):
        queries.run(product.pk, spec)


@pytest.mark.django_db
def test_naming_rule_refuses_new_and_renamed_definitions(product, ops_lead):
    from django.core.exceptions import ValidationError

    from tests.analytics.factories import NamingRuleFactory

    NamingRuleFactory()
    with pytest.raises(ValidationError) as exc:
        services.event_definition_create(product=product, name="OrderCompleted", by=ops_lead)
    assert exc.value.message_dict["name"] == [
        "'OrderCompleted' breaks the naming rule 'snake_case object_action' (lower snake_case, object then "
        "action, e.g. order_completed): it must match [a-z]+(_[a-z]+)+."
    ]
    ok = services.event_definition_create(product=product, name="order_completed", by=ops_lead)
    with pytest.raises(ValidationError):
        services.event_definition_update(definition=ok, by=ops_lead, name="Order")
    assert EventDefinition.objects.get().name == "order_completed"
    assert list(product.plan_changes.values_list("action", flat=True)) == ["event.create"]


def test_date_resolution():
    assert queries.resolve_date("-7d", date(2026, 1, 1), date(2026, 1, 10)) == date(2026, 1, 3)
    assert queries.resolve_date("", date(2026, 1, 1), date(2026, 1, 10)) == date(2026, 1, 1)
