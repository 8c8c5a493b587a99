"""Journey 4: a researcher imports a participant CSV, creates a study, recruits eligible people,
adds a highlight and publishes an insight; a PM of another product finds it by search and sees
the evidence without anyone's personal data."""

import pytest

from research.models import Insight, Participant
from tests.factories import ProductFactory, UserFactory
from tests.research.factories import EligibilityRuleFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PANEL = "email,name,company,country,plan,consent\n" + "".join(
    f"shopper{i}@panel.test,Shopper Person{i},Acme {i},US,{'pro' if i % 2 else 'free'},yes\n" for i in range(6)
)


def test_researcher_publishes_an_insight_a_pm_finds_without_pii(journey, tmp_path):
    ProductFactory(name="Checkout", slug="checkout")
    billing = ProductFactory(name="Billing", slug="billing")
    EligibilityRuleFactory(name="Standard panel rules")
    UserFactory(username="rita", first_name="Rita", role="researcher")
    billing_pm = UserFactory(username="bruno", first_name="Bruno", role="pm")
    billing.members.add(billing_pm)
    page = journey.page

    journey.login("rita")
    # Import the panel.
    journey.goto("/research/participants/import/")
    csv_path = tmp_path / "panel.csv"
    csv_path.write_text(PANEL)
    page.set_input_files("#id_file", str(csv_path))
    page.get_by_role("button", name="Import").click()
    page.wait_for_load_state()
    assert page.locator(".kpi", has_text="Created").locator(".kpi-value").inner_text() == "6"
    assert Participant.objects.count() == 6
    journey.assert_accessible()

    # Create a study screening for the pro plan.
    journey.goto("/research/studies/new/")
    page.fill("#id_title", "Checkout fees")
    page.select_option("#id_products", label="Checkout")
    page.select_option("#id_method", "interview")
    page.fill("#id_screener", '[{"attribute": "plan", "op": "eq", "value": "pro"}]')
    page.fill("#id_target_sessions", "3")
    page.get_by_role("button", name="Create study").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Checkout fees")
    study_url = page.url

    # Recruit: move to recruiting, the three pro-plan people are eligible; invite one.
    page.get_by_role("button", name="Move to Recruiting").click()
    page.wait_for_load_state()
    assert "3 eligible of 3 who pass the screener" in page.locator("main").inner_text()
    journey.assert_accessible()
    person = Participant.objects.get(email="shopper1@panel.test")
    page.check(f"#cand-{person.pk}")
    page.get_by_role("button", name="Invite selected").click()
    page.wait_for_load_state()

    # Schedule and run the session, write notes, add a highlight.
    page.select_option("#s-part", str(person.pk))
    page.fill("#s-at", "2026-11-20T10:00")
    page.get_by_role("button", name="Schedule").click()
    page.wait_for_load_state()
    page.locator("a[href^='/research/sessions/']").first.click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Mark completed").click()
    page.wait_for_load_state()
    page.fill("#notes", "The **shipping fee** appeared only at the end, and she almost left.")
    page.get_by_role("button", name="Save notes").click()
    page.wait_for_load_state()
    page.fill("#id_excerpt", "shipping fee appeared only at the end")
    page.fill("#id_tags", "pricing")
    page.get_by_role("button", name="Add highlight").click()
    page.wait_for_load_state()
    assert "shipping fee appeared only at the end" in page.locator(".highlights").inner_text()
    journey.assert_accessible()

    # Publish an insight backed by the highlight.
    page.goto(study_url)
    page.get_by_role("link", name="New insight").click()
    page.wait_for_load_state()
    highlight_id = page.locator(".highlights .muted").first.inner_text().split("·")[0].strip().lstrip("#")
    page.fill("#id_statement", "Late shipping fees make shoppers hesitate")
    page.select_option("#id_products", label="Checkout")
    page.select_option("#id_confidence", "high")
    page.fill("#id_highlights", highlight_id)
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Publish").click()
    page.wait_for_load_state()
    insight = Insight.objects.get()
    assert insight.status == "published"
    journey.assert_accessible()
    journey.assert_no_console_errors()

    # A PM of another product searches the repository and sees the evidence, pseudonymised.
    page.context.clear_cookies()
    journey.login("bruno")
    journey.goto("/research/search/?q=shipping+fees")
    page.get_by_role("link", name="Late shipping fees make shoppers hesitate").first.click()
    page.wait_for_load_state()
    text = page.locator("main").inner_text()
    assert "shipping fee appeared only at the end" in text
    assert person.pseudonym in text
    html = page.content()
    assert "shopper1@panel.test" not in html and "Shopper Person1" not in html
    journey.screenshot("insight")
    journey.assert_accessible()
    journey.assert_no_console_errors()
