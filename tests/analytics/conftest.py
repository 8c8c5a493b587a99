from __future__ import annotations

import pytest

from analytics import services
from analytics.models import PropertyDefinition
from tests.analytics.factories import EventDefinitionFactory, PropertyDefinitionFactory


@pytest.fixture
def plan(product):
    """order_completed(amount number required, currency enum, coupon string), deprecated cart_viewed."""
    order = EventDefinitionFactory(product=product, name="order_completed")
    PropertyDefinitionFactory(event=order, name="amount", type=PropertyDefinition.Type.NUMBER, required=True)
    PropertyDefinitionFactory(
        event=order, name="currency", type=PropertyDefinition.Type.ENUM, enum_values=["USD", "EUR"]
    )
    PropertyDefinitionFactory(event=order, name="coupon")
    EventDefinitionFactory(product=product, name="cart_viewed", status="deprecated")
    EventDefinitionFactory(product=product, name="checkout_started")
    return order


def make_source(product, enforcement="allow", name=None):
    return services.source_create(product=product, name=name or f"web-{enforcement}", enforcement=enforcement)


@pytest.fixture
def source_key(product):
    return make_source(product, "allow")


@pytest.fixture(autouse=True)
def _clear_cache():
    """The rollup coalescing key lives in the real Redis cache and outlives a test."""
    from django.core.cache import cache

    from analytics.tasks import ROLLUP_PENDING_KEY

    cache.delete(ROLLUP_PENDING_KEY)
    yield
