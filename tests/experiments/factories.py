"""Experiments factories: metrics through the model; experiments through the service."""

from __future__ import annotations

import factory

from experiments import services
from experiments.models import ExperimentTemplate, Metric
from tests.factories import ProductFactory


class MetricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Metric

    key = factory.Sequence(lambda n: f"metric_{n}")
    name = factory.Sequence(lambda n: f"Metric {n}")
    product = factory.SubFactory(ProductFactory)
    kind = Metric.Kind.CONVERSION
    event = "order_completed"
    window_hours = 168


class ExperimentTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExperimentTemplate

    name = factory.Sequence(lambda n: f"Template {n}")
    hypothesis_change = "change the thing"


_counter = iter(range(1, 10**6))


def make_experiment(*, by, product, primary=None, guardrails=(), secondary=(), key=None, **kwargs):
    primary = primary or MetricFactory(product=product, event="order_completed", name="Order conversion")
    n = next(_counter)
    return services.experiment_create(
        by=by,
        product=product,
        key=key or f"exp-{n}",
        name=kwargs.pop("name", f"Experiment {n}"),
        hypothesis_change=kwargs.pop("hypothesis_change", "show express checkout"),
        hypothesis_audience=kwargs.pop("hypothesis_audience", "returning buyers"),
        hypothesis_impact=kwargs.pop("hypothesis_impact", "rise by 3%"),
        primary_metric=primary,
        guardrail_metrics=guardrails,
        secondary_metrics=secondary,
        create_brief=kwargs.pop("create_brief", False),
        **kwargs,
    )
