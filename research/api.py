"""Research API (DRF): thin serializers over selectors/services. Participant serializers only
ever read the `visible_*` annotations from research.selectors.participant_list, so personal
data never leaves the API for people who may not see it."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from research import access, search, selectors, services
from research.models import Highlight, Insight, Participant, Study


class ParticipantSerializer(serializers.ModelSerializer):
    pseudonym = serializers.CharField(read_only=True)
    name = serializers.CharField(source="visible_name", read_only=True)
    email = serializers.CharField(source="visible_email", read_only=True)
    company = serializers.CharField(source="visible_company", read_only=True)
    erased = serializers.BooleanField(source="is_erased", read_only=True)

    class Meta:
        model = Participant
        fields = [
            "id",
            "pseudonym",
            "name",
            "email",
            "company",
            "role",
            "country",
            "timezone",
            "source",
            "attributes",
            "opted_out",
            "erased",
            "created_at",
        ]


class ParticipantList(generics.ListAPIView):
    serializer_class = ParticipantSerializer

    def get_queryset(self):
        params = self.request.query_params
        return selectors.participant_list(
            user=self.request.user, q=params.get("q", ""), country=params.get("country", "")
        )


class ParticipantDetail(generics.RetrieveAPIView):
    serializer_class = ParticipantSerializer

    def get_queryset(self):
        return selectors.participant_list(user=self.request.user)


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField(required=False)
    csv = serializers.CharField(required=False, help_text="CSV text, instead of a file upload")
    mapping = serializers.DictField(child=serializers.CharField(), required=False)
    attribute_columns = serializers.ListField(child=serializers.CharField(), required=False)
    source = serializers.CharField(required=False, max_length=80, default="api import")

    def validate(self, attrs):
        if not attrs.get("file") and not attrs.get("csv"):
            raise serializers.ValidationError({"file": "Send a CSV file (multipart) or the CSV text in `csv`."})
        if attrs.get("file"):
            try:
                attrs["csv"] = attrs["file"].read().decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise serializers.ValidationError({"file": "The file is not UTF-8 text."}) from exc
        return attrs


@extend_schema(request=ImportSerializer, responses={200: dict})
@api_view(["POST"])
@parser_classes([JSONParser, MultiPartParser, FormParser])
def participant_import(request):
    access.require_researcher(request.user, "import participants")
    body = ImportSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    data = body.validated_data
    result = services.participants_import(
        text=data["csv"],
        by=request.user,
        mapping=data.get("mapping"),
        attribute_columns=data.get("attribute_columns"),
        source=data.get("source") or "api import",
    )
    return Response(result.as_dict())


@extend_schema(responses={200: dict})
@api_view(["GET"])
def participant_export(request, pk: int):
    participant = get_object_or_404(Participant, pk=pk)
    return Response(services.participant_export(participant=participant, by=request.user))


class EraseSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


@extend_schema(request=EraseSerializer, responses={200: ParticipantSerializer})
@api_view(["POST"])
def participant_erase(request, pk: int):
    participant = get_object_or_404(Participant, pk=pk)
    body = EraseSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    services.participant_erase(participant=participant, by=request.user, reason=body.validated_data.get("reason", ""))
    return Response(ParticipantSerializer(selectors.participant_get(user=request.user, pk=pk)).data)


class StudySerializer(serializers.ModelSerializer):
    products = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Study
        fields = [
            "id",
            "title",
            "products",
            "method",
            "status",
            "research_questions",
            "owner",
            "screener",
            "target_sessions",
            "research_plan_url",
            "created_at",
            "url",
        ]


class StudyList(generics.ListAPIView):
    serializer_class = StudySerializer

    def get_queryset(self):
        p = self.request.query_params
        return selectors.study_list(
            user=self.request.user, status=p.get("status", ""), product=p.get("product", ""), method=p.get("method", "")
        )


@extend_schema(responses={200: dict})
@api_view(["GET"])
def study_candidates(request, pk: int):
    study = get_object_or_404(Study, pk=pk)
    result, people = selectors.candidates(study=study, user=request.user, limit=100)
    return Response(
        {
            "screened": result.screened,
            "eligible": result.eligible,
            "excluded": result.excluded,
            "rule": result.rule.name if result.rule else None,
            "candidates": ParticipantSerializer(people, many=True).data,
        }
    )


class InviteSerializer(serializers.Serializer):
    participants = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)


@extend_schema(request=InviteSerializer, responses={200: dict})
@api_view(["POST"])
def study_invite(request, pk: int):
    study = get_object_or_404(Study, pk=pk)
    access.require_manage_study(request.user, study)  # 403 before looking at the body
    body = InviteSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    n = services.study_invite(study=study, participant_ids=body.validated_data["participants"], by=request.user)
    return Response({"invited": n}, status=status.HTTP_200_OK)


class HighlightSerializer(serializers.ModelSerializer):
    participant = serializers.SerializerMethodField()
    tags = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    study = serializers.CharField(source="study.title", read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Highlight
        fields = ["id", "excerpt", "participant", "study", "session", "tags", "created_at", "url"]

    def get_participant(self, obj) -> str:
        return obj.participant_pseudonym  # highlights are open to every PM: pseudonym only


class HighlightList(generics.ListAPIView):
    serializer_class = HighlightSerializer

    def get_queryset(self):
        p = self.request.query_params
        return selectors.highlight_list(tag=p.get("tag", ""), product=p.get("product", ""))


class EvidenceSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    ref = serializers.CharField()
    url = serializers.CharField()


class InsightSerializer(serializers.ModelSerializer):
    products = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    tags = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    evidence_count = serializers.SerializerMethodField()

    class Meta:
        model = Insight
        fields = [
            "id",
            "statement",
            "details",
            "study",
            "products",
            "tags",
            "confidence",
            "status",
            "published_at",
            "url",
            "evidence_count",
        ]

    def get_evidence_count(self, obj) -> int:
        return getattr(obj, "n_highlights", 0) + getattr(obj, "n_evidence", 0)


class InsightDetailSerializer(InsightSerializer):
    highlights = HighlightSerializer(many=True, read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta(InsightSerializer.Meta):
        fields = [*InsightSerializer.Meta.fields, "highlights", "evidence"]

    def get_evidence_count(self, obj) -> int:
        return len(obj.highlights.all()) + len(obj.evidence.all())


class InsightList(generics.ListAPIView):
    serializer_class = InsightSerializer

    def get_queryset(self):
        p = self.request.query_params
        return selectors.insight_list(
            user=self.request.user,
            product=p.get("product", ""),
            tag=p.get("tag", ""),
            status=p.get("status", ""),
            q=p.get("q", ""),
        )


@extend_schema(responses={200: InsightDetailSerializer})
@api_view(["GET"])
def insight_detail(request, pk: int):
    try:
        insight = selectors.insight_get(user=request.user, pk=pk)
    except Insight.DoesNotExist:
        return Response({"detail": "No such insight, or it is a draft you cannot see."}, status=404)
    services.insight_record_view(insight=insight, user=request.user)
    return Response(InsightDetailSerializer(insight).data)


@extend_schema(request=None, responses={200: InsightSerializer})
@api_view(["POST"])
def insight_publish(request, pk: int):
    insight = get_object_or_404(selectors.insights_visible(request.user), pk=pk)
    services.insight_publish(insight=insight, by=request.user)
    return Response(InsightSerializer(insight).data)


@extend_schema(responses={200: dict})
@api_view(["GET"])
def repository_search(request):
    q = request.query_params.get("q", "").strip()
    if not q:
        raise serializers.ValidationError({"q": "Give search words in `q`."})
    filters = search.Filters(
        product=request.query_params.get("product", ""),
        tag=request.query_params.get("tag", ""),
        method=request.query_params.get("method", ""),
    )
    kinds = [k for k in request.query_params.getlist("type") if k in search.KINDS] or None
    hits = search.search(q, user=request.user, filters=filters, kinds=kinds, limit=50)
    return Response(
        {
            "query": q,
            "results": [
                {
                    "kind": h.kind,
                    "title": h.title,
                    "url": h.url,
                    "snippet": h.snippet.replace(search.HIGHLIGHT_START, "").replace(search.HIGHLIGHT_STOP, ""),
                    "rank": round(h.rank, 4),
                    "product": h.product,
                    "meta": h.meta,
                }
                for h in hits
            ],
        }
    )
