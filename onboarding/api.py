"""Onboarding API: my tasks, completing them, enrollments (cohort), knowledge-base search."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from onboarding import selectors, services
from onboarding.models import Article, EnrollmentTask, Track
from portal.models import User


class ItemSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="task.title")
    kind = serializers.CharField(source="task.kind")
    required = serializers.BooleanField(source="task.required")
    module = serializers.CharField(source="task.module.title")
    phase = serializers.CharField(source="task.phase")
    overdue = serializers.BooleanField(source="is_overdue")

    class Meta:
        model = EnrollmentTask
        fields = ["id", "title", "kind", "required", "module", "phase", "due_on", "completed_at", "overdue"]


class EnrollmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.CharField(source="user.username")
    track = serializers.CharField(source="track.slug")
    start_on = serializers.DateField()
    status = serializers.CharField()
    manager = serializers.CharField(source="manager.username", default=None)
    buddy = serializers.CharField(source="buddy.username", default=None)
    pct_done = serializers.FloatField()
    overdue = serializers.IntegerField(source="n_overdue")
    flag = serializers.CharField()
    last_activity = serializers.DateTimeField(allow_null=True)


class EnrollmentCreateSerializer(serializers.Serializer):
    user = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.all(), required=False)
    track = serializers.SlugRelatedField(slug_field="slug", queryset=Track.objects.all())
    start_on = serializers.DateField()
    buddy = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.all(), required=False)
    manager = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.all(), required=False)


class ArticleSerializer(serializers.ModelSerializer):
    url = serializers.CharField(source="get_absolute_url")
    owner = serializers.CharField(source="owner.username", default=None)
    stale = serializers.BooleanField(source="is_stale")
    useful_votes = serializers.IntegerField(source="n_useful")
    votes = serializers.IntegerField(source="n_votes")

    class Meta:
        model = Article
        fields = [
            "id",
            "slug",
            "title",
            "kind",
            "summary",
            "tags",
            "owner",
            "reviewed_on",
            "stale",
            "votes",
            "useful_votes",
            "url",
        ]


@extend_schema(responses=ItemSerializer(many=True))
@api_view(["GET"])
def my_tasks(request):
    """My current enrollment's tasks with real due dates (overdue first is up to the client)."""
    enrollment = selectors.current_enrollment(user=request.user)
    if enrollment is None:
        raise NotFound("You are not enrolled in a track.")
    view = selectors.today_for(enrollment)
    return Response(
        {
            "enrollment": enrollment.pk,
            "track": enrollment.track.slug,
            "start_on": enrollment.start_on,
            "pct_done": view.pct,
            "milestones": view.milestones,
            "items": ItemSerializer(view.items, many=True).data,
        }
    )


@extend_schema(request=None, responses=ItemSerializer)
@api_view(["POST"])
def item_complete(request, pk: int):
    item = get_object_or_404(EnrollmentTask.objects.select_related("enrollment__user", "task__module"), pk=pk)
    services.enrollment_task_complete(item=item, by=request.user)
    return Response(ItemSerializer(item).data)


class EnrollmentList(generics.GenericAPIView):
    """GET: enrollments you may see (cohort), with progress. POST: enroll someone (or yourself)."""

    pagination_class = None

    def get_serializer_class(self):
        return EnrollmentCreateSerializer if self.request.method == "POST" else EnrollmentSerializer

    def get(self, request):
        track = None
        if request.query_params.get("track"):
            track = Track.objects.filter(slug=request.query_params["track"]).first()
            if track is None:
                raise NotFound(f"No track with slug “{request.query_params['track']}”.")
        rows = selectors.cohort_rows(user=request.user, track=track, cohort=request.query_params.get("cohort", ""))
        return Response(EnrollmentSerializer(rows, many=True).data)

    def post(self, request):
        serializer = EnrollmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        enrollment = services.enrollment_create(
            user=data.get("user") or request.user,
            track=data["track"],
            start_on=data["start_on"],
            buddy=data.get("buddy"),
            manager=data.get("manager"),
            by=request.user,
        )
        return Response(
            {"id": enrollment.pk, "items": enrollment.items.count(), "start_on": enrollment.start_on},
            status=status.HTTP_201_CREATED,
        )


class ArticleList(generics.ListAPIView):
    """Knowledge-base articles; `?q=` full-text search, `?tag=` filter."""

    serializer_class = ArticleSerializer

    def get_queryset(self):
        params = self.request.query_params
        return selectors.article_list(query=params.get("q", "")[:200], tag=params.get("tag", "")[:40])
