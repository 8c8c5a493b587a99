"""Journey 2: an ops lead publishes a new PRD template version in the admin; a PM creates a PRD
from it, fills the required sections and asks for a review; the reviewer approves."""

import pytest

from tests.factories import ProductFactory, UserFactory
from tests.tooling.factories import TemplateFactory
from tooling import services
from tooling.models import Document, TemplateVersion

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SECTIONS = [
    {"key": "summary", "title": "Summary", "guidance": "What and why, in three lines", "required": True},
    {"key": "problem", "title": "Problem", "required": True},
]


def test_ops_publishes_a_prd_version_pm_writes_and_reviewer_approves(journey):
    ops = UserFactory(username="olga", first_name="Olga", role="ops_lead", is_staff=True)
    product = ProductFactory(name="Checkout", slug="checkout")
    pm = UserFactory(username="paula", first_name="Paula", last_name="Pm", role="pm")
    reviewer = UserFactory(username="rick", first_name="Rick", last_name="Reviewer", role="pm")
    product.members.add(pm, reviewer)
    template = TemplateFactory(name="Product requirements", slug="prd", kind="prd")
    services.template_version_publish(
        version=services.template_version_create(template=template, sections=SECTIONS), by=ops
    )
    page = journey.page

    # Ops lead: create the next version from the template list, add a required section, publish.
    journey.login("olga")
    journey.goto("/admin/tooling/template/")
    page.locator("#result_list tbody tr", has_text="Product requirements").locator("input.action-select").check()
    page.select_option("select[name=action]", "create_next_version")
    page.locator("button[name=index], input[name=index]").first.click()
    page.wait_for_load_state()
    assert "Created draft" in page.locator(".messagelist").inner_text()
    draft = TemplateVersion.objects.get(template=template, number=2)
    journey.goto(f"/admin/tooling/templateversion/{draft.pk}/change/")
    page.fill("#id_changelog", "Success metrics are required")
    page.locator(".add-row a").first.click()
    row = page.locator("tr.dynamic-sections").last
    row.locator("input[name$='-order']").fill("30")
    row.locator("input[name$='-key']").fill("metrics")
    row.locator("input[name$='-title']").fill("Success metrics")
    row.locator("input[name$='-required']").check()
    page.locator("input[name=_continue]").click()
    page.wait_for_load_state()
    assert page.locator(".errornote").count() == 0, page.locator(".errornote").inner_text()
    page.locator("input[name=_publish]").click()
    page.wait_for_load_state()
    assert "Published" in page.locator(".messagelist").inner_text()
    draft.refresh_from_db()
    assert draft.status == TemplateVersion.Status.PUBLISHED
    journey.assert_no_console_errors()

    # PM: create a PRD from the new version and write its required sections.
    page.context.clear_cookies()
    journey.login("paula")
    journey.goto("/tooling/documents/new/?kind=prd")
    page.select_option("#id_template_version", str(draft.pk))
    page.select_option("#id_product", str(product.pk))
    page.fill("#id_title", "One-tap reorder")
    journey.assert_accessible()
    page.get_by_role("button", name="Create draft").click()
    page.wait_for_load_state()
    document = Document.objects.get(title="One-tap reorder")
    assert document.template_version_id == draft.pk
    assert page.url.endswith(f"/tooling/documents/{document.pk}/edit/")
    assert page.get_by_label("Success metrics").is_visible()
    page.fill("#section-summary", "Returning shoppers **reorder** in one tap.")
    page.fill("#section-problem", "Reordering takes six steps today.")
    page.fill("#section-metrics", "Repeat purchase rate +5%.")
    journey.assert_accessible()
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert "<strong>reorder</strong>" in page.content()
    page.select_option("#reviewers", "rick")
    page.get_by_role("button", name="Request review").click()
    page.wait_for_load_state()
    document.refresh_from_db()
    assert document.status == "in_review"
    journey.assert_accessible()
    journey.assert_no_console_errors()

    # Reviewer: approve from the document page.
    page.context.clear_cookies()
    journey.login("rick")
    journey.goto(document.get_absolute_url())
    page.fill("#comment-body", "Clear and measurable.")
    page.get_by_role("button", name="Approve", exact=True).click()
    page.wait_for_load_state()
    review = document.reviews.get(reviewer=reviewer)
    assert review.state == "approved"
    assert "Approved" in page.locator("#reviews").inner_text()
    journey.screenshot("approved-prd")
    journey.assert_accessible()
    journey.assert_no_console_errors()
    assert pm.notifications.filter(kind="review.approved").exists()
