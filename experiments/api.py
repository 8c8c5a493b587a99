"""DRF API for experiments: thin — validate the shape, call one service or selector."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from experiments import selectors, services, stats
from experiments.models import Experiment, ResultSnapshot
from portal.models import Product


class VariantSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    weight = serializers.FloatField()


class ExperimentCreateSerializer(serializers.Serializer):
    product = serializers.SlugField()
    key = serializers.CharField(max_length=80)
    name = serializers.CharField(max_length=200)
    hypothesis_change = serializers.CharField(max_length=300)
    hypothesis_audience = serializers.CharField(max_length=300)
    hypothesis_impact = serializers.CharField(max_length=300)
    hypothesis_metric = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    variants = VariantSerializer(many=True, required=False)
    primary_metric = serializers.CharField()
    secondary_metrics = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    guardrail_metrics = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    mde = serializers.FloatField(required=False, default=0.05)
    alpha = serializers.FloatField(required=False, default=0.05)
    power = serializers.FloatField(required=False, default=0.8)
    engine = serializers.ChoiceField(choices=Experiment.Engine.choices, required=False, default="frequentist")
    planned_start = serializers.DateField(required=False, allow_null=True, default=None)
    planned_end = serializers.DateField(required=False, allow_null=True, default=None)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False, default=list)


def experiment_data(exp: Experiment) -> dict:
    return {
        "key": exp.key,
        "name": exp.name,
        "product": exp.product.slug,
        "owner": exp.owner.username,
        "status": exp.status,
        "decision": exp.decision or None,
        "hypothesis": exp.hypothesis,
        "variants": [{"key": v.key, "name": v.name, "weight": v.weight} for v in exp.variants.all()],
        "metrics": [
            {"key": em.metric.key, "name": em.metric.name, "role": em.role} for em in exp.experiment_metrics.all()
        ],
        "mde": exp.mde,
        "alpha": exp.alpha,
        "power": exp.power,
        "engine": exp.engine,
        "tags": exp.tags,
        "started_at": exp.started_at,
        "stopped_at": exp.stopped_at,
        "url": exp.get_absolute_url(),
    }


def snapshot_data(snapshot: ResultSnapshot | None) -> dict | None:
    if snapshot is None:
        return None
    return {
        "id": snapshot.pk,
        "status": snapshot.status,
        "computed_at": snapshot.computed_at,
        "as_of": snapshot.as_of,
        "units": snapshot.units,
        "multi_exposed_units": snapshot.multi_exposed_units,
        "srm_p_value": snapshot.srm_p_value,
        "variants": snapshot.variants,
        "health": snapshot.health,
        "results": snapshot.results,
        "error": snapshot.error or None,
    }


@api_view(["GET", "POST"])
def experiment_collection(request):
    if request.method == "POST":
        s = ExperimentCreateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data = dict(s.validated_data)
        product = Product.objects.filter(slug=data.pop("product")).first()
        if product is None:
            raise DRFValidationError({"product": [f"Unknown product '{request.data.get('product')}'."]})
        exp = services.experiment_create(
            by=request.user, product=product, engine_name=data.pop("engine"), **data, create_brief=True
        )
        return Response(experiment_data(selectors.experiment_get(exp.key)), status=status.HTTP_201_CREATED)
    qs = selectors.experiment_list(
        product=request.query_params.get("product"),
        status=request.query_params.get("status"),
        q=request.query_params.get("q"),
        tag=request.query_params.get("tag"),
        outcome=request.query_params.get("outcome"),
    )
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(qs, request)
    return paginator.get_paginated_response([experiment_data(e) for e in page])


def _get(key: str) -> Experiment:
    return get_object_or_404(selectors.experiment_list(), key=key)


@api_view(["GET"])
def experiment_detail(request, key: str):
    exp = _get(key)
    data = experiment_data(exp)
    data["results"] = snapshot_data(selectors.snapshot_latest(exp))
    data["pending"] = snapshot_data(selectors.snapshot_pending(exp))
    return Response(data)


@api_view(["GET"])
def assignment(request, key: str):
    exp = _get(key)
    return Response(services.assignment_get(experiment=exp, unit_id=request.query_params.get("unit_id", "")))


@api_view(["POST"])
def start(request, key: str):
    exp = services.experiment_start(experiment=_get(key), by=request.user)
    return Response(experiment_data(_get(exp.key)))


@api_view(["POST"])
def stop(request, key: str):
    exp = services.experiment_stop(experiment=_get(key), by=request.user, reason=str(request.data.get("reason", "")))
    return Response(experiment_data(_get(exp.key)))


@api_view(["POST"])
def decide(request, key: str):
    exp = services.experiment_decide(
        experiment=_get(key),
        by=request.user,
        decision=str(request.data.get("decision", "")),
        rationale=str(request.data.get("rationale", "")),
        learnings=str(request.data.get("learnings", "")),
    )
    return Response(experiment_data(_get(exp.key)))


@api_view(["POST"])
def refresh(request, key: str):
    """Queue a recomputation (at most one pending per experiment, so repeated calls are cheap)."""
    exp = _get(key)
    snapshot = services.results_request(experiment=exp, by=request.user)
    return Response(snapshot_data(snapshot), status=status.HTTP_202_ACCEPTED)


class PowerSerializer(serializers.Serializer):
    baseline = serializers.FloatField()
    mde = serializers.FloatField()
    alpha = serializers.FloatField(required=False, default=0.05)
    power = serializers.FloatField(required=False, default=0.8)
    sd = serializers.FloatField(required=False, allow_null=True, default=None)
    variants = serializers.IntegerField(required=False, default=2, min_value=2, max_value=10)
    product = serializers.SlugField(required=False)


@api_view(["GET"])
def power(request):
    s = PowerSerializer(data=request.query_params)
    s.is_valid(raise_exception=True)
    d = s.validated_data
    try:
        size = stats.sample_size(
            baseline=d["baseline"],
            mde=d["mde"],
            alpha=d["alpha"],
            power=d["power"],
            sd=d["sd"],
            weights=[1.0] * d["variants"],
        )
    except ValueError as exc:
        raise DRFValidationError({"detail": str(exc)}) from None
    daily = None
    if d.get("product"):
        product = Product.objects.filter(slug=d["product"]).first()
        if product is None:
            raise DRFValidationError({"product": [f"Unknown product '{d['product']}'."]})
        daily = selectors.product_daily_units(product)
    return Response(
        {
            "per_variant": size.per_variant,
            "total": size.total,
            "daily_units": daily,
            "days": stats.days_needed(size.total, daily) if daily else None,
        }
    )
