"""Who edits a product's objects: its team by default; every PM once an ops lead opens it."""

import pytest

from portal.permissions import can_edit_product, products_editable_by, require_product_edit
from tests.factories import ProductFactory, UserFactory
from tests.tooling.factories import published_version

pytestmark = pytest.mark.django_db


def test_a_pm_edits_only_their_teams_products_until_a_product_is_opened_to_every_pm(pm, product, other_product):
    viewer = UserFactory(role="viewer")
    researcher = UserFactory(role="researcher")
    assert can_edit_product(pm, product) and not can_edit_product(pm, other_product)
    assert list(products_editable_by(pm)) == [product]
    with pytest.raises(Exception, match="you are not on its team"):
        require_product_edit(pm, other_product)

    other_product.editable_by_all_pms = True
    other_product.save()
    assert can_edit_product(pm, other_product)
    assert set(products_editable_by(pm)) == {product, other_product}
    # Opening a product to PMs gives viewers and other roles nothing.
    assert not can_edit_product(viewer, other_product) and not products_editable_by(viewer).exists()
    assert not can_edit_product(researcher, other_product)
    assert other_product not in products_editable_by(researcher)


def test_the_switch_is_honoured_by_the_api(api_client, pm, other_product):
    published_version(kind="retro")
    api_client.force_authenticate(pm)
    body = {"kind": "retro", "product": other_product.slug, "title": "Shared retro"}
    refused = api_client.post("/api/v1/tooling/documents/", body, format="json")
    assert refused.status_code == 403
    assert "you are not on its team" in refused.json()["detail"]
    ProductFactory._meta.model.objects.filter(pk=other_product.pk).update(editable_by_all_pms=True)
    created = api_client.post("/api/v1/tooling/documents/", body, format="json")
    assert created.status_code == 201, created.json()
