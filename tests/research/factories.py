from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from research.models import (
    ConsentRecord,
    ContactLog,
    EligibilityRule,
    Highlight,
    Insight,
    Participant,
    Session,
    Study,
)
from research.services import participant_stats_refresh
from tests.factories import ProductFactory, UserFactory


class EligibilityRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EligibilityRule

    name = factory.Sequence(lambda n: f"Rules {n}")
    is_default = True
    cooldown_days = 30
    max_sessions = 2
    window_days = 180
    no_show_limit = 2


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"person{n}@customer.test")
    company = factory.Faker("company")
    role = "Store owner"
    country = "US"
    timezone = "America/New_York"
    source = "csv import"
    attributes = factory.LazyFunction(lambda: {"plan": "pro"})


def _refresh_stats(obj, create, extracted, **kwargs):
    # Rows made outside the services: keep the participant's eligibility columns in step.
    if create:
        participant_stats_refresh(participant_ids=[obj.participant_id])


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentRecord
        skip_postgeneration_save = True

    refresh = factory.PostGeneration(_refresh_stats)

    participant = factory.SubFactory(ParticipantFactory)
    scope = "research"
    granted = True
    granted_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=10))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=300))


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactLog
        skip_postgeneration_save = True

    refresh = factory.PostGeneration(_refresh_stats)

    participant = factory.SubFactory(ParticipantFactory)
    kind = "attended"
    at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=60))


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Study
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Study {n}")
    method = "interview"
    status = "recruiting"
    owner = factory.SubFactory(UserFactory, role="researcher")
    research_questions = "Why do people leave?"

    @factory.post_generation
    def products(self, create, extracted, **kwargs):
        if create:
            self.products.set(extracted or [ProductFactory()])


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    study = factory.SubFactory(StudyFactory)
    participant = factory.SubFactory(ParticipantFactory)
    scheduled_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=2))
    status = "completed"
    notes = "The delivery fee surprised me at the end. I wanted to pay with my wallet."


class HighlightFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Highlight

    session = factory.SubFactory(SessionFactory)
    study = factory.LazyAttribute(lambda h: h.session.study)
    participant = factory.LazyAttribute(lambda h: h.session.participant)
    excerpt = "The delivery fee surprised me at the end"
    created_at = factory.LazyFunction(timezone.now)


class InsightFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Insight
        skip_postgeneration_save = True

    statement = factory.Sequence(lambda n: f"Shoppers abandon checkout over surprise delivery fees {n}")
    created_by = factory.SubFactory(UserFactory, role="researcher")
    status = "published"
    published_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def products(self, create, extracted, **kwargs):
        if create:
            self.products.set(extracted or [ProductFactory()])
