"""Pages: dashboard, themes, items, ops, import, sources; permissions and query counts."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from feedback import services
from feedback.models import CustomerAccount, FeedbackItem, FeedbackSource, ItemState, Theme
from tests.factories import UserFactory
from tests.feedback.factories import SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(product):
    source = SourceFactory(slug="zendesk", kind="support")
    nps = SourceFactory(slug="nps", kind="nps")
    items = [
        {"source": "zendesk", "external_id": f"t{i}", "product": product.slug,
         "text": ["Apple Pay button is missing at checkout", "Promo code field rejects valid codes"][i % 2]
         + f" for order {i}",
         "account": {"name": f"Acct {i % 5}", "segment": "enterprise", "arr": 100_000,
                     "contacts": [{"name": "Jo", "email": f"jo{i % 5}@acct.test"}]}}
        for i in range(40)
    ] + [{"source": "nps", "external_id": f"n{i}", "product": product.slug, "rating": i % 11, "text": "Fine"}
         for i in range(30)]  # fmt: skip
    services.items_ingest(items=items)
    services.items_process(item_ids=list(FeedbackItem.objects.values_list("id", flat=True)))
    services.themes_recluster(product=product)
    services.signals_refresh(product=product)
    return source, nps


def test_dashboard_shows_themes_charts_and_nps(client, pm, loaded, django_assert_max_num_queries):
    client.force_login(pm)
    with django_assert_max_num_queries(30):
        response = client.get("/feedback/?weeks=12")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Top themes by score" in html and 'id="fb-volume"' in html and 'id="fb-nps"' in html
    theme = Theme.objects.filter(items__external_id="t0").first()
    assert theme.label in html


def test_empty_dashboard_says_what_to_do(client, pm):
    client.force_login(pm)
    html = client.get("/feedback/").content.decode()
    assert "No feedback in this period" in html and "Set up a source" in html


def test_theme_page_hides_contacts_from_viewers(client, pm, viewer, loaded):
    theme = Theme.objects.filter(items__external_id="t0").first()
    client.force_login(pm)
    html = client.get(theme.get_absolute_url()).content.decode()
    assert "jo0@acct.test" in html and "Accounts asking" in html
    client.force_login(viewer)
    html = client.get(theme.get_absolute_url()).content.decode()
    assert "jo0@acct.test" not in html and "hidden for your role" in html


def test_items_list_highlights_terms_with_bounded_queries(client, pm, loaded, django_assert_max_num_queries):
    client.force_login(pm)
    with django_assert_max_num_queries(12):
        response = client.get("/feedback/items/?q=promo&source=zendesk")
    html = response.content.decode()
    assert "<mark>Promo</mark> code" in html
    assert html.count('class="item-link"') == 20


def test_items_api_list_has_bounded_queries(api_client, pm, loaded, django_assert_max_num_queries):
    api_client.force_authenticate(pm)
    with django_assert_max_num_queries(8):
        body = api_client.get("/api/v1/feedback/items?source=zendesk").json()
    assert body["count"] == 40 and len(body["results"]) == 40
    assert api_client.get("/api/v1/feedback/items?source=nope").status_code == 400


def test_ops_page_lists_failures_and_only_ops_leads_retry(client, pm, loaded):
    item = FeedbackItem.objects.first()
    FeedbackItem.objects.filter(pk=item.pk).update(state=ItemState.FAILED, error="ValueError: bad input")
    client.force_login(pm)
    html = client.get("/feedback/ops/").content.decode()
    assert "ValueError: bad input" in html
    assert client.post(f"/feedback/items/{item.pk}/retry").status_code == 403
    client.force_login(UserFactory(role="ops_lead"))
    response = client.post(f"/feedback/items/{item.pk}/retry", {"next": "/feedback/ops/"})
    assert response.status_code == 302
    assert FeedbackItem.objects.get(pk=item.pk).state == ItemState.PENDING


def test_csv_import_page_reports_rejected_rows(client, pm):
    SourceFactory(slug="sheet", kind="manual")
    client.force_login(pm)
    upload = SimpleUploadedFile("f.csv", b"ID,Comment,Company\n1,Search is slow,Acme\n2,,Acme\n", "text/csv")
    data = {"source": FeedbackSource.objects.get().pk, "file": upload, "col_external_id": "ID", "col_text": "Comment",
            "col_account": "Company"}  # fmt: skip
    html = client.post("/feedback/import/", data).content.decode()
    assert "1 created, 0 updated, 1 rejected" in html
    assert "text: This field is required and may not be blank." in html
    assert CustomerAccount.objects.get().name == "Acme"


def test_csv_import_names_a_missing_column(client, pm):
    SourceFactory(slug="sheet", kind="manual")
    client.force_login(pm)
    upload = SimpleUploadedFile("f.csv", b"ID,Comment\n1,Hi\n", "text/csv")
    data = {"source": FeedbackSource.objects.get().pk, "file": upload, "col_external_id": "ID", "col_text": "Body"}
    html = client.post("/feedback/import/", data).content.decode()
    assert "Column &#x27;Body&#x27; is not in the file (columns: ID, Comment)." in html


def test_sources_page_creates_source_and_shows_secret_once(client, pm, viewer):
    client.force_login(pm)
    html = client.post("/feedback/sources/", {"name": "G2 reviews", "kind": "app_review"}).content.decode()
    source = FeedbackSource.objects.get(slug="g2-reviews")
    assert source.webhook_secret in html
    assert source.webhook_secret not in client.get("/feedback/sources/").content.decode()
    client.force_login(viewer)
    assert client.post("/feedback/sources/", {"name": "X", "kind": "manual"}).status_code == 403


def test_theme_rename_by_ops_lead_only(client, pm, loaded):
    theme = Theme.objects.first()
    client.force_login(pm)
    assert client.post(f"/feedback/themes/{theme.pk}/rename", {"label": "Nope"}).status_code == 403
    client.force_login(UserFactory(role="ops_lead"))
    client.post(f"/feedback/themes/{theme.pk}/rename", {"label": "Apple Pay"})
    theme.refresh_from_db()
    assert theme.label == "Apple Pay" and theme.label_locked


def test_seed_demo_small_is_idempotent():
    call_command("seed_demo", "--only", "feedback", "--small")
    first = (FeedbackItem.objects.count(), Theme.objects.count(), CustomerAccount.objects.count())
    call_command("seed_demo", "--only", "feedback", "--small")
    assert (FeedbackItem.objects.count(), Theme.objects.count(), CustomerAccount.objects.count()) == first
    assert first[0] == 300 and first[1] >= 6
    assert not FeedbackItem.objects.exclude(state=ItemState.PROCESSED).exists()


def test_themes_api_and_page_have_bounded_queries(
    client, api_client, pm, product, loaded, django_assert_max_num_queries
):
    api_client.force_authenticate(pm)
    with django_assert_max_num_queries(6):
        body = api_client.get(f"/api/v1/feedback/themes?product={product.slug}").json()
    assert body["count"] == Theme.objects.filter(product=product).count() >= 2
    assert api_client.get("/api/v1/feedback/themes?product=nope").status_code == 404
    client.force_login(pm)
    with django_assert_max_num_queries(12):
        assert client.get(f"/feedback/themes/?product={product.slug}").status_code == 200
