"""The portal measures itself: usage goes through analytics ingestion as the internal product."""

from __future__ import annotations

import time

import pytest

from analytics.models import Event, EventDefinition
from portal import usage
from portal.services import audit_record


@pytest.fixture(autouse=True)
def empty_buffer(db):
    client = usage._redis()
    client.delete(usage.buffer_key())
    usage._portal_product_id = None
    yield
    client.delete(usage.buffer_key())


def _events(name):
    return list(Event.objects.filter(product__slug="portal", event=name).order_by("timestamp"))  # ids follow uuid order


def test_internal_product_and_tracking_plan_are_created_on_first_use(db):
    product = usage.portal_product()
    assert product.is_internal and product.name == "Product Ops Portal" and product.unit.slug == "platform"
    names = set(EventDefinition.objects.filter(product=product).values_list("name", flat=True))
    assert names == {"page_viewed", "search_performed", "action_performed"}
    assert usage.portal_product_ensure().pk == product.pk  # idempotent
    assert EventDefinition.objects.filter(product=product).count() == 3


def test_page_views_are_buffered_without_a_database_write_and_flushed_by_tool(
    pm_client, pm, product, django_assert_max_num_queries
):
    pm_client.get("/")  # warm the session
    usage._redis().delete(usage.buffer_key())
    with django_assert_max_num_queries(30) as captured:
        assert pm_client.get("/").status_code == 200
    assert not [q for q in captured.captured_queries if "analytics_event" in q["sql"]]
    pm_client.get(f"/scorecard/?product={product.slug}")
    assert usage._redis().llen(usage.buffer_key()) == 2
    assert usage.flush_all() == 2
    views = _events("page_viewed")
    assert [(e.properties["tool"], e.properties["page"]) for e in views] == [
        ("portal", "home"),
        ("portal", "scorecard"),
    ]
    assert views[1].properties["product"] == product.slug
    assert views[0].distinct_id == str(pm.pk) and views[0].properties["role"] == "pm"
    assert all(e.status == "accepted" and not e.reasons for e in views)  # conforms to its own plan


def test_searches_record_result_counts_and_whether_they_found_something(pm_client, product):
    pm_client.get("/search/", {"q": product.name})
    pm_client.get("/search/", {"q": "zzqxnothing"})
    usage.flush_all()
    searches = _events("search_performed")
    assert [(e.properties["found"], e.properties["results"] > 0) for e in searches] == [(True, True), (False, False)]


def test_key_actions_from_the_audit_log_are_tracked_with_their_tool_and_product(
    pm, product, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        audit_record(actor=pm, action="seeded.outside_a_request", target=product)  # not usage
        with usage.request_scope():
            audit_record(actor=pm, action="dashboard.create", target=product)
    usage.flush_all()
    (event,) = _events("action_performed")
    assert event.properties == {
        "action": "dashboard.create",
        "tool": "analytics",
        "product": product.slug,
        "role": "pm",
    }


def test_a_broken_redis_never_breaks_a_page(pm_client, monkeypatch):
    def boom():
        raise ConnectionError("redis down")

    monkeypatch.setattr(usage, "_redis", boom)
    assert pm_client.get("/").status_code == 200


def test_flush_is_safe_to_retry_events_are_stored_once(pm):
    usage.track("page_viewed", pm, tool="portal", page="home")
    raw = usage._redis().lrange(usage.buffer_key(), 0, -1)
    usage.flush_all()
    usage._redis().rpush(usage.buffer_key(), *raw)  # a redelivered batch
    usage.flush_all()
    assert len(_events("page_viewed")) == 1


@pytest.mark.django_db(transaction=True)
def test_the_celery_task_drains_the_buffer(celery_worker_thread):
    from portal.tasks import usage_flush
    from tests.factories import UserFactory

    user = UserFactory(role="pm")
    usage._redis().delete(usage.buffer_key())
    usage.track("page_viewed", user, tool="tooling", page="index")
    usage_flush.delay()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not Event.objects.filter(event="page_viewed").exists():
        time.sleep(0.2)
    assert Event.objects.get(event="page_viewed").properties["tool"] == "tooling"
