import pytest

from tests.tooling.factories import RoadmapItemFactory, published_version
from tooling import services

pytestmark = pytest.mark.django_db


def test_search_finds_documents_templates_and_roadmap_items(pm_client, pm, product):
    version = published_version()
    version.template.name = "Wallet launch template"
    version.template.save()
    doc = services.document_create_from_template(kind="prd", product=product, owner=pm, title="Saved cards")
    services.document_update(document=doc, by=pm, sections={"problem": "Customers re-type their wallet details"})
    RoadmapItemFactory(product=product, title="Wallet-first checkout", description="Make wallets the default")
    body = pm_client.get("/search/", {"q": "wallet"}).content.decode()
    assert "Saved cards" in body
    assert "Wallet launch template" in body
    assert "Wallet-first checkout" in body
    assert doc.get_absolute_url() in body
