import pytest

from tests.factories import ProductFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_pm_logs_in_sees_home_with_a_chart_and_searches(journey):
    product = ProductFactory(name="Checkout", description="Cart and checkout flow")
    user = UserFactory(username="paula", first_name="Paula", role="pm")
    product.members.add(user)
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
    journey.page.wait_for_load_state("networkidle")
    assert "Checkout" in journey.page.locator("main").inner_text()
    journey.assert_accessible()


def test_login_form_error_is_next_to_the_form(journey):
    UserFactory(username="olivia", role="ops_lead")
    journey.page.goto(journey.base_url + "/accounts/login/")
    journey.page.fill("#id_username", "olivia")
    journey.page.fill("#id_password", "wrong")
    journey.page.click("button[type=submit]")
    assert "Please enter a correct username and password" in journey.page.locator("[role=alert]").inner_text()
    journey.assert_accessible()
