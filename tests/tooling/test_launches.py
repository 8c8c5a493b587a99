import datetime

import pytest
from django.utils import timezone

from tests.tooling.factories import RoadmapItemFactory
from tooling import selectors, services
from tooling.models import ChecklistTemplateItem, Launch

pytestmark = pytest.mark.django_db


@pytest.fixture
def checklist(db):
    for order, (title, role, offset, required) in enumerate(
        [
            ("Legal review", "Legal", -14, True),
            ("Support macros", "Support", -7, True),
            ("Blog post", "Marketing", -7, False),
            ("Metrics review", "PM", 7, True),
        ]
    ):
        ChecklistTemplateItem.objects.create(
            tier="T1", title=title, owner_role=role, offset_days=offset, required=required, order=order
        )
    ChecklistTemplateItem.objects.create(tier="T3", title="Support macros", owner_role="Support", offset_days=-7)


def test_launch_checklist_comes_from_the_tier_template_with_due_dates(pm, product, checklist):
    day = datetime.date(2026, 6, 30)
    launch = services.launch_create(product=product, feature="Wallets", tier="T1", launch_date=day, owner=pm)
    rows = list(launch.checklist.values_list("title", "owner_role", "due_date", "required"))
    assert rows == [
        ("Legal review", "Legal", datetime.date(2026, 6, 16), True),
        ("Support macros", "Support", datetime.date(2026, 6, 23), True),
        ("Blog post", "Marketing", datetime.date(2026, 6, 23), False),
        ("Metrics review", "PM", datetime.date(2026, 7, 7), True),
    ]
    assert [f.due_date for f in launch.follow_ups.all()] == [
        datetime.date(2026, 7, 1),
        datetime.date(2026, 7, 7),
        datetime.date(2026, 7, 30),
    ]
    assert services.launch_checklist_sync(launch=launch) == 0  # idempotent


def test_readiness_overdue_and_go_no_go(pm, product, checklist):
    today = timezone.localdate()
    launch = services.launch_create(
        product=product, feature="Wallets", tier="T1", launch_date=today + datetime.timedelta(days=3), owner=pm
    )
    r = selectors.launch_readiness(launch)
    assert (r.done, r.required, r.verdict) == (0, 3, "no-go")
    assert [i.title for i in r.overdue] == ["Legal review", "Support macros", "Blog post"]
    assert r.summary == "No-go for now: 2 required item(s) open with launch in 3 days (Legal review, Support macros)."
    for item in launch.checklist.filter(offset_days__lt=0, required=True):
        services.launch_item_set_done(item=item, done=True, by=pm)
    r = selectors.launch_readiness(launch)
    assert (r.verdict, round(r.percent, 3)) == ("go", 0.667)
    assert r.summary == "Go: every required pre-launch item is done; launch in 3 days."


def test_launch_pages(pm_client, pm, product, checklist, django_assert_max_num_queries):
    item = RoadmapItemFactory(product=product, title="Wallets")
    response = pm_client.post(
        "/tooling/launches/new/",
        {
            "feature": "Wallets",
            "product": product.pk,
            "tier": "T1",
            "launch_date": "2030-01-15",
            "roadmap_item": item.pk,
            "success_1w": "Conversion +2%",
        },
    )
    launch = Launch.objects.get()
    assert response["Location"] == launch.get_absolute_url()
    assert launch.follow_ups.get(horizon="1w").success_criteria == "Conversion +2%"
    assert item.links.filter(kind="launch").exists()
    first = launch.checklist.first()
    pm_client.post(f"/tooling/launches/{launch.pk}/items/{first.pk}/", {"done": "1"})
    first.refresh_from_db()
    assert first.done_at is not None and first.done_by == pm
    follow_up = launch.follow_ups.get(horizon="1d")
    pm_client.post(
        f"/tooling/launches/{launch.pk}/follow-ups/{follow_up.pk}/",
        {"success_criteria": "No errors", "outcome": "Flat", "met": "yes"},
    )
    follow_up.refresh_from_db()
    assert (follow_up.met, follow_up.outcome) == (True, "Flat")
    body = pm_client.get(launch.get_absolute_url()).content.decode()
    assert "On track: 1 required item(s) to finish before launch" in body
    for i in range(8):
        services.launch_create(
            product=product, feature=f"F{i}", tier="T3", launch_date=datetime.date(2030, 2, i + 1), owner=pm
        )
    with django_assert_max_num_queries(10):
        response = pm_client.get("/tooling/launches/")
    assert response.content.decode().count("/tooling/launches/") >= 9


def test_launch_form_errors(pm_client, product):
    response = pm_client.post("/tooling/launches/new/", {"feature": "", "product": product.pk, "tier": "T9"})
    body = response.content.decode()
    assert "This field is required." in body
    assert "Select a valid choice. T9 is not one of the available choices." in body
    assert not Launch.objects.exists()


def test_viewer_cannot_tick_checklist(client, viewer, pm, product, checklist):
    launch = services.launch_create(
        product=product, feature="W", tier="T1", launch_date=datetime.date(2030, 1, 1), owner=pm
    )
    item = launch.checklist.first()
    client.force_login(viewer)
    assert client.post(f"/tooling/launches/{launch.pk}/items/{item.pk}/", {"done": "1"}).status_code == 403
    assert client.get("/tooling/launches/new/").status_code == 403
