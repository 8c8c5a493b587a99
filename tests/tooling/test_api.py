import pytest

from tests.factories import UserFactory
from tests.tooling.factories import RoadmapItemFactory, published_version
from tooling import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def pm_api(api_client, pm):
    api_client.force_authenticate(pm)
    return api_client


def test_create_document_via_api(pm_api, product):
    published_version(kind="experiment_brief")
    response = pm_api.post(
        "/api/v1/tooling/documents/",
        {"kind": "experiment_brief", "product": product.slug, "title": "Brief", "variables": {"notes": "x"}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["status"], body["required"]) == ("experiment_brief", "draft", 2)


def test_api_errors_name_the_field(pm_api, product, other_product):
    response = pm_api.post("/api/v1/tooling/documents/", {"kind": "memo", "product": product.slug}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["kind"] == ['"memo" is not a valid choice.']
    assert errors["title"] == ["This field is required."]
    missing = pm_api.post("/api/v1/tooling/documents/", {"kind": "retro", "product": product.slug, "title": "R"})
    assert missing.status_code == 400
    assert missing.json()["errors"] == {
        "kind": ["No published template of kind 'retro'; an ops lead publishes one in the admin."]
    }
    published_version(kind="retro")
    other = pm_api.post("/api/v1/tooling/documents/", {"kind": "retro", "product": other_product.slug, "title": "R"})
    assert other.status_code == 403
    assert "you are not on its team" in other.json()["detail"]


def test_document_list_api_query_count(pm_api, pm, product, django_assert_max_num_queries):
    version = published_version()
    for i in range(20):
        services.document_create(version=version, product=product, owner=pm, title=f"D{i}")
    with django_assert_max_num_queries(6):
        response = pm_api.get("/api/v1/tooling/documents/?kind=prd")
    assert response.json()["count"] == 20


def test_roadmap_api_create_patch_and_history(pm_api, pm, product, django_assert_max_num_queries):
    response = pm_api.post(
        "/api/v1/tooling/roadmap-items/",
        {"product": product.slug, "title": "Wallets", "horizon": "next", "reach": 100, "impact": "2", "effort": "1"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    item_id = response.json()["id"]
    assert response.json()["rice_score"] == 100.0
    patched = pm_api.patch(f"/api/v1/tooling/roadmap-items/{item_id}/", {"horizon": "now"}, format="json")
    assert patched.json()["horizon"] == "now"
    bad = pm_api.patch(f"/api/v1/tooling/roadmap-items/{item_id}/", {"target_quarter": "Q3"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["errors"]["target_quarter"] == ["Write the quarter as YYYY-QN, e.g. 2026-Q3."]
    for _ in range(10):
        RoadmapItemFactory(product=product)
    with django_assert_max_num_queries(6):
        listing = pm_api.get(f"/api/v1/tooling/roadmap-items/?product={product.slug}")
    assert listing.json()["count"] == 11


def test_viewer_reads_but_cannot_write(api_client, product):
    viewer = UserFactory(role="viewer")
    api_client.force_authenticate(viewer)
    assert api_client.get("/api/v1/tooling/roadmap-items/").status_code == 200
    response = api_client.post("/api/v1/tooling/roadmap-items/", {"product": product.slug, "title": "X"})
    assert response.status_code == 403


def test_adoption_and_launches_api(pm_api):
    published_version()
    body = pm_api.get("/api/v1/tooling/template-adoption/").json()
    assert body["summary"]["templates_published"] == 1
    assert pm_api.get("/api/v1/tooling/launches/").json()["count"] == 0
