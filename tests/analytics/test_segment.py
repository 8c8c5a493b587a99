"""Segment HTTP Tracking API compatibility, with the real segment-analytics-python client."""

from __future__ import annotations

import base64
import gzip
import json
import uuid

import pytest

from analytics.models import Event
from tests.analytics.conftest import make_source


@pytest.mark.django_db(transaction=True)
def test_real_segment_client_events_are_stored_and_validated(live_server, plan, product):
    from segment.analytics import Client

    _source, key = make_source(product, "quarantine")
    errors = []
    client = Client(
        key,
        host=f"{live_server.url}/api/segment",
        sync_mode=True,
        gzip=True,
        on_error=lambda exc, batch: errors.append(exc),
    )
    client.track("user-1", "order_completed", {"amount": 42.0, "currency": "EUR"})
    client.track("user-1", "order_completed", {"currency": "EUR"})  # missing the required amount
    client.identify("user-1", {"plan": "pro"})
    client.page("user-2", category="docs", name="Pricing")
    client.flush()
    assert errors == []
    stored = {e.event: e for e in Event.objects.filter(status="accepted")}
    assert stored["order_completed"].distinct_id == "user-1"
    assert stored["order_completed"].properties["amount"] == 42.0
    assert stored["order_completed"].uuid is not None  # messageId → idempotency key
    quarantined = list(Event.objects.filter(status="quarantined").order_by("timestamp"))  # ids follow uuid order
    assert [(e.event, e.reasons[0]["code"]) for e in quarantined] == [
        ("order_completed", "missing_property"),
        ("user_identified", "unknown_event"),
        ("page_viewed", "unknown_event"),
    ]
    assert quarantined[2].properties["name"] == "Pricing"


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


@pytest.mark.django_db
def test_segment_track_endpoint_gzip_and_idempotent_message_id(client, plan, source_key):
    _source, key = source_key
    message = {
        "userId": "u9",
        "event": "order_completed",
        "properties": {"amount": 3},
        "messageId": "ajs-not-a-uuid-123",
        "timestamp": "2026-01-02T03:04:05Z",
    }
    body = gzip.compress(json.dumps(message).encode())
    for _ in range(2):
        response = client.post(
            "/api/segment/v1/track",
            data=body,
            content_type="application/json",
            HTTP_CONTENT_ENCODING="gzip",
            HTTP_AUTHORIZATION=basic(key),
        )
        assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "duplicate"
    event = Event.objects.get()
    assert event.uuid == uuid.uuid5(uuid.UUID("6f1d0f3e-2a7c-4f5e-9a51-3b1f2c8e0d44"), "ajs-not-a-uuid-123")


@pytest.mark.django_db
def test_segment_errors_are_clear(client, source_key):
    _source, key = source_key
    bad_key = client.post(
        "/api/segment/v1/batch", data="{}", content_type="application/json", HTTP_AUTHORIZATION=basic("wk_nope")
    )
    assert bad_key.status_code == 401
    not_gzip = client.post(
        "/api/segment/v1/batch",
        data=b"plain",
        content_type="application/json",
        HTTP_CONTENT_ENCODING="gzip",
        HTTP_AUTHORIZATION=basic(key),
    )
    assert not_gzip.json() == {"detail": "Content-Encoding is gzip but the body is not valid gzip."}
    bomb = gzip.compress(b'{"batch": "' + b"x" * 6_000_000 + b'"}')
    too_big = client.post(
        "/api/segment/v1/batch",
        data=bomb,
        content_type="application/json",
        HTTP_CONTENT_ENCODING="gzip",
        HTTP_AUTHORIZATION=basic(key),
    )
    assert too_big.status_code == 413
    unknown_type = client.post(
        "/api/segment/v1/batch",
        data=json.dumps({"batch": [{"type": "teleport", "userId": "u"}]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(key),
    )
    assert unknown_type.json()["results"][0]["status"] == "rejected"
