"""Tooling API (DRF): documents, roadmap items, launches and template adoption. Thin: shape
validation here, rules in services, reads in selectors; errors are JSON 4xx naming the field."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from portal.models import Product
from portal.permissions import require_product_edit
from tooling import selectors, services
from tooling.models import Document, RoadmapItem, TemplateKind


class Pagination(PageNumberPagination):
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


class DocumentSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    kind = serializers.CharField(source="template_version.template.kind", read_only=True)
    template_version = serializers.IntegerField(source="template_version.number", read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    required_written = serializers.IntegerField(source="n_required_written", read_only=True)
    required = serializers.IntegerField(source="n_required", read_only=True)
    time_in_review_hours = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "title",
            "product",
            "owner",
            "kind",
            "template_version",
            "status",
            "required_written",
            "required",
            "time_in_review_hours",
            "created_at",
            "updated_at",
            "url",
        ]

    def get_time_in_review_hours(self, obj) -> float:  # noqa: D102
        return round(obj.time_in_review_seconds() / 3600, 2)


class DocumentCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TemplateKind.choices)
    product = serializers.SlugRelatedField(slug_field="slug", queryset=Product.objects.all())
    title = serializers.CharField(max_length=200)
    variables = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)


@extend_schema(
    methods=["GET"],
    parameters=[
        OpenApiParameter("product", str, required=False),
        OpenApiParameter("status", str, required=False),
        OpenApiParameter("kind", str, required=False),
    ],
    responses=DocumentSerializer(many=True),
)
@extend_schema(methods=["POST"], request=DocumentCreateSerializer, responses={201: DocumentSerializer})
@api_view(["GET", "POST"])
def documents(request):
    """GET: documents (filters: product, status, kind). POST: create one from the latest published template."""
    if request.method == "POST":
        data = DocumentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        require_product_edit(request.user, data.validated_data["product"])
        document = services.document_create_from_template(
            kind=data.validated_data["kind"],
            product=data.validated_data["product"],
            owner=request.user,
            title=data.validated_data["title"],
            variables=data.validated_data.get("variables"),
        )
        return Response(DocumentSerializer(selectors.document_list().get(pk=document.pk)).data, status=201)
    qs = selectors.document_list(
        product=request.query_params.get("product") or None,
        status=request.query_params.get("status") or None,
        kind=request.query_params.get("kind") or None,
    )
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request)
    return paginator.get_paginated_response(DocumentSerializer(page, many=True).data)


@extend_schema(
    responses=inline_serializer(
        "DocumentMarkdown", {"id": serializers.IntegerField(), "markdown": serializers.CharField()}
    )
)
@api_view(["GET"])
def document_markdown(request, pk: int):
    document = get_object_or_404(Document.objects.select_related("product", "owner", "template_version"), pk=pk)
    return Response({"id": document.pk, "markdown": selectors.document_markdown(document)})


class RoadmapItemSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="slug", queryset=Product.objects.all())
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = RoadmapItem
        fields = [
            "id",
            "product",
            "title",
            "description",
            "horizon",
            "target_quarter",
            "status",
            "owner",
            "confidence",
            "reach",
            "impact",
            "effort",
            "rice_score",
            "url",
        ]
        read_only_fields = ["rice_score"]


@extend_schema(
    methods=["GET"],
    parameters=[
        OpenApiParameter("product", str, required=False),
        OpenApiParameter("horizon", str, required=False),
        OpenApiParameter("status", str, required=False),
        OpenApiParameter("quarter", str, required=False),
    ],
    responses=RoadmapItemSerializer(many=True),
)
@extend_schema(methods=["POST"], request=RoadmapItemSerializer, responses={201: RoadmapItemSerializer})
@api_view(["GET", "POST"])
def roadmap_items(request):
    """GET: roadmap items across products (filters: product, horizon, status, quarter). POST: add one."""
    if request.method == "POST":
        data = RoadmapItemSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        product = fields.pop("product")
        require_product_edit(request.user, product)
        item = services.roadmap_item_create(product=product, by=request.user, owner=request.user, **fields)
        return Response(RoadmapItemSerializer(item).data, status=201)
    qs = selectors.roadmap_item_list(
        product=request.query_params.get("product") or None,
        horizon=request.query_params.get("horizon") or None,
        status=request.query_params.get("status") or None,
        quarter=request.query_params.get("quarter") or None,
    ).order_by("product__name", "-rice_score")
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request)
    return paginator.get_paginated_response(RoadmapItemSerializer(page, many=True).data)


@extend_schema(request=RoadmapItemSerializer, responses=RoadmapItemSerializer)
@api_view(["PATCH"])
def roadmap_item_update(request, pk: int):
    item = get_object_or_404(RoadmapItem.objects.select_related("product"), pk=pk)
    require_product_edit(request.user, item.product)
    data = RoadmapItemSerializer(item, data=request.data, partial=True)
    data.is_valid(raise_exception=True)
    fields = dict(data.validated_data)
    if fields.pop("product", item.product) != item.product:
        raise ValidationError({"product": "Items cannot move between products; create one on the other roadmap."})
    item = services.roadmap_item_update(item=item, by=request.user, **fields)
    return Response(RoadmapItemSerializer(item).data)


class LaunchSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    feature = serializers.CharField()
    product = serializers.CharField()
    tier = serializers.CharField()
    launch_date = serializers.DateField()
    owner = serializers.CharField()
    status = serializers.CharField()
    required_done = serializers.IntegerField()
    required = serializers.IntegerField()
    readiness = serializers.FloatField()
    overdue = serializers.IntegerField()
    url = serializers.CharField()


@extend_schema(
    parameters=[OpenApiParameter("product", str, required=False), OpenApiParameter("status", str, required=False)],
    responses=LaunchSerializer(many=True),
)
@api_view(["GET"])
def launches(request):
    """Launches with readiness (required checklist items done / required)."""
    qs = selectors.launch_list(
        product=request.query_params.get("product") or None, status=request.query_params.get("status") or None
    )
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request)
    return paginator.get_paginated_response(
        [
            {
                "id": launch.pk,
                "feature": launch.feature,
                "product": launch.product.slug,
                "tier": launch.tier,
                "launch_date": launch.launch_date.isoformat(),
                "owner": launch.owner.username,
                "status": launch.status,
                "required_done": launch.n_required_done,
                "required": launch.n_required,
                "readiness": round(launch.n_required_done / launch.n_required, 3) if launch.n_required else 1.0,
                "overdue": launch.n_overdue,
                "url": launch.get_absolute_url(),
            }
            for launch in page
        ]
    )


@extend_schema(
    responses=inline_serializer(
        "TemplateAdoption",
        {
            "summary": serializers.DictField(),
            "templates": serializers.ListField(child=serializers.DictField()),
        },
    )
)
@api_view(["GET"])
def template_adoption(request):
    """Headline adoption figures plus one row per template (the portal scorecard reads the same)."""
    rows = selectors.template_adoption()
    return Response(
        {
            "summary": selectors.template_adoption_summary(),
            "templates": [
                {
                    "name": r.name,
                    "kind": r.kind,
                    "status": r.status,
                    "documents": r.documents,
                    "share_complete": r.share_complete,
                    "median_review_hours": r.median_review_hours,
                    "documents_per_version": r.versions,
                }
                for r in rows
            ],
        }
    )
