"""Simulated traffic for an experiment: exposures and metric events through analytics ingestion.

Used by the demo seed and the tests (deterministic with a seed). Not used in production paths.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from experiments import bucketing
from experiments.models import EXPOSURE_EVENT, Experiment

BATCH = 5000


@dataclass
class Effect:
    """How a variant behaves: conversion rates per event and mean value of a numeric property."""

    rates: dict[str, float] = field(default_factory=dict)  # event -> probability a unit does it
    values: dict[str, tuple[str, float, float]] = field(default_factory=dict)  # event -> (prop, mean, sd)


def simulate(
    experiment: Experiment,
    *,
    units: int,
    start: datetime,
    days: int,
    effects: dict[str, Effect],
    seed: int = 1,
    drop_exposures: dict[str, float] | None = None,
    pre_period: bool = True,
    prefix: str = "u",
) -> int:
    """Expose `units` units over `days` days from `start`; returns the number of events ingested.

    `drop_exposures` loses that share of a variant's exposure events (a broken logger: the cause
    of sample-ratio mismatches). With `pre_period`, units also act in the 14 days before exposure
    at the control rates (the CUPED covariate).
    """
    from analytics.services import events_ingest

    rng = random.Random(seed)
    variants = list(experiment.variants.all())
    weights = [v.weight for v in variants]
    control = effects[variants[0].key]
    batch: list[dict] = []
    total = 0

    def flush() -> None:
        nonlocal total, batch
        if batch:
            events_ingest(product=experiment.product, events=batch)
            total += len(batch)
            batch = []

    span = days * 86400
    horizon = start + timedelta(seconds=span)  # nothing happens after the simulated period (or now)
    for i in range(units):
        unit = f"{prefix}{experiment.key[:12]}-{i}"
        variant = variants[bucketing.choose(experiment.key, unit, weights)]
        effect = effects.get(variant.key, control)
        first = start + timedelta(seconds=rng.random() * span)
        if not (drop_exposures and rng.random() < drop_exposures.get(variant.key, 0)):
            batch.append(
                {
                    "event": EXPOSURE_EVENT,
                    "distinct_id": unit,
                    "timestamp": first.isoformat(),
                    "properties": {"experiment": experiment.key, "variant": variant.key},
                }
            )
        propensity = 0.4 + 1.2 * rng.random()  # heavy and light users: pre and post behaviour correlate
        for event, rate in effect.rates.items():
            if rng.random() < min(1.0, rate * propensity):
                at = min(first + timedelta(hours=min(96.0, rng.expovariate(1 / 12))), horizon)
                batch.append(
                    {
                        "event": event,
                        "distinct_id": unit,
                        "timestamp": at.isoformat(),
                        "properties": _props(rng, effect, event),
                    }
                )
            if pre_period and rng.random() < min(1.0, control.rates.get(event, 0) * propensity * 0.8):
                at = first - timedelta(hours=1 + rng.random() * 300)
                batch.append(
                    {
                        "event": event,
                        "distinct_id": unit,
                        "timestamp": at.isoformat(),
                        "properties": _props(rng, control, event),
                    }
                )
        if len(batch) >= BATCH:
            flush()
    flush()
    return total


def _props(rng: random.Random, effect: Effect, event: str) -> dict:
    if event not in effect.values:
        return {}
    prop, mean, sd = effect.values[event]
    return {prop: round(max(1.0, rng.gauss(mean, sd)), 2)}
