"""Ops leads build tracks, quizzes and knowledge articles here (shared standards)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from onboarding import services
from onboarding.models import (
    Article,
    ArticleVote,
    Choice,
    Enrollment,
    EnrollmentTask,
    Module,
    Question,
    Quiz,
    Task,
    Track,
)


def _track_id(request) -> str | None:
    match = getattr(request, "resolver_match", None)
    return match.kwargs.get("object_id") if match else None


class ModuleInline(admin.StackedInline):
    model = Module
    extra = 0
    fields = [("order", "title"), ("content", "links"), "articles"]
    autocomplete_fields = ["articles"]
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 4, "cols": 60})}}


class TaskInline(admin.TabularInline):
    model = Task
    extra = 1
    fields = ["order", "module", "title", "kind", "required", "due_offset_days", "quiz", "article", "url", "active"]
    autocomplete_fields = ["article"]
    ordering = ["due_offset_days", "order"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        track_id = _track_id(request)
        if db_field.name == "module":
            kwargs["queryset"] = Module.objects.filter(track_id=track_id) if track_id else Module.objects.none()
        if db_field.name == "quiz":
            kwargs["queryset"] = Quiz.objects.filter(track_id=track_id) if track_id else Quiz.objects.none()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is None:
            return field
        widget = field.widget
        if db_field.name in ("module", "quiz") and hasattr(widget, "can_add_related"):
            # Modules are edited above and quizzes on their own page: keep task rows compact.
            widget.can_add_related = widget.can_change_related = widget.can_delete_related = False
            widget.can_view_related = False
        widths = {"title": "22em", "url": "9em", "due_offset_days": "4em", "order": "3.5em"}
        if db_field.name in widths:
            widget.attrs["style"] = f"width: {widths[db_field.name]}"
        return field


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "audience",
        "status",
        "version",
        "owner",
        "n_tasks",
        "n_enrollments",
        "last_reviewed_on",
        "stale",
        "preview",
    ]
    list_filter = ["status", "audience", "owner"]
    search_fields = ["title", "description"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["status", "version", "published_at", "preview"]
    fieldsets = [
        (None, {"fields": [("title", "slug"), ("audience", "owner"), "description"]}),
        ("Review", {"fields": [("review_interval_days", "last_reviewed_on")]}),
        ("Publishing", {"fields": [("status", "version", "published_at"), "preview"]}),
    ]
    inlines = [ModuleInline, TaskInline]
    actions = ["publish", "duplicate", "mark_reviewed"]
    change_form_template = "onboarding/admin/track_change_form.html"

    def _publish_one(self, request, track) -> bool:
        try:
            result = services.track_publish(track=track, by=request.user)
        except (ValidationError, PermissionDenied) as exc:
            text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            self.message_user(request, f"“{track.title}” not published: {text}", messages.ERROR)
            return False
        self.message_user(
            request,
            f"Published “{track.title}” v{result.track.version}: {result.summary}; "
            f"{result.enrollments_updated} running enrollment(s) updated.",
            messages.SUCCESS,
        )
        return True

    def response_change(self, request, obj):
        if "_publish" in request.POST:
            self._publish_one(request, obj)
            return redirect(reverse("admin:onboarding_track_change", args=[obj.pk]))
        return super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        if "_publish" in request.POST:
            self._publish_one(request, obj)
            return redirect(reverse("admin:onboarding_track_change", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("owner")
            .annotate(
                _n_tasks=Count("tasks", filter=Q(tasks__active=True), distinct=True),
                _n_enrollments=Count("enrollments", distinct=True),
            )
        )

    @admin.display(description="Active tasks", ordering="_n_tasks")
    def n_tasks(self, obj):
        return obj._n_tasks

    @admin.display(description="Enrollments", ordering="_n_enrollments")
    def n_enrollments(self, obj):
        return obj._n_enrollments

    @admin.display(description="Stale", boolean=True)
    def stale(self, obj):
        return obj.is_stale

    @admin.display(description="Preview")
    def preview(self, obj):
        if not obj.pk:
            return "Save first"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">Preview as a learner</a>',
            reverse("onboarding:track_preview", args=[obj.slug]),
        )

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is Task and form.instance.status == Track.Status.PUBLISHED:
            messages.info(
                request,
                "Saved. Enrollees see task changes when you publish again (action “Publish”).",
            )

    @admin.action(description="Publish (adds new tasks to running enrollments, tells enrollees)")
    def publish(self, request, queryset):
        for track in queryset:
            self._publish_one(request, track)

    @admin.action(description="Duplicate as a draft")
    def duplicate(self, request, queryset):
        for track in queryset:
            copy = services.track_duplicate(track=track, by=request.user)
            self.message_user(request, f"Created draft “{copy.title}”.", messages.SUCCESS)

    @admin.action(description="Mark reviewed today")
    def mark_reviewed(self, request, queryset):
        for track in queryset:
            services.track_mark_reviewed(track=track, by=request.user)
        self.message_user(request, f"{queryset.count()} track(s) marked reviewed.", messages.SUCCESS)


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 3
    fields = ["order", "text", "correct"]


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 1
    fields = [("order", "kind"), "text", "explanation"]
    show_change_link = True


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    list_display = ["title", "track", "pass_mark", "max_attempts", "n_questions"]
    list_filter = ["track"]
    search_fields = ["title", "track__title"]
    inlines = [QuestionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("track").annotate(_n=Count("questions"))

    @admin.display(description="Questions", ordering="_n")
    def n_questions(self, obj):
        return obj._n


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "quiz", "kind", "order"]
    list_filter = ["quiz__track", "quiz", "kind"]
    search_fields = ["text"]
    inlines = [ChoiceInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        question = form.instance
        n_correct = question.choices.filter(correct=True).count()
        if n_correct == 0:
            messages.warning(request, "This question has no correct choice yet: nobody can get it right.")
        elif question.kind == Question.Kind.SINGLE and n_correct > 1:
            messages.warning(request, "A single-choice question should have exactly one correct choice.")


class EnrollmentTaskInline(admin.TabularInline):
    model = EnrollmentTask
    extra = 0
    fields = ["task", "due_on", "completed_at", "added_in_version"]
    readonly_fields = ["task", "added_in_version"]
    can_delete = False


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["user", "track", "start_on", "status", "manager", "buddy", "completed_at"]
    list_filter = ["status", "track"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user", "buddy", "manager"]
    readonly_fields = ["track_version", "enrolled_by", "completed_at"]
    inlines = [EnrollmentTaskInline]
    list_select_related = ["user", "track", "manager", "buddy"]

    def has_add_permission(self, request):
        return False  # enroll from the track page, so tasks get their dates


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "owner", "reviewed_on", "stale", "votes"]
    list_filter = ["kind", "owner"]
    search_fields = ["title", "summary", "body"]
    prepopulated_fields = {"slug": ["title"]}
    fields = [("title", "slug"), ("kind", "owner"), "summary", "body", "tags", ("reviewed_on", "review_interval_days")]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("owner")
            .annotate(_n=Count("votes"), _useful=Count("votes", filter=Q(votes__useful=True)))
        )

    @admin.display(description="Stale", boolean=True)
    def stale(self, obj):
        return obj.is_stale

    @admin.display(description="Useful votes")
    def votes(self, obj):
        return f"{obj._useful} / {obj._n}"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.article_refresh_search(article=obj)


@admin.register(ArticleVote)
class ArticleVoteAdmin(admin.ModelAdmin):
    list_display = ["article", "user", "useful", "comment", "voted_at"]
    list_filter = ["useful"]
    search_fields = ["article__title", "comment"]
    list_select_related = ["article", "user"]
