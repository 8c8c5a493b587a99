import base64
import hashlib
import hmac
import json

import pytest

from feedback import services
from feedback.models import Contact, CustomerAccount, FeedbackItem, FeedbackSource
from tests.feedback.factories import SourceFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/feedback/items"


@pytest.fixture
def source():
    return SourceFactory(slug="zendesk", kind="support")


@pytest.fixture
def writer(api_client, pm):
    api_client.force_authenticate(pm)
    return api_client


def _item(n=1, **overrides):
    item = {
        "source": "zendesk",
        "external_id": f"T-{n}",
        "text": f"Checkout keeps timing out on step {n}",
        "rating": 3,
        "account": {"name": "Acme Corp", "segment": "enterprise", "arr": 120000},
        "product": None,
        "created_at": "2026-03-01T09:30:00Z",
    }
    item.update(overrides)
    return item


def test_post_items_creates_then_updates_idempotently(writer, source, product):
    body = {"items": [_item(1, product=product.slug), _item(2)]}
    first = writer.post(URL, body, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["created"] == 2
    assert [r["status"] for r in first.json()["results"]] == ["created", "created"]
    again = writer.post(URL, body, format="json")
    assert again.json()["updated"] == 2 and again.json()["created"] == 0
    assert [r["changed"] for r in again.json()["results"]] == [False, False]
    assert FeedbackItem.objects.count() == 2
    assert CustomerAccount.objects.get().arr == 120000
    item = FeedbackItem.objects.get(external_id="T-1")
    assert item.product == product and item.rating == 3 and item.raw["external_id"] == "T-1"
    assert item.state == "pending"  # stored raw first; processing comes after


def test_changed_text_is_reported_updated_and_reprocessed(writer, source):
    writer.post(URL, {"items": [_item(1)]}, format="json")
    FeedbackItem.objects.update(state="processed")
    response = writer.post(URL, {"items": [_item(1, text="Now it crashes instead")]}, format="json")
    row = response.json()["results"][0]
    assert row["status"] == "updated" and row["changed"] is True
    item = FeedbackItem.objects.get()
    assert item.text == "Now it crashes instead" and item.state == "pending"


def test_bad_items_are_rejected_with_reasons_while_good_ones_land(writer, source):
    items = [
        _item(1),
        _item(2, rating=11),
        _item(3, source="nope"),
        _item(4, text="  "),
        _item(5, created_at="yesterday"),
        _item(6, product="ghost"),
        _item(7, account={"name": "X", "segment": "huge"}),
        _item(1),
    ]
    response = writer.post(URL, {"items": items}, format="json")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["status"] for r in rows] == ["created"] + ["rejected"] * 7
    assert rows[1]["reason"] == "rating: 11 is not a whole number from 0 to 10 (or null)."
    assert rows[2]["reason"].startswith("source: Unknown source 'nope'")
    assert rows[3]["reason"] == "text: This field is required and may not be blank."
    assert rows[4]["reason"].startswith("created_at: 'yesterday' is not an ISO-8601 date-time")
    assert rows[5]["reason"] == "product: Unknown product 'ghost'."
    assert "segment 'huge' is not one of" in rows[6]["reason"]
    assert rows[7]["reason"] == "external_id: Appears more than once in this request (first at item 0)."
    assert FeedbackItem.objects.count() == 1


def test_all_rejected_is_400_and_over_1000_items_is_413(writer, source):
    bad = writer.post(URL, {"items": [_item(1, text="")]}, format="json")
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith("All 1 items were rejected; item 0: text:")
    big = writer.post(URL, {"items": [_item(i) for i in range(1001)]}, format="json")
    assert big.status_code == 413
    assert big.json()["detail"].startswith("Too many items: 1,001 sent, at most 1,000 per request.")
    shape = writer.post(URL, {"things": []}, format="json")
    assert shape.status_code == 400 and shape.json()["detail"] == 'Body must be a JSON object {"items": [...]}.'


