"""Feedback API: ingestion (items, sources, webhooks) and reads (items, themes), recluster."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotAuthenticated, ParseError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback import selectors, services
from feedback.models import FeedbackItem, FeedbackSource, SourceKind, Theme
from portal.models import Product
from portal.permissions import IsOpsLead


def _json_body(request) -> object:
    """The JSON body, with 413 for bodies over the upload limit and 400 for bad JSON."""
    try:
        body = request.body
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(
            {"detail": f"Request body too large: the limit is {limit // (1024 * 1024)} MB. "
                       f"Send at most {services.MAX_ITEMS_PER_REQUEST:,} items per request."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )  # fmt: skip
    try:
        return json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"Body is not valid JSON: {exc}") from None


class FeedbackItemsBody(serializers.Serializer):
    class FeedbackIngestItem(serializers.Serializer):
        source = serializers.SlugField()
        external_id = serializers.CharField()
        text = serializers.CharField()
        rating = serializers.IntegerField(min_value=0, max_value=10, allow_null=True, required=False)
        account = serializers.DictField(required=False, allow_null=True)
        product = serializers.SlugField(required=False, allow_null=True)
        created_at = serializers.DateTimeField(required=False)

    items = FeedbackIngestItem(many=True)


class FeedbackItemSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    product = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    account = serializers.SerializerMethodField()
    theme = serializers.SerializerMethodField()
    area = serializers.SerializerMethodField()

    class Meta:
        model = FeedbackItem
        fields = [
            "id", "source", "external_id", "text", "rating", "account", "product", "created_at", "received_at",
            "state", "sentiment", "area", "theme", "duplicate_status", "duplicate_of",
        ]  # fmt: skip

    def get_account(self, obj) -> dict | None:
        if obj.account is None:
            return None
        return {"name": obj.account.name, "segment": obj.account.segment, "arr": float(obj.account.arr)}

    def get_theme(self, obj) -> dict | None:
        return {"id": obj.theme.pk, "label": obj.theme.label} if obj.theme else None

    def get_area(self, obj) -> str | None:
        return obj.area.name if obj.area else None


class ItemsView(APIView):
    @extend_schema(
        request=FeedbackItemsBody,
        responses={200: dict, 400: dict, 413: dict},
        description=f"Upsert up to {services.MAX_ITEMS_PER_REQUEST:,} items on (source, external_id); "
        "each is answered created / updated / rejected with reasons.",
    )
    def post(self, request):
        body = _json_body(request)
        if isinstance(body, Response):
            return body
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            return Response(
                {"detail": 'Body must be a JSON object {"items": [...]}.', "errors": {"items": ["Required list."]}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        items = body["items"]
        if len(items) > services.MAX_ITEMS_PER_REQUEST:
            return Response(
                {"detail": f"Too many items: {len(items):,} sent, at most {services.MAX_ITEMS_PER_REQUEST:,} "
                           "per request. Split them into several requests."},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )  # fmt: skip
        if not items:
            return Response({"detail": "items: send at least one item.", "errors": {"items": ["Empty list."]}}, 400)
        result = services.items_ingest(items=items, by=request.user)
        payload = {**result.summary, "results": result.results}
        if result.count("rejected") == len(items):
            first = result.results[0]
            payload["detail"] = f"All {len(items):,} items were rejected; item 0: {first['reason']}"
            return Response(payload, status=status.HTTP_400_BAD_REQUEST)
        return Response(payload, status=status.HTTP_200_OK)

    @extend_schema(
        parameters=[OpenApiParameter("source", str, description="source slug"), OpenApiParameter("page", int)],
        responses=FeedbackItemSerializer(many=True),
    )
    def get(self, request):
        source = request.query_params.get("source") or None
        if source and not FeedbackSource.objects.filter(slug=source).exists():
            return Response({"detail": f"Unknown source {source!r}.", "errors": {"source": ["Unknown."]}}, 400)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(selectors.item_list(source=source), request, view=self)
        return paginator.get_paginated_response(FeedbackItemSerializer(page, many=True).data)


class FeedbackSourceSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=SourceKind.choices)
    default_product = serializers.SlugRelatedField(
        slug_field="slug", queryset=Product.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = FeedbackSource
        fields = ["id", "name", "slug", "kind", "default_product", "is_active"]
        read_only_fields = ["slug", "is_active"]


class SourcesView(generics.ListCreateAPIView):
    serializer_class = FeedbackSourceSerializer
    pagination_class = None

    def get_queryset(self):
        return FeedbackSource.objects.select_related("default_product").order_by("name")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        source = services.source_create(
            name=serializer.validated_data["name"],
            kind=serializer.validated_data["kind"],
            default_product=serializer.validated_data.get("default_product"),
            by=request.user,
        )
        data = FeedbackSourceSerializer(source).data
        data["webhook_secret"] = source.webhook_secret  # shown once, at creation
        data["webhooks"] = {
            "zendesk": request.build_absolute_uri(f"/api/v1/feedback/webhooks/{source.slug}/zendesk"),
            "intercom": request.build_absolute_uri(f"/api/v1/feedback/webhooks/{source.slug}/intercom"),
        }
        return Response(data, status=status.HTTP_201_CREATED)


class FeedbackThemeSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    status = serializers.CharField(read_only=True, help_text="active, proposed")

    class Meta:
        model = Theme
        fields = ["id", "label", "size", "score", "trend", "status", "product", "top_terms"]


def _product_param(request) -> Product | None:
    slug = request.query_params.get("product")
    if not slug:
        return None
    return get_object_or_404(Product, slug=slug)


class ThemesView(generics.ListAPIView):
    serializer_class = FeedbackThemeSerializer

    @extend_schema(parameters=[OpenApiParameter("product", str, description="product slug")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.theme_list(product=_product_param(self.request))


class ReclusterView(APIView):
    permission_classes = [IsOpsLead]

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("product", str, description="product slug")],
        responses={202: dict},
    )
    def post(self, request):
        product = _product_param(request)
        run = services.run_start(kind="recluster", product=product, by=request.user)
        from feedback.tasks import recluster

        recluster.delay_on_commit(run.pk)
        return Response(
            {"run": run.pk, "status": run.status, "product": product.slug if product else None},
            status=status.HTTP_202_ACCEPTED,
        )


def _verify(source: FeedbackSource, kind: str, request, body: bytes) -> bool:
    key = source.webhook_secret.encode()
    if kind == "zendesk":
        signature = request.headers.get("X-Zendesk-Webhook-Signature", "")
        timestamp = request.headers.get("X-Zendesk-Webhook-Signature-Timestamp", "")
        expected = base64.b64encode(hmac.new(key, timestamp.encode() + body, hashlib.sha256).digest()).decode()
        return bool(signature) and hmac.compare_digest(signature, expected)
    signature = request.headers.get("X-Hub-Signature", "")
    expected = "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest()
    return bool(signature) and hmac.compare_digest(signature, expected)


class WebhookView(APIView):
    """Zendesk ticket / Intercom conversation events, verified by the source's HMAC secret."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=dict, responses={200: dict, 401: dict})
    def post(self, request, slug: str, kind: str):
        source = FeedbackSource.objects.filter(slug=slug, is_active=True).first()
        if source is None:
            return Response({"detail": f"No active feedback source {slug!r}."}, status=status.HTTP_404_NOT_FOUND)
        body = request.body
        if not _verify(source, kind, request, body):
            header = "X-Zendesk-Webhook-Signature" if kind == "zendesk" else "X-Hub-Signature"
            exc = NotAuthenticated(f"Bad or missing {header}: the HMAC does not match this source's secret.")
            return Response({"detail": exc.detail}, status=status.HTTP_401_UNAUTHORIZED)
        try:
            payload = json.loads(body or b"null")
        except ValueError as exc:
            raise ParseError(f"Body is not valid JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise ParseError("Body must be a JSON object.")
        item = services.webhook_item(kind=kind, payload=payload)
        result = services.items_ingest(source=source, items=[item])
        row = result[0]
        code = status.HTTP_400_BAD_REQUEST if row["status"] == "rejected" else status.HTTP_200_OK
        return Response(row, status=code)
