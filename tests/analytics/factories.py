"""Analytics factories: tracking plan definitions through the model (full_clean in services)."""

from __future__ import annotations

import factory

from analytics.models import EventDefinition, NamingRule, PropertyDefinition
from tests.factories import ProductFactory


class EventDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EventDefinition

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"thing_{n}_viewed")
    status = EventDefinition.Status.ACTIVE


class PropertyDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PropertyDefinition

    event = factory.SubFactory(EventDefinitionFactory)
    name = factory.Sequence(lambda n: f"prop_{n}")
    type = PropertyDefinition.Type.STRING


class NamingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NamingRule

    name = "snake_case object_action"
    pattern = r"[a-z]+(_[a-z]+)+"
    description = "lower snake_case, object then action, e.g. order_completed"
