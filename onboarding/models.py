"""Onboarding: tracks (modules, tasks, quizzes), enrollments with dated progress, and the
knowledge base.

A track is a shared standard owned by ops leads. Enrolling someone copies the track's
active tasks into dated `EnrollmentTask` rows (start date + due offset), so progress is
kept per person and a re-published track only *adds* rows: nobody loses progress.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from portal.search import search_vector_field


class Audience(models.TextChoices):
    NEW_PM = "new_pm", "New PM"
    SENIOR_PM = "senior_pm", "Senior PM"
    CHANGING_PRODUCT = "changing_product", "PM changing product"


class Phase(models.TextChoices):
    """Tasks are grouped by their due offset (days from the start date)."""

    DAY_1 = "day_1", "Day 1"
    WEEK_1 = "week_1", "Week 1"
    DAYS_30 = "days_30", "30 days"
    DAYS_60 = "days_60", "60 days"
    DAYS_90 = "days_90", "90 days"


# Upper bound (inclusive) of the due offset for each phase, in order.
PHASE_LIMITS = [(Phase.DAY_1, 1), (Phase.WEEK_1, 7), (Phase.DAYS_30, 30), (Phase.DAYS_60, 60), (Phase.DAYS_90, None)]


def phase_for_offset(days: int) -> str:
    for phase, limit in PHASE_LIMITS:
        if limit is None or days <= limit:
            return phase
    return Phase.DAYS_90  # pragma: no cover


def parse_links(text: str) -> list[tuple[str, str]]:
    """`Label | https://url` one per line -> [(label, url)]; raises ValueError naming the line."""
    links = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        label, sep, url = line.rpartition("|")
        label, url = label.strip(), url.strip()
        if not sep or not label:
            label = url
        if not (url.startswith("/") or url.startswith("https://") or url.startswith("http://")):
            raise ValueError(f"Line {number}: “{line}” needs a URL starting with /, http:// or https://")
        links.append((label, url))
    return links


class Track(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    title = models.CharField(max_length=160)
    slug = models.SlugField(max_length=80, unique=True)
    audience = models.CharField(max_length=20, choices=Audience.choices, default=Audience.NEW_PM)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_tracks"
    )
    description = models.TextField(blank=True, help_text="Markdown")
    review_interval_days = models.PositiveIntegerField(
        default=90, validators=[MinValueValidator(7)], help_text="How often the owner re-reads the track"
    )
    last_reviewed_on = models.DateField(default=dt.date.today)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField(default=0, help_text="Bumped on every publish")
    published_at = models.DateTimeField(null=True, blank=True)
    # What enrollees got at the last publish: {task id: [title, due offset]} — the diff base.
    published_tasks = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Global search (portal.search): stored, GIN-indexed.
    search_vector = search_vector_field(("title", "A"), ("description", "B"))

    class Meta:
        ordering = ["title"]
        indexes = [GinIndex(fields=["search_vector"], name="track_search_gin")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("onboarding:track", args=[self.slug])

    @property
    def review_due_on(self) -> dt.date:
        return self.last_reviewed_on + dt.timedelta(days=self.review_interval_days)

    @property
    def is_stale(self) -> bool:
        return self.review_due_on < timezone.localdate()


class Module(models.Model):
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="modules")
    order = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=160)
    content = models.TextField(blank=True, help_text="Markdown")
    links = models.TextField(
        blank=True,
        help_text="One per line: “Label | URL” (templates, dashboards, playbooks). URLs start with / or https://",
    )
    articles = models.ManyToManyField("onboarding.Article", blank=True, related_name="modules")

    class Meta:
        ordering = ["track", "order", "id"]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"

    def clean(self) -> None:
        try:
            parse_links(self.links)
        except ValueError as exc:
            raise ValidationError({"links": str(exc)}) from exc

    @property
    def link_list(self) -> list[tuple[str, str]]:
        try:
            return parse_links(self.links)
        except ValueError:
            return []


class Quiz(models.Model):
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="quizzes")
    title = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    pass_mark = models.PositiveIntegerField(
        default=70, validators=[MinValueValidator(1), MaxValueValidator(100)], help_text="Percent correct to pass"
    )
    max_attempts = models.PositiveIntegerField(default=3, help_text="0 = unlimited")

    class Meta:
        ordering = ["track", "title"]
        verbose_name_plural = "quizzes"

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", "Single choice"
        MULTIPLE = "multiple", "Multiple choice"

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveIntegerField(default=0)
    text = models.TextField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SINGLE)
    explanation = models.TextField(blank=True, help_text="Shown after answering, right or wrong")

    class Meta:
        ordering = ["quiz", "order", "id"]

    def __str__(self) -> str:
        return self.text[:80]


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    order = models.PositiveIntegerField(default=0)
    text = models.CharField(max_length=300)
    correct = models.BooleanField(default=False)

    class Meta:
        ordering = ["question", "order", "id"]

    def __str__(self) -> str:
        return self.text


class Task(models.Model):
    class Kind(models.TextChoices):
        READ = "read", "Read"
        DO = "do", "Do"
        MEET = "meet", "Meet"
        SHADOW = "shadow", "Shadow"
        QUIZ = "quiz", "Quiz"

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="tasks")
    module = models.ForeignKey(Module, on_delete=models.RESTRICT, related_name="tasks")
    order = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.READ)
    description = models.TextField(blank=True, help_text="Markdown")
    required = models.BooleanField(default=True)
    due_offset_days = models.PositiveIntegerField(default=1, help_text="Due this many days after the start date")
    quiz = models.ForeignKey(Quiz, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks")
    article = models.ForeignKey(
        "onboarding.Article", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    url = models.CharField(max_length=500, blank=True, help_text="Where to do it (a template, dashboard…)")
    # Retire instead of deleting: enrollees keep what they completed.
    active = models.BooleanField(default=True, help_text="Untick to retire the task (progress is kept)")

    class Meta:
        ordering = ["track", "due_offset_days", "order", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def phase(self) -> str:
        return phase_for_offset(self.due_offset_days)

    def clean(self) -> None:
        errors = {}
        if self.module_id and self.track_id and self.module.track_id != self.track_id:
            errors["module"] = "Choose a module of this track."
        if self.kind == self.Kind.QUIZ and not self.quiz_id:
            errors["quiz"] = "A quiz task needs a quiz."
        if self.quiz_id and self.track_id and self.quiz.track_id != self.track_id:
            errors["quiz"] = "Choose a quiz of this track."
        if self.url:
            try:
                parse_links(self.url)
            except ValueError:
                errors["url"] = "Use a URL starting with /, http:// or https://"
        if errors:
            raise ValidationError(errors)


class Enrollment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments")
    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="enrollments")
    start_on = models.DateField()
    buddy = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="buddy_enrollments"
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_enrollments",
    )
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    track_version = models.PositiveIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True, help_text="When every required task was done")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_on", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "track"], name="onboarding_enrollment_once")]

    def __str__(self) -> str:
        return f"{self.user} · {self.track}"

    def get_absolute_url(self) -> str:
        return reverse("onboarding:enrollment", args=[self.pk])

    @property
    def cohort(self) -> str:
        return self.start_on.strftime("%Y-%m")

    @property
    def day_number(self) -> int:
        return (timezone.localdate() - self.start_on).days + 1


class EnrollmentTask(models.Model):
    """One task of one enrollment, with its real due date. Never deleted by track edits."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="items")
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="items")
    due_on = models.DateField()
    completed_at = models.DateTimeField(null=True, blank=True)
    added_in_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["due_on", "task__order", "id"]
        constraints = [models.UniqueConstraint(fields=["enrollment", "task"], name="onboarding_item_once")]
        indexes = [models.Index(fields=["due_on", "completed_at"])]

    def __str__(self) -> str:
        return f"{self.enrollment} · {self.task}"

    @property
    def is_done(self) -> bool:
        return self.completed_at is not None

    @property
    def is_overdue(self) -> bool:
        return self.completed_at is None and self.due_on < timezone.localdate()


