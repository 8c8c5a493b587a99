"""DRF API for experiments: thin — validate the shape, call one service or selector."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
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


# --- OpenAPI descriptions of the shapes experiment_data()/snapshot_data() return ---------------


class ExperimentOutSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    product = serializers.CharField()
    owner = serializers.CharField()
    status = serializers.CharField()
    decision = serializers.CharField(allow_null=True)
    hypothesis = serializers.JSONField()
    variants = VariantSerializer(many=True)
    metrics = serializers.JSONField()
    mde = serializers.FloatField()
    alpha = serializers.FloatField()
    power = serializers.FloatField()
    engine = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    started_at = serializers.DateTimeField(allow_null=True)
    stopped_at = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField()


class SnapshotOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    computed_at = serializers.DateTimeField(allow_null=True)
    as_of = serializers.DateTimeField(allow_null=True)
    units = serializers.IntegerField(allow_null=True)
    multi_exposed_units = serializers.IntegerField(allow_null=True)
    srm_p_value = serializers.FloatField(allow_null=True)
    variants = serializers.JSONField()
    health = serializers.JSONField()
    results = serializers.JSONField()
    error = serializers.CharField(allow_null=True)


class ExperimentDetailOutSerializer(ExperimentOutSerializer):
    results = SnapshotOutSerializer(allow_null=True)
    pending = SnapshotOutSerializer(allow_null=True)


class ExperimentListOutSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = ExperimentOutSerializer(many=True)


STOP_SCHEMA = inline_serializer("ExperimentStop", {"reason": serializers.CharField()})
DECIDE_SCHEMA = inline_serializer(
    "ExperimentDecide",
    {
        "decision": serializers.ChoiceField(choices=["shipped", "rolled_back", "inconclusive"]),
        "rationale": serializers.CharField(),
        "learnings": serializers.CharField(required=False),
    },
)


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


@extend_schema(
    methods=["GET"],
    operation_id="experiments_list",
    parameters=[OpenApiParameter(name, str, required=False) for name in ["product", "status", "q", "tag", "outcome"]],
    responses=ExperimentListOutSerializer,
)
@extend_schema(
    methods=["POST"],
    operation_id="experiments_create",
    request=ExperimentCreateSerializer,
    responses={201: ExperimentOutSerializer},
)
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


@extend_schema(operation_id="experiments_retrieve", responses=ExperimentDetailOutSerializer)
@api_view(["GET"])
def experiment_detail(request, key: str):
    exp = _get(key)
    data = experiment_data(exp)
    data["results"] = snapshot_data(selectors.snapshot_latest(exp))
    data["pending"] = snapshot_data(selectors.snapshot_pending(exp))
    return Response(data)


@extend_schema(
    parameters=[OpenApiParameter("unit_id", str, required=True, description="User or device id")],
    responses=OpenApiTypes.OBJECT,
)
@api_view(["GET"])
def assignment(request, key: str):
    exp = _get(key)
    return Response(services.assignment_get(experiment=exp, unit_id=request.query_params.get("unit_id", "")))


@extend_schema(request=None, responses=ExperimentOutSerializer)
@api_view(["POST"])
def start(request, key: str):
    exp = services.experiment_start(experiment=_get(key), by=request.user)
    return Response(experiment_data(_get(exp.key)))


@extend_schema(request=STOP_SCHEMA, responses=ExperimentOutSerializer)
@api_view(["POST"])
def stop(request, key: str):
    exp = services.experiment_stop(experiment=_get(key), by=request.user, reason=str(request.data.get("reason", "")))
    return Response(experiment_data(_get(exp.key)))


@extend_schema(request=DECIDE_SCHEMA, responses=ExperimentOutSerializer)
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


@extend_schema(request=None, responses={202: SnapshotOutSerializer})
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


@extend_schema(
    parameters=[PowerSerializer],
    responses=inline_serializer(
        "PowerResult",
        {
            "per_variant": serializers.IntegerField(),
            "total": serializers.IntegerField(),
            "daily_units": serializers.FloatField(allow_null=True),
            "days": serializers.FloatField(allow_null=True),
        },
    ),
)
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
