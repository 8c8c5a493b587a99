"""Oversized bodies, deep JSON, wrong types and unicode edge cases against every API
route that accepts writes, plus the two ingestion paths with real credentials.

Each must end in a clear 4xx (never a 5xx) and, when refused, store nothing at all
(checked with a fingerprint of every table).
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client

from analytics import services as analytics_services
from analytics.models import Event
from feedback.models import FeedbackItem
from portal import tokens
from tests.factories import ProductFactory, UserFactory
from tests.feedback.factories import SourceFactory
from tests.reliability.support import TableWatch
from tests.reliability.urlwalk import all_routes

pytestmark = pytest.mark.django_db

NUL = "a\u0000b"
LONE_SURROGATE = "\ud800"
UNICODE_OK = "Zoë 👩🏽‍💻 \u202eRTL\u202c e\u0301" + "\u0301" * 200

# Raw bodies (bytes) and what they exercise.
HOSTILE_BODIES: dict[str, bytes] = {
    "oversized": b'{"items": ["' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024) + b'"]}',
    "deep-json": b"[" * 50_000 + b"]" * 50_000,
    "deep-object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "not-json": b"{'items': nope",
    "not-utf8": b'{"items": ["\xff\xfe"]}',
    "json-array": b"[]",
    "json-string": b'"items"',
    "json-number": b"12345678901234567890123456789",
    "nul-in-strings": json.dumps({"items": [NUL], "name": NUL, "title": NUL, "text": NUL}).encode(),
    "lone-surrogate": b'{"name": "\\ud800", "title": "\\ud800", "text": "\\udfff"}',
    "wrong-types": json.dumps({"items": "x", "name": ["x"], "title": {"a": 1}, "batch": 3}).encode(),
    "huge-number": b'{"rating": 1e999, "amount": -1e999, "n": 123456789012345678901234567890}',
}


@pytest.fixture
def ops_token(db):
    ops = UserFactory(role="ops_lead")
    return tokens.api_token_create(user=ops, name="hostile")[1]


def _write_routes():
    return [r for r in all_routes() if r.is_api and "schema" not in r.template and "docs" not in r.template]


@pytest.mark.parametrize("kind", sorted(HOSTILE_BODIES))
def test_every_api_write_answers_hostile_bodies_with_a_4xx_and_stores_nothing(ops_token, kind):
    client = Client()
    body = HOSTILE_BODIES[kind]
    failures = []
    watch = TableWatch()
    for route in _write_routes():
        response = client.generic(
            "POST",
            route.path(),
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {ops_token}",
        )
        changed = watch.changes()
        if response.status_code >= 500 or (response.status_code >= 400 and changed):
            failures.append(f"{route.template} -> {response.status_code}, changed {changed}")
    assert not failures, "\n".join(failures)


@pytest.fixture
def write_key(db):
    product = ProductFactory(slug="hostile")
    return analytics_services.source_create(product=product, name="web")[1]


def _event(i, **over):
    return {"event": "order_completed", "distinct_id": f"u{i}", "timestamp": "2026-11-20T10:00:00Z", **over}


@pytest.mark.parametrize(
    "bad_event",
    [
        {"properties": {"note": NUL}},
        {"properties": {"note": LONE_SURROGATE}},
        {"distinct_id": NUL},
        {"event": LONE_SURROGATE},
        {"properties": {"k" * 10_000: 1}},
        {"timestamp": "2026-13-45T99:00:00Z"},
        {"timestamp": 12},
        {"properties": "not an object"},
    ],
    ids=["nul-prop", "surrogate-prop", "nul-id", "surrogate-event", "huge-key", "bad-date", "int-date", "props-str"],
)
def test_event_batch_with_one_poisoned_event_is_all_or_per_event_never_500(write_key, bad_event):
    """A batch holding one hostile event: a 4xx, or 200 with that event rejected. The good
    events are stored exactly once either way, never a 500 with half a batch."""
    client = Client()
    batch = [_event(0), _event(1, **bad_event), _event(2)]
    raw = json.dumps({"batch": batch}, ensure_ascii=True)
    before = Event.objects.count()
    response = client.post(
        "/api/v1/events/batch", raw, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {write_key}"
    )
    assert response.status_code < 500, response.content[:300]
    stored = Event.objects.count() - before
    if response.status_code >= 400:
        assert stored == 0
    else:
        assert stored in (2, 3)
        assert Event.objects.filter(distinct_id__in=["u0", "u2"]).count() == 2


def test_unicode_that_is_valid_is_stored_exactly(write_key):
    client = Client()
    response = client.post(
        "/api/v1/events/batch",
        json.dumps({"batch": [_event(7, properties={"note": UNICODE_OK})]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {write_key}",
    )
    assert response.status_code == 200, response.content
    assert Event.objects.get(distinct_id="u7").properties["note"] == UNICODE_OK


@pytest.mark.parametrize("text", [NUL, LONE_SURROGATE, "x" * 2_000_000])
def test_feedback_item_with_hostile_text_is_refused_or_stored_clean(ops_token, text):
    SourceFactory(slug="support-desk")
    client = Client()
    body = {"items": [{"source": "support-desk", "external_id": "h1", "text": text}]}
    response = client.post(
        "/api/v1/feedback/items",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {ops_token}",
    )
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert not FeedbackItem.objects.filter(external_id="h1").exists()
    else:
        item = FeedbackItem.objects.get(external_id="h1")
        assert "\u0000" not in item.text