class QuizAttempt(models.Model):
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="attempts")
    quiz = models.ForeignKey(Quiz, on_delete=models.PROTECT, related_name="attempts")
    number = models.PositiveIntegerField()
    score = models.FloatField(help_text="Share of questions answered correctly, 0–1")
    passed = models.BooleanField()
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "quiz", "number"], name="onboarding_attempt_number_once")
        ]

    def __str__(self) -> str:
        return f"{self.quiz} attempt {self.number}"


class QuizAnswer(models.Model):
    attempt = models.ForeignKey(QuizAttempt, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    choices = models.ManyToManyField(Choice, blank=True, related_name="+")
    correct = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attempt", "question"], name="onboarding_answer_once")]

    def __str__(self) -> str:
        return f"{self.attempt} · {'right' if self.correct else 'wrong'}"


# Articles with at least this many votes and less than this share "useful" are flagged weak.
WEAK_MIN_VOTES = 3
WEAK_USEFUL_SHARE = 0.5


class Article(models.Model):
    class Kind(models.TextChoices):
        PLAYBOOK = "playbook", "Playbook"
        HOW_TO = "how_to", "How-to"
        REFERENCE = "reference", "Reference"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.HOW_TO)
    summary = models.CharField(max_length=300, blank=True)
    body = models.TextField(help_text="Markdown")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_articles"
    )
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    reviewed_on = models.DateField(default=dt.date.today, help_text="Last time the owner checked it is still true")
    review_interval_days = models.PositiveIntegerField(default=180, validators=[MinValueValidator(7)])
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        indexes = [GinIndex(fields=["search_vector"]), GinIndex(fields=["tags"], name="onboarding_article_tags")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("onboarding:article", args=[self.slug])

    @property
    def is_stale(self) -> bool:
        return self.reviewed_on + dt.timedelta(days=self.review_interval_days) < timezone.localdate()


class ArticleVote(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    useful = models.BooleanField()
    comment = models.CharField(max_length=300, blank=True)
    voted_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "user"], name="onboarding_vote_once")]

    def __str__(self) -> str:
        return f"{self.article} · {'useful' if self.useful else 'not useful'}"
