"""Factories for tooling: templates through the real services so versions are published properly."""

from __future__ import annotations

import factory

from tests.factories import ProductFactory, UserFactory
from tooling import services
from tooling.models import RoadmapItem, Template, TemplateKind


class TemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Template

    kind = TemplateKind.PRD
    name = factory.Sequence(lambda n: f"Template {n}")
    slug = factory.Sequence(lambda n: f"template-{n}")
    status = Template.Status.DRAFT


SECTIONS = [
    {
        "key": "summary",
        "title": "Summary",
        "guidance": "About {{product}}",
        "placeholder": "We will…",
        "required": True,
    },
    {"key": "problem", "title": "Problem", "required": True},
    {"key": "notes", "title": "Notes", "required": False},
]


def published_version(*, kind: str = TemplateKind.PRD, sections=None, template=None, by=None):
    template = template or TemplateFactory(kind=kind)
    version = services.template_version_create(template=template, sections=sections or SECTIONS)
    return services.template_version_publish(version=version, by=by)


class RoadmapItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoadmapItem

    product = factory.SubFactory(ProductFactory)
    title = factory.Sequence(lambda n: f"Roadmap item {n}")
    owner = factory.SubFactory(UserFactory)
    horizon = RoadmapItem.Horizon.NEXT
    status = RoadmapItem.Status.PLANNED
