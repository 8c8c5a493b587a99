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


def test_admin_preview_diff_and_deprecate(client, ops_lead):
    v1 = published_version()
    v2 = services.template_version_create(
        template=v1.template, sections=[{"key": "summary", "title": "Summary", "required": True}]
    )
    client.force_login(ops_lead)
    preview = client.get(f"/admin/tooling/templateversion/{v2.pk}/preview/").content.decode()
    assert "1. Summary · required" in preview
    change = client.get(f"/admin/tooling/templateversion/{v2.pk}/change/").content.decode()
    assert "Diff with v1" in change and "Publish this version" in change
    diff = client.get(f"/admin/tooling/templateversion/diff/?a={v1.pk}&b={v2.pk}").content.decode()
    assert "<td>Problem</td><td>removed</td>" in diff
    replacement = published_version()
    response = client.post(
        f"/admin/tooling/template/{v1.template.pk}/deprecate/", {"replacement": replacement.template.pk}
    )
    assert response.status_code == 302
    v1.template.refresh_from_db()
    assert (v1.template.status, v1.template.replacement) == ("deprecated", replacement.template)


def test_pm_cannot_reach_the_admin_standards(pm_client):
    response = pm_client.get("/admin/tooling/templateversion/")
    assert response.status_code == 302  # PMs are not staff: sent to the admin login
