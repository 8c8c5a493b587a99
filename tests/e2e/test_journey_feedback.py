"""Journey 5: an ops lead uploads a CSV of feedback, a real Celery worker processes it and the
re-cluster themes it; the signal dashboard shows the theme; the PM links it to a roadmap item."""

import csv
import io
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.models import FeedbackItem, ItemState, PipelineRun, RoadmapLink, Theme
from tests.factories import ProductFactory, UserFactory
from tests.feedback.factories import SourceFactory
from tests.tooling.factories import RoadmapItemFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TOPICS = {
    "apple": ("Apple Pay button {} at checkout", ["is missing", "does nothing", "disappears", "spins forever"]),
    "promo": ("Promo code field {}", ["rejects valid codes", "is hard to find", "clears on back", "is broken"]),
    "guest": ("Guest checkout please, the signup wall {}", ["loses orders", "is annoying", "kills sales", "is slow"]),
}
COLUMNS = ["external_id", "text", "rating", "account", "segment", "arr", "product", "created_at", "contact_email"]


def _csv() -> str:
    now = timezone.now()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for topic, (template, fillers) in TOPICS.items():
        for i in range(12):
            writer.writerow([
                f"{topic}-{i}",
                template.format(fillers[i % len(fillers)]) + f" (order {i})",
                "",
                f"Account {i % 5}",
                "smb",
                str(10_000 * (1 + i % 5)),
                "checkout",
                (now - timedelta(days=2 + i % 10, hours=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "",
            ])  # fmt: skip
    return out.getvalue()


def _wait(predicate, timeout=45):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def test_feedback_csv_is_themed_by_the_worker_and_linked_to_the_roadmap(journey, celery_worker_thread, tmp_path):
    product = ProductFactory(name="Checkout", slug="checkout")
    SourceFactory(name="Zendesk", slug="zendesk")
    UserFactory(username="olga", first_name="Olga", role="ops_lead", is_staff=True)
    pm = UserFactory(username="paula", first_name="Paula", role="pm")
    product.members.add(pm)
    roadmap_item = RoadmapItemFactory(product=product, owner=pm, title="Wallet payments")
    page = journey.page

    journey.login("olga")
    journey.goto("/feedback/import/")
    path = tmp_path / "feedback.csv"
    path.write_text(_csv())
    page.select_option("#id_source", label="Zendesk")
    page.set_input_files("#id_file", str(path))
    journey.assert_accessible()
    page.get_by_role("button", name="Import").click()
    page.wait_for_load_state()
    assert "36 created, 0 updated, 0 rejected" in page.locator("main").inner_text()
    assert _wait(lambda: not FeedbackItem.objects.exclude(state=ItemState.PROCESSED).exists()), "worker did not process"

    # Re-cluster from the pipeline page; the worker builds the themes.
    journey.goto("/feedback/ops/")
    page.select_option("#rc-product", "checkout")
    page.get_by_role("button", name="Re-cluster themes").click()
    page.wait_for_load_state()
    assert _wait(lambda: PipelineRun.objects.filter(kind="recluster", status="done").exists()), "re-cluster not done"
    apple = Theme.objects.get(items__external_id="apple-0")
    assert "apple" in apple.label.lower()

    # The signal dashboard shows the theme.
    journey.goto("/feedback/")
    page.get_by_role("link", name=apple.label).first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith(apple.label)
    journey.assert_accessible()
    journey.assert_no_console_errors()

    # The PM links the theme to a roadmap item from the theme page.
    page.context.clear_cookies()
    journey.login("paula")
    journey.goto(apple.get_absolute_url())
    page.select_option("#link-roadmap", label="Wallet payments (Planned)")
    page.get_by_role("button", name="Link", exact=True).click()
    page.wait_for_load_state()
    links = page.locator("ul.links")
    assert "Wallet payments" in links.inner_text() and "linked by Paula" in links.inner_text()
    assert RoadmapLink.objects.filter(theme=apple, roadmap_item=roadmap_item).exists()
    journey.screenshot("theme")
    journey.assert_accessible()
    journey.assert_no_console_errors()
