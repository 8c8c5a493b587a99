"""Close the loop with tooling's roadmap items; global search of themes (no PII)."""

import pytest

from feedback import services
from feedback.models import FeedbackItem, Theme
from portal.models import Notification
from portal.search import search
from tests.factories import UserFactory
from tests.feedback.factories import SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def theme_with_customers(product):
    SourceFactory(slug="zendesk")
    services.items_ingest(
        items=[
            {"source": "zendesk", "external_id": f"t{i}", "product": product.slug, "text": f"Dark mode please {i}",
             "account": {"name": f"Big {i}", "segment": "enterprise", "arr": 100_000 * (i + 1),
                         "contacts": [{"name": f"Kim {i}", "email": f"kim{i}@big{i}.test"}]},
             "contact": {"email": f"kim{i}@big{i}.test"}}
            for i in range(3)
        ]
    )  # fmt: skip
    theme = Theme.objects.create(product=product, label="Dark mode", terms={"dark": 0.8, "mode": 0.6}, size=3)
    FeedbackItem.objects.update(theme=theme)
    return theme


def _roadmap_item(product, owner, status="planned"):
    from tooling.services import roadmap_item_create

    return roadmap_item_create(product=product, title="Dark mode", by=owner, status=status, owner=owner)


def test_shipped_roadmap_item_lists_customers_and_tells_owner_once(client, pm, product, theme_with_customers):
    roadmap_item = _roadmap_item(product, pm)
    client.force_login(pm)
    response = client.post("/feedback/loop/link", {"roadmap_item": roadmap_item.pk, "theme": theme_with_customers.pk})
    assert response.status_code == 302
    assert services.shipped_loops_notify() == 0  # not shipped yet
    roadmap_item.status = "shipped"
    roadmap_item.save()
    assert services.shipped_loops_notify() == 1
    assert services.shipped_loops_notify() == 0
    note = Notification.objects.get(user=pm, kind="feedback.loop")
    assert note.title == "“Dark mode” shipped — 3 accounts asked for it"
    html = client.get(f"/feedback/loop/{roadmap_item.pk}/").content.decode()
    assert "3 accounts ($600k ARR) asked for this" in html
    assert html.index("Big 2") < html.index("Big 0")  # biggest ARR first
    assert "kim1@big1.test" in html
    csv = client.get(f"/feedback/loop/{roadmap_item.pk}/?format=csv").content.decode()
    assert csv.splitlines()[1].startswith("Big 2,enterprise,300000.00,1,")
    assert "Kim 2 <kim2@big2.test>" in csv


def test_viewers_see_accounts_but_not_contacts_and_cannot_link(client, viewer, pm, product, theme_with_customers):
    roadmap_item = _roadmap_item(product, pm, status="shipped")
    services.roadmap_link_create(roadmap_item=roadmap_item, theme=theme_with_customers, by=pm)
    client.force_login(viewer)
    html = client.get(f"/feedback/loop/{roadmap_item.pk}/").content.decode()
    assert "Big 0" in html and "kim0@big0.test" not in html
    assert "kim0" not in client.get(f"/feedback/loop/{roadmap_item.pk}/?format=csv").content.decode()
    response = client.post("/feedback/loop/link", {"roadmap_item": roadmap_item.pk, "theme": theme_with_customers.pk})
    assert response.status_code == 403


def test_pm_of_another_product_cannot_link(product, theme_with_customers, pm):
    other_pm = UserFactory(role="pm")
    roadmap_item = _roadmap_item(product, pm)
    with pytest.raises(Exception, match="not on its team"):
        services.roadmap_link_create(roadmap_item=roadmap_item, theme=theme_with_customers, by=other_pm)


def test_search_finds_themes_without_customer_data(viewer, theme_with_customers):
    results = [r for r in search("dark mode", viewer) if r.kind == "Feedback theme"]
    assert [r.title for r in results] == ["Dark mode"]
    assert "Big" not in results[0].snippet and "kim" not in results[0].snippet
    assert not [r for r in search("Big", viewer) if r.kind == "Feedback theme"]
