"""Browser journey (Playwright + Chromium, see tests/e2e/conftest.py): a new PM works
through Today and a quiz, and their manager's cohort view and ramp chart reflect it."""

import datetime as dt

import pytest
from django.utils import timezone

from onboarding import services
from tests.factories import UserFactory
from tests.onboarding.factories import published_track

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_new_pm_completes_a_task_and_a_quiz_and_the_manager_sees_it(journey):
    ops = UserFactory(username="olivia", role="ops_lead")
    manager = UserFactory(username="paula", first_name="Paula", role="pm")
    newpm = UserFactory(username="noah", first_name="Noah", role="pm")
    newpm.manager = manager
    newpm.save()
    track = published_track(by=ops, title="New PM 90", offsets=(0, 1, 30), quiz=True)
    services.enrollment_create(
        user=newpm, track=track, start_on=timezone.localdate() - dt.timedelta(days=2), by=manager
    )

    journey.login("noah")
    journey.goto("/onboarding/")
    page = journey.page
    assert page.locator("h1").inner_text().startswith("Today")
    assert "Overdue" in page.locator("main").inner_text()
    page.locator("li.task-item", has_text="New PM 90 task 1").locator("button", has_text="Mark done").click()
    page.wait_for_load_state("networkidle")
    assert "Done: New PM 90 task 1." in page.locator(".messages").inner_text()
    journey.assert_no_console_errors()
    journey.assert_accessible()

    page.locator("a.button", has_text="Take quiz").click()
    for fieldset in page.locator("fieldset.question").all():
        fieldset.locator("input").first.check()  # the first choice is the right one
    page.locator("button", has_text="Submit answers").click()
    page.wait_for_load_state("networkidle")
    assert "You scored 100%" in page.locator("main").inner_text()
    assert page.locator(".feedback").count() == 2
    journey.screenshot("quiz-feedback")
    journey.assert_accessible()

    journey.login("paula")
    journey.goto("/onboarding/cohort/")
    row = page.locator("tbody tr", has_text="Noah")
    assert "50%" in row.inner_text()  # 2 of 4 required tasks done (task 1 and the quiz)
    journey.goto("/onboarding/metrics/")
    journey.wait_for_charts()
    journey.screenshot("ramp-metrics")
    journey.assert_no_console_errors()
    journey.assert_accessible()
