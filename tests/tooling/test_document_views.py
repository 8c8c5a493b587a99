import pytest

from portal.models import AuditEntry, Notification
from tests.factories import UserFactory
from tests.tooling.factories import TemplateFactory, published_version
from tooling import services
from tooling.models import Document, DocumentRevision

pytestmark = pytest.mark.django_db


@pytest.fixture
def prd(db):
    return published_version(kind="prd")


@pytest.fixture
def document(prd, pm, product):
    return services.document_create_from_template(kind="prd", product=product, owner=pm, title="Faster checkout")


def write_all(document, by):
    return services.document_update(
        document=document, by=by, sections={s.key: f"Text for {s.title}" for s in document.sections.all()}
    )


def test_pm_creates_a_document_from_the_new_page(pm_client, pm, product, prd):
    page = pm_client.get("/tooling/documents/new/?kind=prd")
    assert page.status_code == 200
    response = pm_client.post(
        "/tooling/documents/new/", {"template_version": prd.pk, "product": product.pk, "title": "New PRD"}
    )
    document = Document.objects.get(title="New PRD")
    assert response.status_code == 302
    assert response["Location"] == f"/tooling/documents/{document.pk}/edit/"
    assert document.owner == pm
    assert AuditEntry.objects.filter(action="document.create", target_id=str(document.pk)).exists()


