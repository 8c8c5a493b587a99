"""Writes for experiments: create, change, start, stop, decide, archive; assignment; results.

Every service takes keyword-only arguments, checks permissions server-side (PMs change their own
products' experiments, ops leads everywhere, viewers never), validates with full_clean and raises
ValidationError naming the field.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from experiments import bucketing, engine
from experiments.models import (
    EXPOSURE_EVENT,
    Experiment,
    ExperimentMetric,
    ExperimentTemplate,
    Metric,
    ResultSnapshot,
    Variant,
)
from portal.models import Product, User
from portal.permissions import require_ops_lead, require_product_edit
from portal.services import audit_record, notify

log = logging.getLogger(__name__)

RESERVED_KEYS = {"new", "power", "metrics", "guide"}
FROZEN_MESSAGE = (
    "Variants and weights cannot change once the experiment has started: changing them mid-test "
    "invalidates the results. Stop it and start a follow-up experiment instead."
)


# ---------------------------------------------------------------------------------------------
# Metrics


@transaction.atomic
def metric_create(
    *,
    by: User,
    key: str,
    name: str,
    event: str,
    product: Product | None = None,
    kind: str = Metric.Kind.CONVERSION,
    value_property: str = "",
    denominator_event: str = "",
    denominator_property: str = "",
    window_hours: int = 168,
    direction: str = Metric.Direction.HIGHER,
    description: str = "",
) -> Metric:
    """Define a metric for a product (its team) or a shared one (ops leads: a shared standard)."""
    if product is None:
        require_ops_lead(by)
    else:
        require_product_edit(by, product)
    metric = Metric(
        key=key,
        name=name,
        event=event,
        product=product,
        kind=kind,
        value_property=value_property,
        denominator_event=denominator_event.strip(),
        denominator_property=denominator_property.strip(),
        window_hours=window_hours,
        direction=direction,
        description=description,
        created_by=by,
    )
    metric.full_clean()
    metric.save()
    if product is None:
        audit_record(actor=by, action="experiment_metric.create", target=metric)
    return metric


# ---------------------------------------------------------------------------------------------
# Experiments


def _clean_variants(variants: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(variants) < 2:
        raise ValidationError({"variants": "An experiment needs a control and at least one treatment."})
    cleaned = []
    keys = set()
    for index, raw in enumerate(variants, start=1):
        key = str(raw.get("key", "")).strip()
        name = str(raw.get("name", "")).strip() or key.replace("_", " ").capitalize()
        try:
            weight = float(raw.get("weight"))
        except (TypeError, ValueError):
            raise ValidationError({"variants": f"Variant {index}: weight must be a number between 0 and 1."}) from None
        if not key:
            raise ValidationError({"variants": f"Variant {index}: a key is required (e.g. control, treatment)."})
        if key in keys:
            raise ValidationError({"variants": f"Variant {index}: the key '{key}' is used twice."})
        if not (0 < weight <= 1) or math.isnan(weight):
            raise ValidationError({"variants": f"Variant {index} ({key}): weight must be above 0 and at most 1."})
        keys.add(key)
        cleaned.append({"key": key, "name": name, "weight": weight, "description": raw.get("description", "")})
    total = sum(v["weight"] for v in cleaned)
    if abs(total - 1) > 1e-6:
        raise ValidationError({"variants": f"Variant weights must sum to 1 (they sum to {total:g})."})
    return cleaned


def _set_variants(experiment: Experiment, variants: list[dict[str, Any]]) -> None:
    experiment.variants.all().delete()
    for position, v in enumerate(variants):
        variant = Variant(experiment=experiment, position=position, **v)
        variant.full_clean()
        variant.save()


def _rename_variants(experiment: Experiment, variants: Sequence[dict[str, Any]]) -> None:
    """A running experiment's variants keep their keys and weights; names and descriptions may
    still be corrected."""
    wanted = {str(v.get("key")): v for v in variants}
    for variant in experiment.variants.all():
        given = wanted[variant.key]
        name = str(given.get("name", variant.name)).strip() or variant.name
        description = str(given.get("description", variant.description)).strip()
        if (name, description) != (variant.name, variant.description):
            variant.name, variant.description = name, description
            variant.full_clean()
            variant.save(update_fields=["name", "description"])


def _metric_for(product: Product, metric: Metric | str, field: str) -> Metric:
    if isinstance(metric, Metric):
        if metric.product_id not in (None, product.pk):
            raise ValidationError({field: f"Metric '{metric.key}' belongs to another product."})
        return metric
    found = (
        Metric.objects.filter(key=metric, product=product).first()
        or Metric.objects.filter(key=metric, product__isnull=True).first()
    )
    if found is None:
        raise ValidationError({field: f"Unknown metric '{metric}': define it first (shared or for {product.name})."})
    return found


def _set_metrics(
    experiment: Experiment,
    *,
    primary: Metric | str,
    secondary: Sequence[Metric | str],
    guardrails: Sequence[Metric | str],
) -> None:
    product = experiment.product
    chosen: list[tuple[Metric, str]] = [(_metric_for(product, primary, "primary_metric"), "primary")]
    chosen += [(_metric_for(product, m, "secondary_metrics"), "secondary") for m in secondary]
    chosen += [(_metric_for(product, m, "guardrail_metrics"), "guardrail") for m in guardrails]
    seen: set[int] = set()
    experiment.experiment_metrics.all().delete()
    for position, (metric, role) in enumerate(chosen):
        if metric.pk in seen:
            raise ValidationError({f"{role}_metrics": f"Metric '{metric.key}' is listed twice."})
        seen.add(metric.pk)
        ExperimentMetric.objects.create(experiment=experiment, metric=metric, role=role, position=position)


def _create_brief(experiment: Experiment, by: User):
    """The experiment brief from tooling's template system; None if no template is published."""
    from tooling.services import document_create_from_template

    variables = {
        "experiment_name": experiment.name,
        "experiment_key": experiment.key,
        "hypothesis": experiment.hypothesis,
        "primary_metric": ", ".join(
            em.metric.name for em in experiment.experiment_metrics.all() if em.role == "primary"
        ),
        "mde": f"{experiment.mde * 100:.1f}%",
        "variants": ", ".join(f"{v.name} ({v.weight * 100:.0f}%)" for v in experiment.variants.all()),
    }
    try:
        with transaction.atomic():
            document = document_create_from_template(
                kind="experiment_brief",
                product=experiment.product,
                owner=by,
                title=f"Experiment brief: {experiment.name}",
                variables=variables,
            )
    except ValidationError as exc:  # no published experiment-brief template: the experiment still gets created
        log.warning("experiment brief not created for %s: %s", experiment.key, exc)
        return None
    return document


