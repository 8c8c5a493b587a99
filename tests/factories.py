"""factory_boy factories for the portal's org model; apps add theirs in tests/<app>/factories.py."""

from __future__ import annotations

import factory

from portal.models import BusinessUnit, Market, Product, User
from portal.services import user_set_role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = "pm"
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def sync_role(self, create, extracted, **kwargs):
        if create:
            self.save()
            user_set_role(user=self, role=self.role, by=None)


class BusinessUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessUnit

    name = factory.Sequence(lambda n: f"Unit {n}")
    slug = factory.Sequence(lambda n: f"unit-{n}")


class MarketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Market
        django_get_or_create = ("code",)

    code = "NA"
    name = "North America"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    unit = factory.SubFactory(BusinessUnitFactory)
