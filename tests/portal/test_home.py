"""Home "my work": every demo role gets its variant with a bounded number of queries."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from portal.models import User
from tests.feedback.factories import ThemeFactory
from tooling.services import document_create_from_template, roadmap_item_create

ROLE_VARIANTS = {
    "pm": "Your documents",
    "newpm": "Your roadmap items",
    "ops": "Shared standards",
    "ravi": "Adoption at a glance",
    "researcher": "Your studies",
    "viewer": "Recent experiment decisions",
    "cfo": "Upcoming launches",
    "admin": "Shared standards",
}


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--small", "--only", "tooling")
    return {u.username: u for u in User.objects.all()}


def test_home_shows_each_demo_role_its_variant_with_bounded_queries(client, demo, django_assert_max_num_queries):
    from portal.models import Product

    checkout = Product.objects.get(slug="checkout")
    document_create_from_template(kind="prd", product=checkout, owner=demo["pm"], title="One-click reorder PRD")
    roadmap_item_create(product=checkout, title="Saved carts", by=demo["pm"], owner=demo["pm"], status="planned")
    for username, marker in ROLE_VARIANTS.items():
        client.force_login(demo[username])
        with django_assert_max_num_queries(22):
            response = client.get("/")
        assert response.status_code == 200, username
        body = response.content.decode()
        assert marker in body, username
        if username == "pm":
            assert "One-click reorder PRD" in body
            assert "Saved carts" in body
            main = body.split("<main")[1].split("<footer")[0]
            assert "Product Ops Portal" not in main  # the internal product is never listed


def test_pm_sees_feedback_spikes_in_their_products_only(client, pm, product, other_product):
    from feedback.models import SpikeAlert

    mine = ThemeFactory(product=product, label="Promo code rejected at checkout")
    theirs = ThemeFactory(product=other_product, label="Invoice PDF missing VAT")
    SpikeAlert.objects.create(theme=mine, week="2026-11-16", volume=40, baseline=8.0)
    SpikeAlert.objects.create(theme=theirs, week="2026-11-16", volume=30, baseline=5.0)
    client.force_login(pm)
    body = client.get("/").content.decode()
    assert "Promo code rejected at checkout" in body
    assert "Invoice PDF missing VAT" not in body


def test_sections_of_apps_without_data_show_empty_states(client, pm):
    client.force_login(pm)
    body = client.get("/").content.decode()
    assert "No spikes in the last 30 days" in body
    assert "No documents yet" in body
    assert "No reviews waiting for you" in body


def test_product_list_selector_leaves_out_internal_products(db):
    from portal import selectors, usage

    usage.portal_product_ensure()
    assert "portal" not in {p.slug for p in selectors.product_list()}
    assert selectors.product_get("portal").is_internal
