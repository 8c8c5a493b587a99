"""Journey 3: a new PM opens today's onboarding tasks, completes one, passes the quiz; their
progress and their manager's cohort view both update."""

import datetime as dt

import pytest
from django.utils import timezone

from onboarding import services
from tests.factories import UserFactory
from tests.onboarding.factories import published_track

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_new_pm_completes_a_task_and_passes_the_quiz_manager_sees_progress(journey):
    ops = UserFactory(username="olga", role="ops_lead")
    track = published_track(by=ops, title="New PM 90", offsets=(0, 1, 7, 30), quiz=True)
    manager = UserFactory(username="mia", first_name="Mia", last_name="Manager", role="pm")
    newbie = UserFactory(username="nora", first_name="Nora", last_name="Newbie", role="pm", manager=manager)
    services.enrollment_create(user=newbie, track=track, start_on=timezone.localdate() - dt.timedelta(days=3), by=ops)
    page = journey.page

    journey.login("nora")
    page.get_by_role("link", name="Onboarding", exact=True).first.click()
    page.wait_for_load_state()
    assert page.url.endswith("/onboarding/today/")
    assert "Today · day 4" in page.locator("main").inner_text()
    progress = page.get_by_role("progressbar", name="Overall progress")
    assert progress.get_attribute("aria-valuenow") == "0"
    assert progress.get_attribute("aria-valuemax") == "5"
    journey.assert_accessible()

    # Complete the day-0 task.
    task = page.locator("li.task-item", has=page.get_by_text("New PM 90 task 1", exact=True))
    task.get_by_role("button", name="Mark done").click()
    page.wait_for_load_state()
    assert page.get_by_role("progressbar", name="Overall progress").get_attribute("aria-valuenow") == "1"
    assert task.get_by_role("button", name="Undo").is_visible()

    # Pass the quiz: every right answer.
    page.get_by_role("link", name="Take quiz").click()
    page.wait_for_load_state()
    for question in page.locator("form.quiz fieldset, form.quiz .question").all():
        question.get_by_label("right", exact=True).check()
    journey.assert_accessible()
    page.get_by_role("button", name="Submit answers").click()
    page.wait_for_load_state()
    assert "100%" in page.locator("main").inner_text() or "passed" in page.locator("main").inner_text().lower()
    journey.assert_no_console_errors()

    journey.goto("/onboarding/today/")
    assert page.get_by_role("progressbar", name="Overall progress").get_attribute("aria-valuenow") == "2"
    assert "40%" in page.locator(".kpi").first.inner_text()
    journey.screenshot("today")
    journey.assert_accessible()
    journey.assert_no_console_errors()

    # The manager's cohort view shows the new progress.
    page.context.clear_cookies()
    journey.login("mia")
    journey.goto("/onboarding/cohort/")
    bar = page.get_by_role("progressbar", name="Nora Newbie progress")
    assert bar.get_attribute("aria-valuenow") == "2"
    row = page.locator("tr", has_text="Nora Newbie")
    assert "40%" in row.inner_text()
    journey.screenshot("cohort")
    journey.assert_accessible()
    journey.assert_no_console_errors()
