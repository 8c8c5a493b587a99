import pytest

from tests.tooling.factories import published_version
from tooling import services
from tooling.models import TemplateVersion

pytestmark = pytest.mark.django_db

INLINE = {
    "sections-TOTAL_FORMS": "0",
    "sections-INITIAL_FORMS": "0",
    "sections-MIN_NUM_FORMS": "0",
    "sections-MAX_NUM_FORMS": "1000",
}


def test_admin_refuses_to_save_a_published_version_with_a_clear_message(client, ops_lead):
    version = published_version()
    client.force_login(ops_lead)
    url = f"/admin/tooling/templateversion/{version.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert "is published and cannot be edited" in page.content.decode()
    response = client.post(url, INLINE)
    assert response.status_code == 200  # the form comes back with the error, nothing saved
    assert "is published and cannot be edited. Publish a new version instead" in response.content.decode()


def test_admin_edits_and_publishes_a_draft_version(client, ops_lead):
    v1 = published_version()
    draft = services.template_version_create(template=v1.template, changelog="")
    client.force_login(ops_lead)
    url = f"/admin/tooling/templateversion/{draft.pk}/change/"
    response = client.post(
        url,
        {"template": v1.template.pk, "number": 2, "changelog": "Tighter summary", "variables": '["product"]', **INLINE},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    client.post(url, {"_publish": "1"})
    draft.refresh_from_db()
    assert draft.status == TemplateVersion.Status.PUBLISHED
    assert draft.changelog == "Tighter summary"


def test_admin_template_list_shows_usage(client, ops_lead, pm, product):
    published_version()
    services.document_create_from_template(kind="prd", product=product, owner=pm, title="Doc")
    client.force_login(ops_lead)
    response = client.get("/admin/tooling/template/")
    assert response.status_code == 200
    response = client.get("/admin/tooling/templateversion/")
    assert response.status_code == 200