def test_create_page_rejects_a_product_the_pm_is_not_on(pm_client, other_product, prd):
    response = pm_client.post(
        "/tooling/documents/new/", {"template_version": prd.pk, "product": other_product.pk, "title": "X"}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Document.objects.exists()


def test_edit_saves_markdown_and_detail_renders_it_sanitised(pm_client, document):
    response = pm_client.post(
        f"/tooling/documents/{document.pk}/edit/",
        {"title": "Faster checkout v2", "section-summary": "**Bold** <script>alert(1)</script>", "section-problem": ""},
    )
    assert response.status_code == 302
    body = pm_client.get(document.get_absolute_url()).content.decode()
    assert "<strong>Bold</strong>" in body
    assert "<script>alert(1)</script>" not in body
    assert "Faster checkout v2" in body
    assert document.revisions.count() == 2


def test_approving_requires_the_required_sections(pm_client, pm, document):
    response = pm_client.post(f"/tooling/documents/{document.pk}/status/", {"status": "approved"}, follow=True)
    assert "Write the required sections before approving: Summary, Problem." in response.content.decode()
    document.refresh_from_db()
    assert document.status == "draft"
    write_all(document, pm)
    pm_client.post(f"/tooling/documents/{document.pk}/status/", {"status": "approved"})
    document.refresh_from_db()
    assert document.status == "approved"
    assert AuditEntry.objects.filter(action="document.approve", target_id=str(document.pk)).exists()


def test_unknown_transition_names_the_allowed_ones(pm, document):
    with pytest.raises(Exception) as exc:
        services.document_transition(document=document, to_status="shipped", by=pm)
    assert exc.value.message_dict["status"] == ["A draft document can move to: approved, archived, in review."]


def test_review_request_notifies_reviewers_moves_to_review_and_measures_time(pm_client, pm, document):
    reviewer = UserFactory(role="ops_lead")
    response = pm_client.post(f"/tooling/documents/{document.pk}/reviews/", {"reviewers": [reviewer.username]})
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.status == "in_review"
    assert document.in_review_since is not None
    note = Notification.objects.get(user=reviewer)
    assert note.kind == "review.requested"
    assert note.url == document.get_absolute_url()
    assert AuditEntry.objects.filter(action="document.review_request", target_id=str(document.pk)).exists()
    # asking again does not notify twice
    pm_client.post(f"/tooling/documents/{document.pk}/reviews/", {"reviewers": [reviewer.username]})
    assert Notification.objects.filter(user=reviewer).count() == 1
    services.document_transition(document=document, to_status="draft", by=pm)
    document.refresh_from_db()
    assert document.in_review_since is None
    assert document.review_seconds >= 0


def test_review_request_without_reviewers_is_refused(pm_client, document):
    response = pm_client.post(f"/tooling/documents/{document.pk}/reviews/", {}, follow=True)
    assert "Choose at least one reviewer other than the document&#x27;s owner." in response.content.decode()


def test_reviewer_approves_and_owner_is_notified(client, pm, document):
    reviewer = UserFactory(role="pm")
    services.document_request_review(document=document, reviewers=[reviewer], by=pm)
    client.force_login(reviewer)
    client.post(f"/tooling/documents/{document.pk}/comments/", {"body": "Looks good", "approve": "1"})
    review = document.reviews.get()
    assert review.state == "approved"
    assert review.responded_at is not None
    assert Notification.objects.filter(user=pm, kind="review.approved").exists()
    assert AuditEntry.objects.filter(action="document.approve", actor=reviewer).exists()


def test_approval_is_advisory_unless_the_product_opts_in(pm, product, document):
    write_all(document, pm)
    product.requires_review_approval = True
    product.save()
    with pytest.raises(Exception) as exc:
        services.document_transition(document=document, to_status="approved", by=pm)
    assert "requires a reviewer's approval" in exc.value.message_dict["status"][0]
    reviewer = UserFactory(role="pm")
    services.document_request_review(document=document, reviewers=[reviewer], by=pm)
    services.document_comment(document=document, author=reviewer, body="", approve=True)
    assert services.document_transition(document=document, to_status="approved", by=pm).status == "approved"


def test_viewer_and_other_team_cannot_write(client, viewer, document):
    client.force_login(viewer)
    assert client.get(f"/tooling/documents/{document.pk}/edit/").status_code == 403
    assert client.post(f"/tooling/documents/{document.pk}/comments/", {"body": "hi"}).status_code == 403
    assert client.get(document.get_absolute_url()).status_code == 200
    outsider = UserFactory(role="pm")
    client.force_login(outsider)
    assert client.post(f"/tooling/documents/{document.pk}/status/", {"status": "archived"}).status_code == 403
    body = client.get(document.get_absolute_url()).content.decode()
    assert "You can view this document, not edit it" in body


def test_export_markdown(pm_client, pm, document):
    write_all(document, pm)
    response = pm_client.get(f"/tooling/documents/{document.pk}/export.md")
    assert response["Content-Type"].startswith("text/markdown")
    assert 'filename="faster-checkout.md"' in response["Content-Disposition"]
    text = response.content.decode()
    assert text.startswith("# Faster checkout\n")
    assert "## Summary\n\nText for Summary" in text


def test_history_shows_a_diff_between_revisions(pm_client, pm, document):
    services.document_update(document=document, by=pm, sections={"summary": "line one\nline two"})
    services.document_update(document=document, by=pm, sections={"summary": "line one\nline 2"})
    body = pm_client.get(f"/tooling/documents/{document.pk}/history/").content.decode()
    assert "Changes from revision 2 to 3" in body
    assert '<span class="diff-del">- line two</span>' in body
    assert '<span class="diff-add">+ line 2</span>' in body
    assert DocumentRevision.objects.filter(document=document).count() == 3


def test_upgrade_adds_new_sections_and_never_touches_written_ones(pm_client, pm, prd, document):
    services.document_update(document=document, by=pm, sections={"summary": "My summary"})
    v2 = services.template_version_create(
        template=prd.template,
        sections=[
            {"key": "summary", "title": "Summary (new title)", "guidance": "New guidance", "required": True},
            {"key": "problem", "title": "Problem statement", "guidance": "Refreshed", "required": True},
            {"key": "evidence", "title": "Evidence", "required": True},
        ],
        changelog="Adds Evidence",
    )
    services.template_version_publish(version=v2, by=None)
    detail = pm_client.get(document.get_absolute_url()).content.decode()
    assert "A newer template version is available" in detail
    preview = pm_client.get(f"/tooling/documents/{document.pk}/upgrade/").content.decode()
    assert "Evidence" in preview and "Written: kept as is" in preview
    pm_client.post(f"/tooling/documents/{document.pk}/upgrade/")
    document.refresh_from_db()
    sections = {s.key: s for s in document.sections.all()}
    assert document.template_version == v2
    assert sections["summary"].title == "Summary" and sections["summary"].body == "My summary"
    assert sections["problem"].title == "Problem statement"
    assert sections["evidence"].added_in_version == 2
    assert "notes" in sections  # removed from the template, kept in the document
    assert "A newer template version is available" not in pm_client.get(document.get_absolute_url()).content.decode()


def test_document_list_filters_and_counts_queries(pm_client, pm, product, prd, django_assert_max_num_queries):
    for i in range(15):
        services.document_create(version=prd, product=product, owner=pm, title=f"Doc {i}")
    other = TemplateFactory(kind="retro")
    published_version(template=other)
    services.document_create_from_template(kind="retro", product=product, owner=pm, title="Retro one")
    with django_assert_max_num_queries(12):
        response = pm_client.get("/tooling/documents/")
    assert response.content.decode().count("/tooling/documents/") >= 16
    body = pm_client.get("/tooling/documents/?kind=retro").content.decode()
    assert "Retro one" in body and "Doc 3" not in body


def test_overview_and_detail_pages_query_counts(pm_client, pm, document, django_assert_max_num_queries):
    with django_assert_max_num_queries(25):
        assert pm_client.get("/tooling/").status_code == 200
    with django_assert_max_num_queries(25):
        assert pm_client.get(document.get_absolute_url()).status_code == 200
