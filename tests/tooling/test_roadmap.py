import pytest
from django.core.exceptions import ValidationError

from tooling import services

pytestmark = pytest.mark.django_db


def test_roadmap_item_computes_rice_score(product, pm):
    item = services.roadmap_item_create(
        product=product, title="Saved cards", by=pm, reach=4000, impact=2, confidence=80, effort=4, owner=pm
    )
    assert item.rice_score == 1600.0
    assert item.horizon == "next"


def test_roadmap_item_rejects_bad_quarter(product, pm):
    with pytest.raises(ValidationError) as exc:
        services.roadmap_item_create(product=product, title="X", by=pm, target_quarter="Q3 2026")
    assert exc.value.message_dict["target_quarter"] == ["Write the quarter as YYYY-QN, e.g. 2026-Q3."]


def test_board_adds_an_item_and_moves_record_history(pm_client, pm, product):
    response = pm_client.post(
        f"/tooling/roadmap/{product.slug}/",
        {
            "title": "Saved cards",
            "horizon": "next",
            "target_quarter": "2026-Q3",
            "status": "planned",
            "owner": pm.pk,
            "confidence": 80,
            "reach": 1000,
            "impact": "2",
            "effort": "2",
        },
    )
    assert response.status_code == 302
    item = product.roadmap_items.get()
    assert item.rice_score == 800.0
    pm_client.post(f"/tooling/roadmap/items/{item.pk}/move/", {"horizon": "now"})
    item.refresh_from_db()
    assert item.horizon == "now"
    change = item.changes.get()
    assert (change.field, change.old, change.new, change.by) == ("horizon", "next", "now", pm)
    body = pm_client.get(item.get_absolute_url()).content.decode()
    assert "moved from next to now on" in body


def test_board_form_errors_name_the_field(pm_client, product):
    response = pm_client.post(
        f"/tooling/roadmap/{product.slug}/",
        {"title": "X", "horizon": "soon", "status": "idea", "confidence": 150, "reach": 1, "impact": 1, "effort": 1},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice. soon is not one of the available choices." in body
    assert "Ensure this value is less than or equal to 100." in body


def test_viewer_cannot_change_a_roadmap(client, viewer, product):
    from tests.tooling.factories import RoadmapItemFactory

    item = RoadmapItemFactory(product=product)
    client.force_login(viewer)
    assert client.post(f"/tooling/roadmap/items/{item.pk}/move/", {"horizon": "now"}).status_code == 403
    assert "You can view this roadmap, not edit it" in client.get(f"/tooling/roadmap/{product.slug}/").content.decode()


def test_links_to_documents_experiments_and_themes(pm_client, pm, product):
    from tests.tooling.factories import RoadmapItemFactory, published_version

    published_version()
    document = services.document_create_from_template(kind="prd", product=product, owner=pm, title="Saved cards PRD")
    item = RoadmapItemFactory(product=product)
    pm_client.post(f"/tooling/roadmap/items/{item.pk}/links/", {"link-kind": "document", "link-ref": document.pk})
    pm_client.post(
        f"/tooling/roadmap/items/{item.pk}/links/",
        {"link-kind": "experiment", "link-ref": "42", "link-label": "Wallet-first checkout", "link-url": "/e/42/"},
    )
    bad = pm_client.post(
        f"/tooling/roadmap/items/{item.pk}/links/", {"link-kind": "theme", "link-ref": "7"}, follow=True
    )
    assert "Label: Give the link a label." in bad.content.decode()
    assert list(item.links.values_list("kind", "label")) == [
        ("document", "Saved cards PRD"),
        ("experiment", "Wallet-first checkout"),
    ]
    assert "Saved cards" in pm_client.get(document.get_absolute_url()).content.decode()


def test_portfolio_filters_and_query_count(pm_client, product, other_product, django_assert_max_num_queries):
    from tests.tooling.factories import RoadmapItemFactory

    for i in range(12):
        RoadmapItemFactory(product=product if i % 2 else other_product, target_quarter=f"2026-Q{i % 4 + 1}")
    with django_assert_max_num_queries(14):
        response = pm_client.get("/tooling/roadmap/")
    assert response.status_code == 200
    assert 'id="roadmap-timeline"' in response.content.decode()
    body = pm_client.get(f"/tooling/roadmap/?product={product.slug}&quarter=2026-Q2").content.decode()
    assert body.count("/tooling/roadmap/items/") == 3
    with django_assert_max_num_queries(16):
        assert pm_client.get(f"/tooling/roadmap/{product.slug}/").status_code == 200


def test_portfolio_timeline_is_memoised_on_what_it_draws(client, pm, product):
    """The timeline chart is cached by a digest of its items: an edit shows at once."""
    from tests.tooling.factories import RoadmapItemFactory
    from tooling.models import RoadmapItem

    item = RoadmapItemFactory(product=product, title="Wallet-first checkout", target_quarter="2026-Q4")
    client.force_login(pm)
    assert "Wallet-first checkout" in client.get("/tooling/roadmap/").content.decode()
    RoadmapItem.objects.filter(pk=item.pk).update(title="Split tender payments")
    page = client.get("/tooling/roadmap/").content.decode()
    chart = page[page.index('id="roadmap-timeline-data"') :]
    assert "Split tender payments" in chart and "Wallet-first checkout" not in chart
