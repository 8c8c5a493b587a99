"""Research operations: the participant panel, studies, sessions and the insight repository.

Personal data lives only on Participant (name, email, company). Everything else refers to a
participant by id and shows the stable pseudonym (`P-4821`) unless the selector says the
viewer may see personal data (research.selectors.participant_list / can_see_pii).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

SEARCH_CONFIG = "english"


def pseudonym_for(participant_id: int | None) -> str:
    """The stable pseudonym shown instead of a name ("P-4821"); ids are not secret."""
    return f"P-{1000 + (participant_id or 0)}"


class EligibilityRule(models.Model):
    """Recruiting rules research ops configure in the admin; evaluated in SQL (research.eligibility)."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    is_default = models.BooleanField(default=False, help_text="Used by studies that do not pick a rule set")
    cooldown_days = models.PositiveIntegerField(default=30, help_text="Days since the last contact of any kind")
    max_sessions = models.PositiveIntegerField(default=3, help_text="Attended sessions allowed in the window")
    window_days = models.PositiveIntegerField(default=180, help_text="Rolling window for max sessions and no-shows")
    no_show_limit = models.PositiveIntegerField(default=2, help_text="Excluded at this many no-shows in the window")
    require_consent = models.BooleanField(default=True)
    consent_scope = models.CharField(max_length=40, default="research")
    exclude_opted_out = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True), name="one_default_rule")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if self.window_days == 0:
            raise ValidationError({"window_days": "The rolling window must be at least one day."})


class Participant(models.Model):
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    company = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=120, blank=True, help_text="Job title / role at their company")
    attributes = models.JSONField(default=dict, blank=True, help_text="Segment attributes, e.g. plan=enterprise")
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2")
    timezone = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=80, blank=True, help_text="Where they came from: csv import, intercept…")
    opted_out = models.BooleanField(default=False)
    # Kept in step with the contact log and consents by research.services.participant_stats_refresh
    # so eligibility over a large panel compares columns instead of probing history tables.
    last_contacted_at = models.DateTimeField(null=True, blank=True, editable=False)
    consent_valid_until = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Latest expiry of a valid research consent"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    # Kept after erasure so reports still add up.
    erased_summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["email"], condition=~models.Q(email=""), name="participant_email_unique")
        ]
        indexes = [
            GinIndex(fields=["attributes"], name="participant_attrs_gin"),
            models.Index(fields=["country"]),
        ]

    def __str__(self) -> str:
        return self.pseudonym

    def get_absolute_url(self) -> str:
        return reverse("research:participant", args=[self.pk])

    @property
    def pseudonym(self) -> str:
        return pseudonym_for(self.pk)

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def label(self) -> str:
        """Name if the selector exposed it to this viewer, else the pseudonym."""
        return getattr(self, "visible_name", None) or self.pseudonym


class ConsentRecord(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="consents")
    scope = models.CharField(max_length=40, default="research", help_text="research, recording, marketing…")
    granted = models.BooleanField(default=True)
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        indexes = [models.Index(fields=["participant", "scope"])]

    def __str__(self) -> str:
        return f"{self.scope} ({'granted' if self.granted else 'refused'})"


class ContactKind(models.TextChoices):
    INVITED = "invited", "Invited"
    SCHEDULED = "scheduled", "Scheduled"
    ATTENDED = "attended", "Attended"
    NO_SHOW = "no_show", "No-show"
    DECLINED = "declined", "Declined"


