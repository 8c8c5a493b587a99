import factory

from feedback.models import CustomerAccount, FeedbackItem, FeedbackSource, ProductArea, Theme
from tests.factories import ProductFactory


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedbackSource
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Source {n}")
    slug = factory.Sequence(lambda n: f"source-{n}")
    kind = "support"


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerAccount

    name = factory.Sequence(lambda n: f"Account {n}")
    name_key = factory.LazyAttribute(lambda a: a.name.lower())
    segment = "enterprise"
    arr = 50_000


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductArea

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Area {n}")
    keywords = ""


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Theme

    label = factory.Sequence(lambda n: f"Theme {n}")
    terms = factory.LazyFunction(dict)


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedbackItem

    source = factory.SubFactory(SourceFactory)
    external_id = factory.Sequence(lambda n: f"ext-{n}")
    text = "The checkout page is slow"
    created_at = factory.Faker("date_time_this_month", tzinfo=__import__("datetime").timezone.utc)