@transaction.atomic
def experiment_create(
    *,
    by: User,
    product: Product,
    key: str,
    name: str,
    hypothesis_change: str,
    hypothesis_audience: str,
    hypothesis_impact: str,
    hypothesis_metric: str = "",
    variants: Sequence[dict[str, Any]] | None = None,
    primary_metric: Metric | str,
    secondary_metrics: Sequence[Metric | str] = (),
    guardrail_metrics: Sequence[Metric | str] = (),
    mde: float = 0.05,
    alpha: float = 0.05,
    power: float = 0.8,
    engine_name: str = Experiment.Engine.FREQUENTIST,
    planned_start: date | None = None,
    planned_end: date | None = None,
    tags: Sequence[str] = (),
    template: ExperimentTemplate | None = None,
    prd=None,
    roadmap_item=None,
    owner: User | None = None,
    create_brief: bool = True,
) -> Experiment:
    require_product_edit(by, product)
    if key in RESERVED_KEYS:
        raise ValidationError({"key": f"'{key}' is reserved for a page of the portal: choose another key."})
    if Experiment.objects.filter(key=key).exists():
        raise ValidationError({"key": f"The key '{key}' is taken: experiment keys are unique across products."})
    cleaned_variants = _clean_variants(
        variants
        or [
            {"key": "control", "name": "Control", "weight": 0.5},
            {"key": "treatment", "name": "Treatment", "weight": 0.5},
        ]
    )
    experiment = Experiment(
        key=key,
        name=name,
        product=product,
        owner=owner or by,
        template=template,
        hypothesis_change=hypothesis_change,
        hypothesis_audience=hypothesis_audience,
        hypothesis_impact=hypothesis_impact,
        hypothesis_metric=hypothesis_metric,
        mde=mde,
        alpha=alpha,
        power=power,
        engine=engine_name,
        planned_start=planned_start,
        planned_end=planned_end,
        tags=sorted({t.strip().lower() for t in tags if t.strip()}),
        prd=prd,
        roadmap_item=roadmap_item,
    )
    experiment.full_clean()
    experiment.save()
    _set_variants(experiment, cleaned_variants)
    _set_metrics(experiment, primary=primary_metric, secondary=secondary_metrics, guardrails=guardrail_metrics)
    if create_brief:
        experiment.brief = _create_brief(experiment, by)
        if experiment.brief is not None:
            experiment.save(update_fields=["brief"])
    audit_record(actor=by, action="experiment.create", target=experiment, changes={"product": product.slug})
    return experiment


