"""POST /api/v1/events/batch: per-event results, idempotency, enforcement, clear 4xx."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from analytics import services
from analytics.models import Event, RejectedEvent
from tests.analytics.conftest import make_source

URL = "/api/v1/events/batch"
NOW = datetime.now(UTC)


def post(client, key, body, **extra):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}", **extra)


def good(**over):
    event = {
        "uuid": str(uuid.uuid4()),
        "event": "order_completed",
        "distinct_id": "u1",
        "timestamp": NOW.isoformat(),
        "properties": {"amount": 12.5, "currency": "USD"},
    }
    event.update(over)
    return event


@pytest.mark.django_db
def test_valid_batch_is_stored_and_counted(client, plan, source_key):
    source, key = source_key
    response = post(client, key, {"batch": [good(), good(distinct_id="u2")]})
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 2 and body["rejected"] == 0
    assert [r["status"] for r in body["results"]] == ["accepted", "accepted"]
    events = list(Event.objects.order_by("distinct_id"))
    assert [e.distinct_id for e in events] == ["u1", "u2"]
    assert events[0].source == source and events[0].properties["amount"] == 12.5 and events[0].reasons == []


@pytest.mark.django_db
def test_resending_same_uuid_is_a_duplicate_noop(client, plan, source_key):
    _source, key = source_key
    event = good()
    assert post(client, key, {"batch": [event]}).json()["accepted"] == 1
    again = post(client, key, {"batch": [event, event]}).json()
    assert again["accepted"] == 0
    assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate"]
    assert Event.objects.count() == 1


@pytest.mark.django_db
def test_every_violation_reason_in_quarantine_mode(client, plan, product):
    _source, key = make_source(product, "quarantine")
    batch = [
        good(event="mystery_clicked"),
        good(event="cart_viewed", properties={}),
        good(properties={"currency": "USD"}),
        good(properties={"amount": "12"}),
        good(properties={"amount": 3, "currency": "GBP"}),
        good(timestamp=(NOW + timedelta(days=3)).isoformat()),
        good(timestamp=(NOW - timedelta(days=800)).isoformat()),
    ]
    body = post(client, key, {"batch": batch}).json()
    assert body["quarantined"] == 7 and body["accepted"] == 0
    reasons = [r["reasons"] for r in body["results"]]
    assert reasons[0] == [f"Unknown event 'mystery_clicked': not in the tracking plan of {product.name}."]
    assert reasons[1] == ["Event 'cart_viewed' is deprecated in the tracking plan."]
    assert reasons[2] == ["Required property 'amount' is missing."]
    assert reasons[3] == ["Property 'amount' should be a number, got string."]
    assert reasons[4] == ["Property 'currency' value 'GBP' is not one of: EUR, USD."]
    assert "ahead" in reasons[5][0] and "old" in reasons[6][0]
    assert Event.objects.filter(status="quarantined").count() == 7
    stored = Event.objects.get(event="mystery_clicked")
    assert stored.reasons[0]["code"] == "unknown_event"


@pytest.mark.django_db
def test_allow_mode_stores_flagged_and_reject_mode_keeps_refused_aside(client, plan, product, source_key):
    _allow, allow_key = source_key
    _reject, reject_key = make_source(product, "reject")
    flagged = post(client, allow_key, {"batch": [good(event="mystery_clicked")]}).json()
    assert flagged["accepted"] == 1 and flagged["results"][0]["reasons"]
    assert Event.objects.get().status == "accepted"
    refused = post(client, reject_key, {"batch": [good(event="mystery_clicked"), good()]}).json()
    assert [r["status"] for r in refused["results"]] == ["rejected", "accepted"]
    kept = RejectedEvent.objects.get()
    assert kept.event == "mystery_clicked" and kept.reasons[0]["code"] == "unknown_event"
    assert kept.payload["distinct_id"] == "u1"


@pytest.mark.django_db
def test_structurally_broken_events_are_rejected_per_event_and_kept(client, plan, source_key):
    _source, key = source_key
    batch = [
        "not an object",
        {"distinct_id": "u1"},
        good(distinct_id=""),
        good(timestamp="yesterday"),
        good(uuid="nope"),
        good(properties=[1, 2]),
        good(),
    ]
    body = post(client, key, {"batch": batch}).json()
    assert body["rejected"] == 6 and body["accepted"] == 1
    reasons = [r["reasons"] for r in body["results"]]
    assert reasons[0] == ["Each event must be a JSON object, got string."]
    assert reasons[1] == ["'event' is required: a non-empty string (got null)."]
    assert reasons[2] == ["'distinct_id' is required: a non-empty string (got string)."]
    assert reasons[3] == ["'timestamp' must be ISO-8601 (got 'yesterday')."]
    assert reasons[4] == ["'uuid' is not a UUID (got 'nope')."]
    assert reasons[5] == ["'properties' must be an object, got array."]
    assert RejectedEvent.objects.count() == 6  # nothing received is silently lost


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ("{not json", 400, "Malformed JSON: Expecting property name enclosed in double quotes at line 1 column 2."),
        ("[1, 2]", 400, "Wrong shape: the body must be a JSON object with a 'batch' list, got array."),
        ('{"events": []}', 400, "Wrong shape: 'batch' must be a list of events, got nothing."),
        ('{"batch": []}', 400, "Wrong shape: 'batch' is empty; send 1 to 1,000 events."),
        ("", 400, 'Empty body: send a JSON object like {"batch": [...]}.'),
    ],
)
def test_bad_bodies_get_400_naming_the_problem(client, source_key, body, status, detail):
    _source, key = source_key
    response = post(client, key, body)
    assert response.status_code == status
    assert response.json() == {"detail": detail}


@pytest.mark.django_db
def test_too_many_events_and_too_large_body_get_413(client, plan, source_key):
    _source, key = source_key
    response = post(client, key, {"batch": [good() for _ in range(1001)]})
    assert response.status_code == 413
    assert response.json()["detail"] == "Too many events: 1,001 in one batch; the limit is 1,000."
    huge = {"batch": [good(properties={"amount": 1, "blob": "x" * 6_000_000})]}
    response = post(client, key, huge)
    assert response.status_code == 413
    assert response.json()["detail"].startswith("Request body too large: the limit is 5 MB")
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_bad_missing_and_revoked_keys_get_401(client, plan, source_key):
    source, key = source_key
    assert post(client, "wk_wrong", {"batch": [good()]}).status_code == 401
    missing = client.post(URL, data="{}", content_type="application/json")
    assert missing.status_code == 401
    assert missing.json()["detail"].startswith("Missing write key")
    services.source_revoke(source=source, by=None)
    revoked = post(client, key, {"batch": [good()]})
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["detail"]
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_batch_insert_uses_few_queries(client, plan, source_key, django_assert_max_num_queries):
    _source, key = source_key
    batch = [good(distinct_id=f"u{i}") for i in range(500)]
    with django_assert_max_num_queries(12):
        response = post(client, key, {"batch": batch})
    assert response.json()["accepted"] == 500


@pytest.mark.django_db
def test_internal_callers_ingest_without_source(plan, product):
    result = services.events_ingest(product=product, events=[good(), good(event="mystery_clicked")])
    assert result.accepted == 2
    assert result.results[1]["reasons"]
    assert Event.objects.filter(source__isnull=True).count() == 2


@pytest.mark.django_db
def test_create_source_command_prints_key_once(product, capsys, client, plan):
    call_command("create_source", "ios-app", "--product", product.slug, "--enforcement", "quarantine")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("wk_")
    assert post(client, key, {"batch": [good()]}).json()["accepted"] == 1


@pytest.mark.django_db
def test_nul_and_lone_surrogates_are_rejected_not_500(client, plan, source_key):
    _source, key = source_key
    body = (
        '{"batch": [{"event": "order_completed", "distinct_id": "u\\ud800", "properties": {}},'
        ' {"event": "order_completed", "distinct_id": "u1", "properties": {"coupon": "a\\u0000b"}},'
        ' {"event": "order_completed", "distinct_id": "u1", "properties": {"coupon": "\\udfff"}},'
        ' {"event": "bad\\ud800name\\u0000", "distinct_id": "u1"}]}'
    )
    response = post(client, key, body)
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["rejected"] * 4
    assert RejectedEvent.objects.count() == 4


@pytest.mark.django_db
def test_uuid_spellings_are_one_event_and_bad_ones_are_named(client, plan, source_key):
    _source, key = source_key
    u = uuid.uuid4()
    spellings = [str(u), str(u).upper(), u.hex, "{" + str(u) + "}", u.urn]
    body = post(client, key, {"batch": [good(uuid=s) for s in spellings] + [good(uuid="not-a-uuid")]}).json()
    assert [r["status"] for r in body["results"]] == ["accepted"] + ["duplicate"] * 4 + ["rejected"]
    assert body["results"][-1]["reasons"] == ["'uuid' is not a UUID (got 'not-a-uuid')."]
    assert list(Event.objects.values_list("uuid", flat=True)) == [u]
    again = post(client, key, {"batch": [good(uuid=str(u).upper())]}).json()
    assert again["results"][0]["status"] == "duplicate"


@pytest.mark.django_db
def test_values_the_fast_json_parser_refuses_are_stored_as_before(client, plan, source_key):
    """orjson reads integers beyond 64 bits as floats and refuses NaN; the standard parser takes
    over for those bodies, so values are stored exactly as before."""
    _source, key = source_key
    big = 2**70
    response = post(client, key, {"batch": [good(properties={"amount": big, "n": 0.1})]})
    assert response.status_code == 200 and response.json()["accepted"] == 1
    stored = Event.objects.get().properties
    assert stored == {"amount": big, "n": 0.1}
    nan = post(client, key, {"batch": [good(properties={"ratio": float("nan")})]})  # json.dumps writes NaN
    assert nan.status_code == 200  # JSON has no NaN and neither has jsonb: it is stored as null
    assert Event.objects.filter(properties__ratio=None).count() == 1
    assert response["Content-Type"] == "application/json"
