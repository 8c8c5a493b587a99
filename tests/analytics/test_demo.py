"""The demo seed: small mode is quick, realistic and idempotent."""

from __future__ import annotations

import pytest

from analytics import demo
from analytics.models import Dashboard, Event, EventDefinition, TileResult, ViolationType
from portal.demo import seed_org


def counts():
    return (
        Event.objects.count(),
        Event.objects.filter(status="quarantined").count(),
        EventDefinition.objects.count(),
        Dashboard.objects.count(),
        ViolationType.objects.count(),
    )


@pytest.mark.django_db
def test_seed_small_twice_gives_the_same_counts():
    org = seed_org()
    summary = demo.seed(org, small=True)
    first = counts()
    assert 3_000 < first[0] < 8_000, summary
    assert first[1] > 0 and first[4] > 0  # some violations, some quarantined
    assert Dashboard.objects.filter(product=org.products["checkout"], template__slug="product-health").exists()
    health = Dashboard.objects.get(product=org.products["checkout"], template__slug="product-health")
    assert TileResult.objects.filter(tile__dashboard=health, status="ready").count() == health.tiles.count()
    demo.seed(org, small=True)
    assert counts() == first
    # the funnel narrows step by step, as a real one does
    from analytics import queries

    funnel = queries.run(
        org.products["checkout"].pk,
        {"type": "funnel", "steps": "$key_funnel"}
        | {"steps": ["cart_viewed", "checkout_started", "payment_submitted", "order_completed"], "date_from": "-89d"},
    )
    steps = [s["count"] for s in funnel["steps"]]
    assert steps == sorted(steps, reverse=True) and steps[-1] > 0