class ContactLog(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="contacts")
    study = models.ForeignKey("Study", null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts")
    kind = models.CharField(max_length=20, choices=ContactKind.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["participant", "kind", "at"]),
            models.Index(fields=["study", "kind"]),
            # Eligibility reads contacts by time range (cool-down) and kind + range (window).
            models.Index(fields=["at", "participant"], name="contact_at_idx"),
            models.Index(fields=["kind", "at", "participant"], name="contact_kind_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d}"


class Method(models.TextChoices):
    INTERVIEW = "interview", "Interview"
    USABILITY = "usability_test", "Usability test"
    SURVEY = "survey", "Survey"
    DIARY = "diary", "Diary study"
    CARD_SORT = "card_sort", "Card sort"
    CONCEPT = "concept_test", "Concept test"
    FIELD = "field_visit", "Field visit"


class StudyStatus(models.TextChoices):
    PLANNING = "planning", "Planning"
    RECRUITING = "recruiting", "Recruiting"
    FIELDWORK = "fieldwork", "Fieldwork"
    SYNTHESIS = "synthesis", "Synthesis"
    SHARED = "shared", "Shared"
    ARCHIVED = "archived", "Archived"


STUDY_FLOW = [s.value for s in StudyStatus]


class Study(models.Model):
    title = models.CharField(max_length=200)
    products = models.ManyToManyField("portal.Product", related_name="studies")
    method = models.CharField(max_length=20, choices=Method.choices, default=Method.INTERVIEW)
    status = models.CharField(max_length=20, choices=StudyStatus.choices, default=StudyStatus.PLANNING)
    research_questions = models.TextField(blank=True, help_text="One per line")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_studies")
    team = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="research_studies")
    eligibility_rule = models.ForeignKey(EligibilityRule, null=True, blank=True, on_delete=models.SET_NULL)
    screener = models.JSONField(
        default=list, blank=True, help_text='Criteria on attributes: [{"attribute": "plan", "op": "eq", "value": "x"}]'
    )
    target_sessions = models.PositiveIntegerField(default=8)
    research_plan = models.ForeignKey(
        "tooling.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="research_studies"
    )
    research_plan_url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    search_vector = models.GeneratedField(
        expression=SearchVector("title", weight="A", config=SEARCH_CONFIG)
        + SearchVector("research_questions", weight="B", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "studies"
        indexes = [GinIndex(fields=["search_vector"], name="study_search_gin")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("research:study", args=[self.pk])

    @property
    def questions(self) -> list[str]:
        return [q.strip() for q in self.research_questions.splitlines() if q.strip()]


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"
    CANCELLED = "cancelled", "Cancelled"


class Session(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="sessions")
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="sessions")
    scheduled_at = models.DateTimeField()
    duration_minutes = models.PositiveIntegerField(default=45)
    status = models.CharField(max_length=20, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED)
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.TextField(blank=True, help_text="Markdown")
    updated_at = models.DateTimeField(auto_now=True)
    search_vector = models.GeneratedField(
        expression=SearchVector("notes", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["-scheduled_at"]
        indexes = [GinIndex(fields=["search_vector"], name="session_search_gin"), models.Index(fields=["study"])]

    def __str__(self) -> str:
        return f"{self.study} · {self.scheduled_at:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("research:session", args=[self.pk])


class IncentiveStatus(models.TextChoices):
    OWED = "owed", "Owed"
    PAID = "paid", "Paid"


class Incentive(models.Model):
    session = models.OneToOneField(Session, on_delete=models.CASCADE, related_name="incentive")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    status = models.CharField(max_length=10, choices=IncentiveStatus.choices, default=IncentiveStatus.OWED)
    paid_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} ({self.status})"

    def clean(self):
        if self.amount is not None and self.amount <= 0:
            raise ValidationError({"amount": "The incentive amount must be positive."})
        if self.currency and (len(self.currency) != 3 or not self.currency.isalpha()):
            raise ValidationError({"currency": "Use a three-letter ISO currency code such as USD."})


class Tag(models.Model):
    """A global taxonomy tag (study empty, managed by research ops) or a study-local tag."""

    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80)
    study = models.ForeignKey(Study, null=True, blank=True, on_delete=models.CASCADE, related_name="local_tags")
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], condition=models.Q(study__isnull=True), name="global_tag_slug"),
            models.UniqueConstraint(fields=["study", "slug"], name="study_tag_slug"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_global(self) -> bool:
        return self.study_id is None


class Highlight(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="highlights")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="highlights")
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="highlights")
    excerpt = models.TextField()
    tags = models.ManyToManyField(Tag, blank=True, related_name="highlights")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    feedback_ref = models.CharField(max_length=80, blank=True, help_text="Feedback item id once sent to feedback")
    search_vector = models.GeneratedField(
        expression=SearchVector("excerpt", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [GinIndex(fields=["search_vector"], name="highlight_search_gin"), models.Index(fields=["study"])]

    def __str__(self) -> str:
        return self.excerpt[:60]

    def get_absolute_url(self) -> str:
        return reverse("research:session", args=[self.session_id]) + f"#highlight-{self.pk}"

    @property
    def participant_pseudonym(self) -> str:
        return pseudonym_for(self.participant_id)


class Confidence(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class InsightStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class Insight(models.Model):
    statement = models.CharField(max_length=300)
    details = models.TextField(blank=True, help_text="Markdown")
    study = models.ForeignKey(Study, null=True, blank=True, on_delete=models.SET_NULL, related_name="insights")
    products = models.ManyToManyField("portal.Product", related_name="research_insights")
    tags = models.ManyToManyField(Tag, blank=True, related_name="insights")
    highlights = models.ManyToManyField(Highlight, blank=True, related_name="insights")
    confidence = models.CharField(max_length=10, choices=Confidence.choices, default=Confidence.MEDIUM)
    status = models.CharField(max_length=12, choices=InsightStatus.choices, default=InsightStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    search_vector = models.GeneratedField(
        expression=SearchVector("statement", weight="A", config=SEARCH_CONFIG)
        + SearchVector("details", weight="B", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [GinIndex(fields=["search_vector"], name="insight_search_gin")]

    def __str__(self) -> str:
        return self.statement

    def get_absolute_url(self) -> str:
        return reverse("research:insight", args=[self.pk])


class EvidenceKind(models.TextChoices):
    FEEDBACK_THEME = "feedback_theme", "Feedback theme"
    EXPERIMENT = "experiment", "Experiment result"
    LINK = "link", "Link"


class InsightEvidence(models.Model):
    """Evidence beyond highlights: a feedback theme, an experiment result or any link, by reference."""

    insight = models.ForeignKey(Insight, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=20, choices=EvidenceKind.choices)
    ref = models.CharField(max_length=120, blank=True, help_text='e.g. "feedback.Theme:12" or "experiments:42"')
    label = models.CharField(max_length=200)
    url = models.CharField(max_length=500, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["kind", "id"]

    def __str__(self) -> str:
        return self.label

    def clean(self):
        if not self.ref and not self.url:
            raise ValidationError({"ref": "Give a reference (e.g. feedback.Theme:12) or a URL."})
        if self.url and not (self.url.startswith("/") or self.url.startswith("https://")):
            raise ValidationError({"url": "Use a portal path (/…) or an https:// link."})


class InsightView(models.Model):
    """First view per user and insight (the audit entry `insight.view` is written once)."""

    insight = models.ForeignKey(Insight, on_delete=models.CASCADE, related_name="views")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["insight", "user"], name="insight_view_once")]

    def __str__(self) -> str:
        return f"{self.user_id} viewed {self.insight_id}"
