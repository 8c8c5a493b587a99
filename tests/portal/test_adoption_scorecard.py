"""Adoption dashboard and benefits scorecard, computed from real usage generated here."""

from __future__ import annotations

import pytest

from portal import usage
from portal.services import audit_record
from tooling.services import document_create_from_template
from tooling.standard_templates import install


@pytest.fixture(autouse=True)
def empty_buffer(db):
    client = usage._redis()
    client.delete(usage.buffer_key())
    usage._portal_product_id = None
    yield
    client.delete(usage.buffer_key())


def test_adoption_is_for_ops_leads(client, pm):
    client.force_login(pm)
    assert client.get("/adoption/").status_code == 403


def test_adoption_counts_usage_generated_by_browsing(client, pm, ops_lead, product, django_assert_max_num_queries):
    client.force_login(pm)
    client.get("/")
    client.get("/scorecard/", {"product": product.slug})
    client.get("/search/", {"q": "checkout"})
    usage.flush_all()
    client.force_login(ops_lead)
    with django_assert_max_num_queries(25):
        response = client.get("/adoption/")
    assert response.status_code == 200
    ctx = response.context
    assert ctx["glance"]["active_pms"] == 1
    assert ctx["glance"]["searches"] == 1
    portal_row = next(r for r in ctx["tools"] if r["tool"] == "portal")
    assert portal_row["views"] == 3 and portal_row["people"] == 1
    assert "analytics" in ctx["unused"]
    product_row = next(r for r in ctx["products"] if r["product"] == product)
    assert product_row["views"] == 1
    csv = b"".join(client.get("/adoption/?export=tools").streaming_content).decode()
    assert csv.splitlines()[0] == "tool,page_views_30d,actions_30d,people_30d,last_used"


def test_scorecard_measures_leverage_and_quality_from_real_records(
    client, pm, product, ops_lead, django_assert_max_num_queries
):
    install(by=ops_lead)
    document_create_from_template(kind="prd", product=product, owner=pm, title="Reorder PRD")
    audit_record(actor=pm, action="experiment.create", target=product)
    client.force_login(pm)
    with django_assert_max_num_queries(30):
        response = client.get("/scorecard/")
    body = response.content.decode()
    for promise in ["PM leverage", "Quality consistency", "Faster ramp", "Better analytics", "Cross-product learning"]:
        assert promise in body
    assert "Gatekeeping meter" in body and "Definition." in body
    measures = {row["measure"].key: row["measure"] for row in response.context["rows"]}
    assert measures["leverage"].series["Self-serve actions"][-1] == 2  # document.create + experiment.create
    assert measures["quality"].series["Completeness (%)"][-1] == 0.0  # nothing written yet
    csv = b"".join(client.get("/scorecard/?export=csv").streaming_content).decode()
    assert "PM leverage,Self-serve actions" in csv