EDITABLE_FIELDS = {
    "name",
    "hypothesis_change",
    "hypothesis_audience",
    "hypothesis_impact",
    "hypothesis_metric",
    "mde",
    "alpha",
    "power",
    "engine",
    "correction",
    "planned_start",
    "planned_end",
    "tags",
    "prd",
    "roadmap_item",
    "learnings",
}


@transaction.atomic
def experiment_update(
    *,
    experiment: Experiment,
    by: User,
    variants: Sequence[dict[str, Any]] | None = None,
    primary_metric: Metric | str | None = None,
    secondary_metrics: Sequence[Metric | str] | None = None,
    guardrail_metrics: Sequence[Metric | str] | None = None,
    **fields: Any,
) -> Experiment:
    """Change an experiment. Variants, weights and metrics are frozen once it has started."""
    require_product_edit(by, experiment.product)
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    if variants is not None:
        if experiment.is_frozen:
            current = [(v.key, round(v.weight, 9)) for v in experiment.variants.all()]
            wanted = [(str(v.get("key")), round(float(v.get("weight", -1)), 9)) for v in variants]
            if current != wanted:
                raise ValidationError({"variants": FROZEN_MESSAGE})
            _rename_variants(experiment, variants)  # labels only: assignment hashes keys and weights
        else:
            _set_variants(experiment, _clean_variants(variants))
    if any(m is not None for m in (primary_metric, secondary_metrics, guardrail_metrics)):
        if experiment.is_frozen:
            raise ValidationError({"primary_metric": "Metrics cannot change once the experiment has started."})
        ems = list(experiment.experiment_metrics.select_related("metric"))
        current = {role: [em.metric for em in ems if em.role == role] for role in ("primary", "secondary", "guardrail")}
        _set_metrics(
            experiment,
            primary=primary_metric or current["primary"][0],
            secondary=secondary_metrics if secondary_metrics is not None else current["secondary"],
            guardrails=guardrail_metrics if guardrail_metrics is not None else current["guardrail"],
        )
    if experiment.status in (Experiment.Status.DECIDED, Experiment.Status.ARCHIVED):
        locked = sorted(set(fields) - {"learnings", "tags", "name"})
        if locked:
            raise ValidationError(
                {name: "A decided experiment only takes name, tags and learnings." for name in locked}
            )
    for name, value in fields.items():
        if name == "tags":
            value = sorted({t.strip().lower() for t in value if t.strip()})
        setattr(experiment, name, value)
    experiment.full_clean()
    experiment.save()
    return experiment


def checklist(experiment: Experiment) -> list[dict[str, Any]]:
    """The advisory pre-launch checklist (shown, never a gate)."""
    ems = list(experiment.experiment_metrics.all())
    return [
        {
            "key": "metric",
            "label": "Primary metric defined",
            "done": any(em.role == "primary" for em in ems),
            "hint": "Pick the one metric the decision hangs on before you look at data.",
        },
        {
            "key": "sample_size",
            "label": "Sample size computed",
            "done": bool(experiment.mde and experiment.power and experiment.alpha),
            "hint": "Use the power calculator: units per variant for your MDE, alpha and power.",
        },
        {
            "key": "guardrails",
            "label": "Guardrails chosen",
            "done": any(em.role == "guardrail" for em in ems),
            "hint": "Add metrics that must not get worse (errors, refunds, latency).",
        },
        {
            "key": "duration",
            "label": "Duration planned",
            "done": bool(experiment.planned_start and experiment.planned_end),
            "hint": "Plan at least one full week so weekday effects even out.",
        },
    ]


