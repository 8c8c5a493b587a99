import pytest

from analytics.services import dashboard_create
from tests.factories import ProductFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_pm_logs_in_sees_home_with_a_chart_and_searches(journey):
    product = ProductFactory(name="Checkout", description="Cart and checkout flow")
    user = UserFactory(username="paula", first_name="Paula", role="pm")
    product.members.add(user)
    dashboard_create(product=product, name="Funnel health", description="Where checkout visitors drop off", by=user)
    journey.login("paula")
    assert journey.page.locator("h1").inner_text().startswith("Good to see you, Paula")
    journey.wait_for_charts()
    journey.screenshot("home")
    journey.assert_no_console_errors()
    journey.assert_accessible()

    journey.page.keyboard.press("/")
    assert journey.page.evaluate("document.activeElement.id") == "global-search"
    journey.page.keyboard.type("checkout")
    journey.page.keyboard.press("Enter")
    journey.page.wait_for_url("**/search/?q=checkout*")
    journey.page.wait_for_load_state("networkidle")
    assert "Checkout" in journey.page.locator("main").inner_text()
    # Highlighted snippet from the stored search vector's ts_headline.
    assert journey.page.locator(".search-results mark", has_text="checkout").first.inner_text() == "checkout"
    journey.assert_accessible()
    # Type filter: ticking "Dashboards" resubmits with type=dashboard and keeps only dashboards.
    journey.page.get_by_label("Dashboards").check()
    journey.page.wait_for_url("**type=dashboard**")
    badges = journey.page.locator(".search-results .badge").all_inner_texts()
    assert badges == ["Dashboard"]
    assert "Funnel health" in journey.page.locator("main").inner_text()


def test_login_form_error_is_next_to_the_form(journey):
    UserFactory(username="olivia", role="ops_lead")
    journey.page.goto(journey.base_url + "/accounts/login/")
    journey.page.fill("#id_username", "olivia")
    journey.page.fill("#id_password", "wrong")
    journey.page.click("button[type=submit]")
    assert "Please enter a correct username and password" in journey.page.locator("[role=alert]").inner_text()
    journey.assert_accessible()
