"""Customer feedback: sources, accounts, raw items, themes, weekly signal, alerts.

Raw first: a FeedbackItem is stored exactly as received (text + raw payload) before any
processing; processing fills sentiment, area, duplicate and theme, or records the error.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from portal.search import search_vector_field


def _new_secret() -> str:
    return secrets.token_hex(24)


class SourceKind(models.TextChoices):
    SUPPORT = "support", "Support ticket"
    NPS = "nps", "NPS survey"
    CSAT = "csat", "CSAT survey"
    INTERVIEW = "interview", "Interview"
    APP_REVIEW = "app_review", "App review"
    SALES = "sales", "Sales note"
    MANUAL = "manual", "Manual entry"


class FeedbackSource(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=20, choices=SourceKind.choices)
    webhook_secret = models.CharField(
        max_length=64, default=_new_secret, help_text="HMAC key for Zendesk/Intercom webhooks to this source"
    )
    default_product = models.ForeignKey(
        "portal.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Segment(models.TextChoices):
    ENTERPRISE = "enterprise", "Enterprise"
    MID_MARKET = "mid_market", "Mid-market"
    SMB = "smb", "SMB"
    CONSUMER = "consumer", "Consumer"
    UNKNOWN = "unknown", "Unknown"


class CustomerAccount(models.Model):
    name = models.CharField(max_length=200)
    name_key = models.CharField(max_length=200, unique=True, editable=False, help_text="Lower-cased name")
    segment = models.CharField(max_length=20, choices=Segment.choices, default=Segment.UNKNOWN)
    arr = models.DecimalField("ARR", max_digits=14, decimal_places=2, default=0, validators=[MinValueValidator(0)])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.name = (self.name or "").strip()
        self.name_key = self.name.lower()


class Contact(models.Model):
    """Personal data: shown only to roles that may follow up (never viewers)."""

    account = models.ForeignKey(CustomerAccount, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField()

    class Meta:
        ordering = ["email"]
        constraints = [models.UniqueConstraint(fields=["account", "email"], name="feedback_contact_once")]

    def __str__(self) -> str:
        return self.name or self.email


class ProductArea(models.Model):
    """A part of a product feedback is about; rules (ops leads) first, learned fallback second."""

    product = models.ForeignKey("portal.Product", on_delete=models.CASCADE, related_name="feedback_areas")
    name = models.CharField(max_length=120)
    keywords = models.TextField(
        blank=True, help_text="Comma-separated words or phrases; an item mentioning one belongs to this area"
    )
    priority = models.PositiveSmallIntegerField(default=100, help_text="Lower wins when several rules match")
    learned_terms = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["product__name", "priority", "name"]
        constraints = [models.UniqueConstraint(fields=["product", "name"], name="feedback_area_unique")]

    def __str__(self) -> str:
        return f"{self.product} · {self.name}"

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip().lower() for k in self.keywords.split(",") if k.strip()]


class ThemeStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PROPOSED = "proposed", "Proposed"
    MERGED = "merged", "Merged"
    ARCHIVED = "archived", "Archived"


class Theme(models.Model):
    """A recurring topic. Ids are stable: re-clusters match new clusters to existing themes."""

    product = models.ForeignKey(
        "portal.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="feedback_themes"
    )
    label = models.CharField(max_length=200)
    label_locked = models.BooleanField(default=False, help_text="Renamed by a person: re-clusters keep the label")
    status = models.CharField(max_length=20, choices=ThemeStatus.choices, default=ThemeStatus.ACTIVE)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    terms = models.JSONField(default=dict, blank=True, help_text="Centroid: term → weight")
    size = models.PositiveIntegerField(default=0)
    score = models.FloatField(default=0)
    trend = models.FloatField(default=0, help_text="Latest week vs the 8-week baseline (+1.0 = doubled)")
    last_alert_week = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    search_vector = search_vector_field(("label", "A"))  # global search: labels only, never customer text

    class Meta:
        ordering = ["-score", "id"]
        indexes = [
            models.Index(fields=["product", "status"]),
            GinIndex(fields=["search_vector"], name="theme_search_gin"),
        ]

    def __str__(self) -> str:
        return self.label

    def get_absolute_url(self) -> str:
        return reverse("feedback:theme", args=[self.pk])

    @property
    def top_terms(self) -> list[str]:
        return [t for t, _w in sorted(self.terms.items(), key=lambda kv: -kv[1])[:8]]


class ItemState(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"


class DuplicateStatus(models.TextChoices):
    NONE = "", "Not a duplicate"
    EXACT = "exact", "Exact duplicate"
    SUGGESTED = "suggested", "Near duplicate (to review)"
    CONFIRMED = "confirmed", "Near duplicate (confirmed)"
    REJECTED = "rejected", "Not a duplicate (reviewed)"


class FeedbackItem(models.Model):
    source = models.ForeignKey(FeedbackSource, on_delete=models.PROTECT, related_name="items")
    external_id = models.CharField(max_length=200)
    text = models.TextField()
    rating = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    account = models.ForeignKey(CustomerAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="items")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="items", db_index=False
    )
    product = models.ForeignKey(
        "portal.Product",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback_items",
        db_index=False,  # (product, created_at) serves it
    )
    created_at = models.DateTimeField(db_index=True, help_text="When the customer said it")
    received_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    raw = models.JSONField(default=dict, blank=True)
    text_hash = models.CharField(max_length=40, blank=True)

    state = models.CharField(max_length=20, choices=ItemState.choices, default=ItemState.PENDING)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    sentiment = models.FloatField(null=True, blank=True)
    area = models.ForeignKey(ProductArea, null=True, blank=True, on_delete=models.SET_NULL, related_name="items")
    area_method = models.CharField(max_length=10, blank=True, help_text="rule or learned")
    theme = models.ForeignKey(
        Theme, null=True, blank=True, on_delete=models.SET_NULL, related_name="items", db_index=False
    )  # (theme, created_at) serves it
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    duplicate_status = models.CharField(max_length=20, choices=DuplicateStatus.choices, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="feedback_item_source_external_id")
        ]
        # Lean on purpose: processing rewrites every item, and each index costs a write per
        # item. Partial indexes hold only the few rows their queries look for.
        indexes = [
            models.Index(fields=["product", "created_at"]),
            models.Index(fields=["theme", "created_at"]),
            models.Index(fields=["text_hash"], name="feedback_item_text_hash"),
            models.Index(fields=["state"], name="feedback_item_unprocessed", condition=~models.Q(state="processed")),
            models.Index(
                fields=["duplicate_of"],
                name="feedback_item_duplicate_of",
                condition=models.Q(duplicate_of__isnull=False),
            ),
            models.Index(fields=["contact"], name="feedback_item_contact", condition=models.Q(contact__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.source.slug}:{self.external_id}"

    def get_absolute_url(self) -> str:
        return reverse("feedback:item", args=[self.pk])

    @property
    def counts_as_signal(self) -> bool:
        return self.duplicate_status not in (DuplicateStatus.EXACT, DuplicateStatus.CONFIRMED)

    def clean(self) -> None:
        if not (self.text or "").strip():
            raise ValidationError({"text": "Text is required."})


class ThemeWeek(models.Model):
    """Stored signal for one theme and one ISO week (Monday)."""

    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="weeks")
    week = models.DateField()
    volume = models.PositiveIntegerField(default=0)
    unique_accounts = models.PositiveIntegerField(default=0)
    arr_demand = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    mean_sentiment = models.FloatField(null=True, blank=True)
    baseline = models.FloatField(default=0, help_text="Mean weekly volume over the previous 8 weeks")
    trend = models.FloatField(default=0)
    is_spike = models.BooleanField(default=False)

    class Meta:
        ordering = ["theme", "week"]
        constraints = [models.UniqueConstraint(fields=["theme", "week"], name="feedback_theme_week_once")]

    def __str__(self) -> str:
        return f"{self.theme_id} · {self.week}"


class SpikeAlert(models.Model):
    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="alerts")
    week = models.DateField()
    volume = models.PositiveIntegerField()
    baseline = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["theme", "week"], name="feedback_alert_once_per_week")]

    def __str__(self) -> str:
        return f"Spike {self.theme_id} · {self.week}"


class PipelineRun(models.Model):
    """Stored result of a background run (shown with its age on the pages)."""

    kind = models.CharField(max_length=20)  # recluster | signals
    product = models.ForeignKey("portal.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, default="queued")  # queued | running | done | failed
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-queued_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.status}"


class RoadmapLink(models.Model):
    """Close the loop: a theme or an item linked to the roadmap item that answers it."""

    roadmap_item = models.ForeignKey("tooling.RoadmapItem", on_delete=models.CASCADE, related_name="feedback_links")
    theme = models.ForeignKey(Theme, null=True, blank=True, on_delete=models.CASCADE, related_name="roadmap_links")
    item = models.ForeignKey(
        FeedbackItem, null=True, blank=True, on_delete=models.CASCADE, related_name="roadmap_links"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    notified_at = models.DateTimeField(null=True, blank=True, help_text="When the owner was told it shipped")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(theme__isnull=False, item__isnull=True)
                | models.Q(theme__isnull=True, item__isnull=False),
                name="feedback_link_theme_xor_item",
                violation_error_message="Link either a theme or an item.",
            ),
            models.UniqueConstraint(fields=["roadmap_item", "theme"], name="feedback_link_theme_once"),
            models.UniqueConstraint(fields=["roadmap_item", "item"], name="feedback_link_item_once"),
        ]

    def __str__(self) -> str:
        return f"{self.roadmap_item} ← {self.theme or self.item}"

    @property
    def roadmap_item_url(self) -> str:
        return reverse("feedback:loop", args=[self.roadmap_item_id])