@transaction.atomic
def experiment_start(*, experiment: Experiment, by: User) -> Experiment:
    require_product_edit(by, experiment.product)
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if experiment.status != Experiment.Status.DRAFT:
        raise ValidationError(
            {"status": f"Only a draft can start; this experiment is {experiment.get_status_display().lower()}."}
        )
    _clean_variants([{"key": v.key, "name": v.name, "weight": v.weight} for v in experiment.variants.all()])
    if not experiment.experiment_metrics.filter(role="primary").exists():
        raise ValidationError({"primary_metric": "Choose a primary metric before starting."})
    experiment.status = Experiment.Status.RUNNING
    experiment.started_at = timezone.now()
    experiment.save(update_fields=["status", "started_at", "updated_at"])
    open_items = [item["label"] for item in checklist(experiment) if not item["done"]]
    audit_record(actor=by, action="experiment.start", target=experiment, changes={"checklist_open": open_items})
    return experiment


@transaction.atomic
def experiment_stop(*, experiment: Experiment, by: User, reason: str) -> Experiment:
    require_product_edit(by, experiment.product)
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if experiment.status != Experiment.Status.RUNNING:
        raise ValidationError({"status": "Only a running experiment can be stopped."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why you are stopping (e.g. reached sample size, guardrail regression)."})
    experiment.status = Experiment.Status.STOPPED
    experiment.stopped_at = timezone.now()
    experiment.stop_reason = reason.strip()
    experiment.save(update_fields=["status", "stopped_at", "stop_reason", "updated_at"])
    audit_record(actor=by, action="experiment.stop", target=experiment, changes={"reason": experiment.stop_reason})
    results_request(experiment=experiment, by=by)
    return experiment


@transaction.atomic
def experiment_decide(
    *, experiment: Experiment, by: User, decision: str, rationale: str, learnings: str = ""
) -> Experiment:
    """Record the PM's decision (no approval needed). A running experiment is stopped first."""
    require_product_edit(by, experiment.product)
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if decision not in Experiment.Decision.values:
        raise ValidationError({"decision": f"Choose one of: {', '.join(Experiment.Decision.values)}."})
    if not rationale.strip():
        raise ValidationError({"rationale": "Explain the decision in a sentence or two (others will read it)."})
    if experiment.status == Experiment.Status.RUNNING:
        experiment.stopped_at = timezone.now()
        experiment.stop_reason = experiment.stop_reason or f"Stopped to record the decision: {decision}."
    elif experiment.status != Experiment.Status.STOPPED:
        raise ValidationError({"status": "Only a running or stopped experiment can be decided."})
    experiment.status = Experiment.Status.DECIDED
    experiment.decision = decision
    experiment.decision_rationale = rationale.strip()
    if learnings.strip():
        experiment.learnings = learnings.strip()
    experiment.decided_at = timezone.now()
    experiment.decided_by = by
    experiment.full_clean()
    experiment.save()
    audit_record(
        actor=by, action="experiment.decide", target=experiment, changes={"decision": decision, "rationale": rationale}
    )
    return experiment


@transaction.atomic
def experiment_archive(*, experiment: Experiment, by: User) -> Experiment:
    require_product_edit(by, experiment.product)
    if experiment.status != Experiment.Status.DECIDED:
        raise ValidationError({"status": "Decide the experiment before archiving it."})
    experiment.status = Experiment.Status.ARCHIVED
    experiment.archived_at = timezone.now()
    experiment.save(update_fields=["status", "archived_at", "updated_at"])
    audit_record(actor=by, action="experiment.archive", target=experiment)
    return experiment


# ---------------------------------------------------------------------------------------------
# Assignment


def assignment_get(*, experiment: Experiment, unit_id: str, record: bool = True) -> dict[str, Any]:
    """The unit's variant (deterministic hash bucketing); records an exposure while running."""
    unit_id = (unit_id or "").strip()
    if not unit_id:
        raise ValidationError({"unit_id": "unit_id is required (the user or device id the variant is for)."})
    if len(unit_id) > 200:
        raise ValidationError({"unit_id": "unit_id must be at most 200 characters."})
    variants = list(experiment.variants.all())
    if experiment.status != Experiment.Status.RUNNING:
        control = variants[0]
        return {
            "experiment": experiment.key,
            "unit_id": unit_id,
            "variant": control.key,
            "in_experiment": False,
            "reason": f"The experiment is {experiment.get_status_display().lower()}: everyone gets {control.name}.",
        }
    index = bucketing.choose(experiment.key, unit_id, [v.weight for v in variants])
    variant = variants[index]
    if record:
        from analytics.services import events_ingest

        events_ingest(
            product=experiment.product,
            events=[
                {
                    "event": EXPOSURE_EVENT,
                    "distinct_id": unit_id,
                    "timestamp": timezone.now().isoformat(),
                    "properties": {"experiment": experiment.key, "variant": variant.key},
                }
            ],
        )
    return {"experiment": experiment.key, "unit_id": unit_id, "variant": variant.key, "in_experiment": True}


# ---------------------------------------------------------------------------------------------
# Results


@transaction.atomic
def results_request(*, experiment: Experiment, by: User | None = None) -> ResultSnapshot:
    """Queue a refresh (one pending at a time); the worker computes it."""
    from experiments.tasks import refresh_results

    pending = experiment.snapshots.filter(status__in=[ResultSnapshot.Status.QUEUED, ResultSnapshot.Status.COMPUTING])
    existing = pending.first()
    if existing is not None:
        return existing
    snapshot = ResultSnapshot.objects.create(experiment=experiment, requested_by=by)
    refresh_results.delay_on_commit(snapshot.pk)
    return snapshot


NO_EXPOSURE_RECHECK_SECONDS = 5 * 60


def results_stale_without_exposures(experiment: Experiment) -> bool:
    """True when a running experiment's latest snapshot said "no exposures" more than a few
    minutes ago and no refresh is pending: units may have been exposed since (the hourly refresh
    would leave the page saying "No exposures yet" for up to an hour)."""
    if experiment.status != Experiment.Status.RUNNING:
        return False
    latest = (
        experiment.snapshots.filter(status=ResultSnapshot.Status.READY)
        .order_by("-computed_at", "-pk")
        .only("units", "computed_at", "status")
        .first()
    )
    if latest is None or latest.units or latest.computed_at is None:
        return False
    age = (timezone.now() - latest.computed_at).total_seconds()
    if age < NO_EXPOSURE_RECHECK_SECONDS:
        return False
    return not experiment.snapshots.filter(
        status__in=[ResultSnapshot.Status.QUEUED, ResultSnapshot.Status.COMPUTING]
    ).exists()


def results_compute(
    *, experiment: Experiment, snapshot: ResultSnapshot | None = None, as_of: datetime | None = None
) -> ResultSnapshot:
    """Compute and store a snapshot now (the worker and the demo seed call this)."""
    if snapshot is None:
        snapshot = ResultSnapshot.objects.create(experiment=experiment)
    ResultSnapshot.objects.filter(pk=snapshot.pk).update(status=ResultSnapshot.Status.COMPUTING)
    try:
        out = engine.compute(experiment, as_of=as_of)
    except Exception as exc:
        ResultSnapshot.objects.filter(pk=snapshot.pk).update(
            status=ResultSnapshot.Status.FAILED, error=str(exc)[:2000], computed_at=timezone.now()
        )
        raise
    with transaction.atomic():
        snapshot.status = ResultSnapshot.Status.READY
        snapshot.computed_at = timezone.now() if as_of is None else as_of
        snapshot.as_of = out.as_of
        snapshot.units = out.units
        snapshot.multi_exposed_units = out.multi_exposed_units
        snapshot.srm_p_value = out.srm_p_value
        snapshot.variants = out.variants
        snapshot.results = out.results
        snapshot.health = out.health
        snapshot.daily_exposures = out.daily_exposures
        snapshot.sql_ms = out.sql_ms
        snapshot.stats_ms = out.stats_ms
        snapshot.error = ""
        snapshot.save()
        if any(check["code"] == "srm" for check in out.health):
            _notify_srm(experiment, snapshot)
    return snapshot


def _notify_srm(experiment: Experiment, snapshot: ResultSnapshot) -> None:
    message = next(c["message"] for c in snapshot.health if c["code"] == "srm")
    created = notify(
        user=experiment.owner,
        kind="experiment.srm",
        title=f"Sample ratio mismatch in {experiment.name}",
        body=message,
        url=experiment.get_absolute_url(),
        dedupe_key=f"experiment.srm:{experiment.pk}",
    )
    if created is not None:
        Experiment.objects.filter(pk=experiment.pk).update(srm_notified_at=timezone.now())