def test_body_over_upload_limit_is_413(writer, source, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = writer.post(URL, {"items": [_item(1, text="x" * 4000)]}, format="json")
    assert response.status_code == 413
    assert response.json()["detail"].startswith("Request body too large: the limit is")


def test_viewers_cannot_ingest(api_client, viewer, source):
    api_client.force_authenticate(viewer)
    response = api_client.post(URL, {"items": [_item(1)]}, format="json")
    assert response.status_code == 403


def test_items_ingest_service_contract_for_other_apps(source, researcher):
    result = services.items_ingest(
        source=source,
        items=[{"external_id": "h-1", "text": "Interview: invoices are confusing", "account": {"name": "Beta"}}],
        by=researcher,
    )
    assert result[0]["status"] == "created" and result.summary == {"created": 1, "updated": 0, "rejected": 0}
    assert FeedbackItem.objects.get().source == source


def test_post_source_returns_slug_and_secret_once(writer):
    response = writer.post("/api/v1/feedback/sources", {"name": "App Store reviews", "kind": "app_review"})
    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "app-store-reviews"
    assert len(response.json()["webhook_secret"]) == 48
    second = writer.post("/api/v1/feedback/sources", {"name": "App Store reviews", "kind": "app_review"})
    assert second.json()["slug"] == "app-store-reviews-2"
    listed = writer.get("/api/v1/feedback/sources").json()
    assert "webhook_secret" not in listed[0]
    bad = writer.post("/api/v1/feedback/sources", {"name": "X", "kind": "fax"})
    assert bad.status_code == 400 and "kind" in bad.json()["errors"]


def _zendesk(source, payload, *, secret=None):
    body = json.dumps(payload).encode()
    ts = "2026-03-01T10:00:00Z"
    sig = base64.b64encode(
        hmac.new((secret or source.webhook_secret).encode(), ts.encode() + body, hashlib.sha256).digest()
    ).decode()
    return body, {"HTTP_X_ZENDESK_WEBHOOK_SIGNATURE": sig, "HTTP_X_ZENDESK_WEBHOOK_SIGNATURE_TIMESTAMP": ts}


ZENDESK = {
    "ticket": {
        "id": 4711,
        "subject": "Refund stuck",
        "description": "Our refund has been pending for 10 days.",
        "created_at": "2026-03-01T08:00:00Z",
        "requester": {"name": "Jo Buyer", "email": "jo@acme.test"},
        "organization": {"name": "Acme Corp", "segment": "enterprise", "arr": 90000},
    }
}


def test_zendesk_webhook_verified_by_hmac_creates_one_item(client, source):
    body, headers = _zendesk(source, ZENDESK)
    url = f"/api/v1/feedback/webhooks/{source.slug}/zendesk"
    for _ in range(2):
        response = client.post(url, body, content_type="application/json", **headers)
        assert response.status_code == 200, response.content
    item = FeedbackItem.objects.get()
    assert item.external_id == "zendesk-4711" and item.text.startswith("Refund stuck")
    assert item.account.name == "Acme Corp" and item.contact.email == "jo@acme.test"
    assert item.raw == ZENDESK


def test_webhook_with_bad_signature_is_401(client, source):
    body, headers = _zendesk(source, ZENDESK, secret="wrong")
    response = client.post(
        f"/api/v1/feedback/webhooks/{source.slug}/zendesk", body, content_type="application/json", **headers
    )
    assert response.status_code == 401
    assert "X-Zendesk-Webhook-Signature" in response.json()["detail"]
    assert FeedbackItem.objects.count() == 0


def test_intercom_webhook_conversation(client, source):
    payload = {
        "type": "notification_event",
        "topic": "conversation.user.created",
        "data": {
            "item": {
                "type": "conversation",
                "id": "998",
                "created_at": 1772352000,
                "source": {"body": "<p>Export to CSV is <b>broken</b></p>", "author": {"email": "al@beta.test"}},
                "custom_attributes": {"company": "Beta LLC"},
            }
        },
    }
    body = json.dumps(payload).encode()
    sig = "sha1=" + hmac.new(source.webhook_secret.encode(), body, hashlib.sha1).hexdigest()
    url = f"/api/v1/feedback/webhooks/{source.slug}/intercom"
    response = client.post(url, body, content_type="application/json", HTTP_X_HUB_SIGNATURE=sig)
    assert response.status_code == 200, response.content
    item = FeedbackItem.objects.get()
    assert item.text == "Export to CSV is broken" and item.external_id == "intercom-998"
    assert Contact.objects.get().email == "al@beta.test"
    unsigned = client.post(url, body, content_type="application/json")
    assert unsigned.status_code == 401


def test_csv_import_maps_columns_and_reports_rejected_rows(source, pm):
    text = "id,comment,score,company\n1,Search is slow,4,Acme\n2,,5,Acme\n3,Great filters,12,Beta\n"
    result = services.csv_import(
        source=source, text=text, mapping={"external_id": "id", "text": "comment", "rating": "score",
                                           "account": "company"}, by=pm
    )  # fmt: skip
    assert result.created == 1
    assert result.rejected == [
        (3, "text: This field is required and may not be blank."),
        (4, "rating: '12' is not a whole number from 0 to 10 (or null)."),
    ]
    with pytest.raises(Exception, match="Column 'missing' is not in the file"):
        services.csv_import(source=source, text=text, mapping={"external_id": "id", "text": "missing"}, by=pm)


def test_source_create_rejects_viewers(viewer):
    with pytest.raises(Exception, match="viewers can read"):
        services.source_create(name="X", kind="manual", by=viewer)
    assert not FeedbackSource.objects.exists()


def test_source_ensure_and_unknown_source_slug(researcher):
    with pytest.raises(Exception, match="Unknown source 'interviews'"):
        services.items_ingest(source="interviews", items=[{"external_id": "1", "text": "x"}], by=researcher)
    source = services.source_ensure(slug="interviews", name="Research interviews", kind="interview")
    assert services.source_ensure(slug="interviews", name="Other", kind="interview") == source
    result = services.items_ingest(source="interviews", items=[{"external_id": "1", "text": "Hard to find"}])
    assert result[0]["status"] == "created"
