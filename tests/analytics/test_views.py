"""Analytics pages: dashboards (cached tiles, filters, refresh), plan, event, quality, insights."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache

from analytics import rollups, services
from analytics.models import Dashboard, Insight, TileResult
from portal.models import AuditEntry, Notification

TODAY = datetime.now(UTC).date()


def ev(name, user, days_ago, **props):
    d = TODAY - timedelta(days=days_ago)
    return {
        "event": name,
        "distinct_id": user,
        "timestamp": datetime(d.year, d.month, d.day, 12, tzinfo=UTC).isoformat(),
        "properties": props,
    }


@pytest.fixture
def data(product, plan):
    """Tagged funnel and feature events with a few days of traffic, rolled up."""
    services.event_definition_update(definition=plan, by=None, tags=["funnel:2"])
    from analytics.models import EventDefinition

    started = EventDefinition.objects.get(product=product, name="checkout_started")
    services.event_definition_update(definition=started, by=None, tags=["funnel:1", "feature"])
    events = []
    for i in range(6):
        events.append(ev("checkout_started", f"u{i}", i % 3))
        if i % 2:
            events.append(ev("order_completed", f"u{i}", i % 3, amount=10, currency="USD"))
    events.append(ev("mystery_clicked", "u1", 1))
    services.events_ingest(product=product, events=events)
    rollups.rollup_dirty_days()
    services.dashboards_ensure_standard(products=[product])
    return product


def compute_all():
    for result in TileResult.objects.exclude(status="ready"):
        services.tile_result_compute(result_id=result.pk)


@pytest.mark.django_db
def test_every_product_gets_standard_dashboards_with_real_results(pm_client, data):
    health = Dashboard.objects.get(product=data, template__slug="product-health")
    first = pm_client.get(health.get_absolute_url())
    assert first.status_code == 200
    assert b"Computing this tile in the background" in first.content
    assert b"data-poll-url" in first.content
    compute_all()
    page = pm_client.get(health.get_absolute_url())
    html = page.content.decode()
    assert "Computing this tile" not in html
    assert "updated" in html and "just now" in html
    assert "daily, " in html and "monthly active users" in html  # the KPI sentence
    assert 'data-chart="tile-' in html
    assert set(Dashboard.objects.filter(product=data).values_list("template__slug", flat=True)) == {
        "product-health",
        "feature-adoption",
        "data-quality",
    }
    assert not TileResult.objects.filter(status="error").exists()


@pytest.mark.django_db
def test_dashboard_page_query_count_is_bounded(pm_client, data, django_assert_max_num_queries):
    health = Dashboard.objects.get(product=data, template__slug="product-health")
    pm_client.get(health.get_absolute_url())
    compute_all()
    with django_assert_max_num_queries(14):
        assert pm_client.get(health.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_filters_apply_to_every_tile_and_can_be_saved(pm_client, data):
    health = Dashboard.objects.get(product=data, template__slug="product-health")
    url = health.get_absolute_url() + "?date_from=-7d&prop=currency&op=eq&value=USD"
    pm_client.get(url)
    keys = set(TileResult.objects.filter(tile__dashboard=health).values_list("filters_key", flat=True))
    assert len(keys) == 1
    filtered = TileResult.objects.filter(tile__dashboard=health).first()
    assert filtered.filters["filters"] == [{"property": "currency", "op": "eq", "value": "USD"}]
    response = pm_client.post(
        f"/analytics/dashboards/{health.pk}/filters",
        {"date_from": "-14d", "prop": "country", "op": "eq", "value": "US"},
    )
    assert response.status_code == 302
    health.refresh_from_db()
    assert (health.date_from, health.filters) == ("-14d", [{"property": "country", "op": "eq", "value": "US"}])


@pytest.mark.django_db
def test_viewers_cannot_save_filters_or_create_dashboards(client, viewer, data):
    client.force_login(viewer)
    health = Dashboard.objects.get(product=data, template__slug="product-health")
    assert client.get(health.get_absolute_url()).status_code == 200
    assert client.post(f"/analytics/dashboards/{health.pk}/filters", {"date_from": "-7d"}).status_code == 403
    assert client.post(f"/analytics/{data.slug}/dashboards/new", {"name": "Mine"}).status_code == 403


@pytest.mark.django_db
def test_refresh_button_is_rate_limited(pm_client, data):
    health = Dashboard.objects.get(product=data, template__slug="product-health")
    cache.delete(f"analytics:dashboard-refresh:{health.pk}")
    pm_client.get(health.get_absolute_url())
    compute_all()
    first = pm_client.post(f"/analytics/dashboards/{health.pk}/refresh", {"query": ""}, follow=True)
    assert "Refreshing every tile" in first.content.decode()
    assert TileResult.objects.filter(tile__dashboard=health, status="queued").count() == health.tiles.count()
    second = pm_client.post(f"/analytics/dashboards/{health.pk}/refresh", {"query": ""}, follow=True)
    assert "refreshed less than a minute ago" in second.content.decode()


@pytest.mark.django_db
def test_pm_creates_dashboard_and_tile_audited(pm_client, pm, data):
    response = pm_client.post(f"/analytics/{data.slug}/dashboards/new", {"name": "Revenue", "description": ""})
    dashboard = Dashboard.objects.get(name="Revenue")
    assert response.url == f"/analytics/dashboards/{dashboard.pk}/tiles/new"
    assert dashboard.created_by == pm
    assert AuditEntry.objects.filter(action="dashboard.create", target_id=str(dashboard.pk)).exists()
    bad = pm_client.post(response.url, {"title": "Orders", "type": "funnel", "steps": "only_one"})
    assert "steps: a funnel needs at least two steps." in bad.content.decode()
    ok = pm_client.post(
        response.url,
        {
            "title": "Revenue",
            "type": "trends",
            "events": "order_completed",
            "math": "sum",
            "property": "amount",
            "interval": "day",
            "date_from": "-7d",
        },
    )
    assert ok.status_code == 302
    tile = dashboard.tiles.get()
    assert tile.spec["events"] == [{"event": "order_completed", "math": "sum", "property": "amount"}]
    pm_client.get(dashboard.get_absolute_url())
    compute_all()
    assert TileResult.objects.get(tile=tile).result["series"][0]["values"][-1] == 10


@pytest.mark.django_db
def test_insight_page_and_csv(pm_client, pm, data):
    insight = services.insight_create(
        product=data, name="Funnel", spec={"type": "funnel", "steps": ["checkout_started", "order_completed"]}, by=pm
    )
    page = pm_client.get(insight.get_absolute_url())
    assert page.status_code == 200 and b"went on to order_completed" in page.content
    csv = pm_client.get(f"/analytics/insights/{insight.pk}/csv")
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("step,event,users")
    assert lines[1].startswith("1,checkout_started,6") and lines[2].startswith("2,order_completed,3")
    assert Insight.objects.count() == 1


@pytest.mark.django_db
def test_plan_page_search_filters_and_query_count(pm_client, data, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        page = pm_client.get(f"/analytics/{data.slug}/plan/?q=order")
    html = page.content.decode()
    assert "order_completed" in html and "checkout_started" not in html
    deprecated = pm_client.get(f"/analytics/{data.slug}/plan/?status=deprecated").content.decode()
    assert "cart_viewed" in deprecated and "order_completed" not in deprecated
    event = pm_client.get(f"/analytics/{data.slug}/events/order_completed/")
    assert event.status_code == 200 and b"event-volume" in event.content


@pytest.mark.django_db
def test_quality_page_reports_undefined_and_violations(pm_client, data, plan):
    html = pm_client.get(f"/analytics/{data.slug}/quality/").content.decode()
    assert "mystery_clicked" in html
    assert "Unknown event &#x27;mystery_clicked&#x27;" in html
    assert "cart_viewed" not in html.split("Deprecated but still arriving")[1].split("</table>")[0]


@pytest.mark.django_db
def test_new_violation_type_alerts_the_event_owner_once(product, plan, pm):
    services.event_definition_update(definition=plan, by=None, owner=pm)
    bad = {"event": "order_completed", "distinct_id": "u", "properties": {"amount": "x"}}
    services.events_ingest(product=product, events=[bad, bad])
    services.events_ingest(product=product, events=[bad])
    from analytics.models import ViolationType

    violation = ViolationType.objects.get()
    assert violation.count == 3
    services.violation_alert_send(violation_id=violation.pk)
    services.violation_alert_send(violation_id=violation.pk)
    note = Notification.objects.get(user=pm)
    assert note.title == f"New tracking-plan violation in {product.name}: order_completed"
    assert "should be a number" in note.body


@pytest.mark.django_db
def test_plan_export_import_roundtrip_json_and_csv(client, ops_lead, product, other_product, plan):
    client.force_login(ops_lead)
    exported = client.get(f"/analytics/{product.slug}/plan/export.json")
    data = json.loads(exported.content)
    assert {e["name"] for e in data["events"]} == {"order_completed", "cart_viewed", "checkout_started"}
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("plan.json", exported.content, content_type="application/json")
    response = client.post(f"/analytics/{other_product.slug}/plan/import", {"file": upload}, follow=True)
    assert "3 events created" in response.content.decode()
    assert other_product.event_definitions.get(name="order_completed").properties.count() == 3
    csv_bytes = client.get(f"/analytics/{product.slug}/plan/export.csv").content
    assert csv_bytes.decode().splitlines()[0].startswith("event,event_description,status")
    parsed = services.plan_from_csv(csv_bytes.decode())
    again = services.plan_import(product=other_product, data=parsed, by=ops_lead)
    assert again == {"events_created": 0, "events_updated": 0, "properties_created": 0, "properties_updated": 0}
    broken = SimpleUploadedFile("plan.json", b'{"events": [{"name": "Bad Name!", "status": "nope"}]}')
    response = client.post(f"/analytics/{other_product.slug}/plan/import", {"file": broken}, follow=True)
    assert "Nothing was imported. events[0] (Bad Name!): status:" in response.content.decode()
    history = client.get(f"/analytics/{other_product.slug}/plan/history/").content.decode()
    assert "plan.import" in history


@pytest.mark.django_db
def test_pm_cannot_import_plan(pm_client, product):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("plan.json", b'{"events": []}')
    assert pm_client.post(f"/analytics/{product.slug}/plan/import", {"file": upload}).status_code == 403


@pytest.mark.django_db
def test_admin_pages_work_for_ops_leads(client, admin_user, data):
    client.force_login(admin_user)
    from analytics.models import EventDefinition

    definition = EventDefinition.objects.filter(product=data).first()
    for url in [
        "/admin/analytics/eventdefinition/",
        f"/admin/analytics/eventdefinition/{definition.pk}/change/",
        "/admin/analytics/source/",
        "/admin/analytics/source/add/",
        "/admin/analytics/namingrule/",
        "/admin/analytics/dashboardtemplate/",
        "/admin/analytics/planchange/",
    ]:
        assert client.get(url).status_code == 200, url
    response = client.post(
        "/admin/analytics/source/add/", {"product": data.pk, "name": "android", "enforcement": "reject"}, follow=True
    )
    assert "shown once" in response.content.decode()


@pytest.mark.django_db
def test_global_search_finds_dashboards_and_events(pm_client, data):
    html = pm_client.get("/search/?q=order completed").content.decode()
    assert f"/analytics/{data.slug}/events/order_completed/" in html
    html = pm_client.get("/search/?q=health").content.decode()
    assert "Product health" in html
