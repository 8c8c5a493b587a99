import pytest

from portal.models import AuditEntry, Notification
from tests.tooling.factories import published_version
from tooling import selectors, services
from tooling.models import TemplateSuggestion

pytestmark = pytest.mark.django_db


def test_template_page_previews_diffs_and_takes_suggestions(pm_client, pm):
    v1 = published_version(sections=[{"key": "summary", "title": "Summary", "required": True}])
    v2 = services.template_version_create(
        template=v1.template,
        sections=[
            {"key": "summary", "title": "Summary", "required": True, "guidance": "Shorter"},
            {"key": "risks", "title": "Risks"},
        ],
    )
    services.template_version_publish(version=v2, by=None)
    body = pm_client.get(v1.template.get_absolute_url()).content.decode()
    assert "Preview: v2" in body
    assert "What changed from v1 to v2" in body
    assert "<strong>Risks</strong>: added" in body
    response = pm_client.post(v1.template.get_absolute_url(), {"body": "Add a pricing section", "section_key": ""})
    assert response.status_code == 302
    suggestion = TemplateSuggestion.objects.get()
    assert (suggestion.author, suggestion.status, suggestion.version) == (pm, "open", v2)


def test_empty_suggestion_is_refused(pm_client):
    version = published_version()
    response = pm_client.post(version.template.get_absolute_url(), {"body": "  "}, follow=True)
    assert "This field cannot be blank." in response.content.decode()


def test_ops_lead_resolves_suggestions_in_the_admin(client, ops_lead, pm):
    version = published_version()
    suggestion = services.template_suggestion_create(template=version.template, author=pm, body="More guidance")
    client.force_login(ops_lead)
    page = client.get("/admin/tooling/templatesuggestion/?status__exact=open")
    assert "More guidance" in page.content.decode()
    client.post(
        "/admin/tooling/templatesuggestion/",
        {"action": "accept", "_selected_action": [suggestion.pk]},
    )
    suggestion.refresh_from_db()
    assert suggestion.status == "accepted"
    assert Notification.objects.filter(user=pm, kind="template.suggestion").exists()


def test_adoption_figures(pm, product):
    version = published_version()
    complete = services.document_create(version=version, product=product, owner=pm, title="A")
    services.document_update(document=complete, by=pm, sections={"summary": "x", "problem": "y"})
    services.document_create(version=version, product=product, owner=pm, title="B")
    complete.review_seconds = 7200
    complete.save()
    rows = {r.template_id: r for r in selectors.template_adoption()}
    row = rows[version.template_id]
    assert (row.documents, row.complete, row.share_complete, row.median_review_hours) == (2, 1, 0.5, 2.0)
    assert row.versions == {1: 2}
    summary = selectors.template_adoption_summary()
    assert summary["documents"] == 2 and summary["share_complete"] == 0.5 and summary["median_review_hours"] == 2.0


def test_adoption_page_and_deprecation(client, ops_lead, pm_client):
    old = published_version()
    new = published_version()
    assert pm_client.get("/tooling/adoption/").status_code == 200
    client.force_login(ops_lead)
    services.template_deprecate(template=old.template, replacement=new.template, by=ops_lead)
    assert AuditEntry.objects.filter(action="template.deprecate").exists()
    body = pm_client.get(old.template.get_absolute_url()).content.decode()
    assert "This template is deprecated: use" in body
