"""The organisation every app builds on: business units, markets, products, people.

Times are stored in UTC; each person has a timezone pages are shown in.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.db import models

from portal.search import search_vector_field

TIMEZONE_CHOICES = sorted((tz, tz) for tz in zoneinfo.available_timezones() if "/" in tz)


class Role(models.TextChoices):
    PM = "pm", "PM"
    OPS_LEAD = "ops_lead", "Ops lead"
    RESEARCHER = "researcher", "Researcher"
    VIEWER = "viewer", "Viewer"


class User(AbstractUser):
    """A person at the company. Superusers are admins whatever their role."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    title = models.CharField(max_length=120, blank=True)
    timezone = models.CharField(max_length=64, choices=TIMEZONE_CHOICES, default="UTC")
    manager = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")

    class Meta:
        ordering = ["username"]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_pm(self) -> bool:
        return self.role == Role.PM

    @property
    def is_ops_lead(self) -> bool:
        return self.role == Role.OPS_LEAD or self.is_superuser

    @property
    def is_researcher(self) -> bool:
        return self.role == Role.RESEARCHER or self.is_superuser

    @property
    def is_viewer(self) -> bool:
        return self.role == Role.VIEWER and not self.is_superuser


class BusinessUnit(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.TextField(blank=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Market(models.Model):
    """A region the company sells in (global operations share systems across them)."""

    code = models.CharField(max_length=8, unique=True, help_text="e.g. NA, EMEA, APAC, LATAM")
    name = models.CharField(max_length=80)
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Product(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.TextField(blank=True)
    unit = models.ForeignKey(BusinessUnit, on_delete=models.PROTECT, related_name="products")
    markets = models.ManyToManyField(Market, blank=True, related_name="products")
    pm_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_products",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="products", help_text="PMs and others working on it"
    )
    # Opt-in only: by default reviews are advisory and approval is never required.
    requires_review_approval = models.BooleanField(default=False)
    # Who edits: by default a PM edits only the products they own or are a member of; an ops
    # lead may open a product (a shared platform, say) to every PM.
    editable_by_all_pms = models.BooleanField(
        default=False,
        help_text="Any PM may edit this product's experiments, documents, roadmap and plan, "
        "not only its owner and members.",
    )
    # Internal products (the portal itself) collect usage analytics but are left out of
    # ordinary product lists.
    is_internal = models.BooleanField(default=False, db_index=True)
    # Global search (portal.search): stored, GIN-indexed.
    search_vector = search_vector_field(("name", "A"), ("description", "B"))

    class Meta:
        ordering = ["name"]
        indexes = [GinIndex(fields=["search_vector"], name="product_search_gin")]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 of the secret is stored; it is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise the token")
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.CharField(
        max_length=20,
        choices=[("read", "Read only"), ("write", "Read and write")],
        default="write",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditEntry(models.Model):
    """Append-only: who did what, when (UTC) and from where. Never edited or deleted."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True, help_text="Kept if the user is deleted")
    action = models.CharField(max_length=80, db_index=True, help_text="e.g. template.publish")
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Audit entries are append-only.")


class Notification(models.Model):
    """An in-app inbox message. Apps create them through portal.services.notify()."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=60, help_text="e.g. review.requested, experiment.srm")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    dedupe_key = models.CharField(max_length=200, blank=True, help_text="One notification per key")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notification_once_per_key",
            )
        ]

    def __str__(self) -> str:
        return self.title


class NotificationPreference(models.Model):
    """Per-user, per-kind choice of channels. No row means: in-app yes, email yes."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs")
    kind = models.CharField(max_length=60, help_text="Notification kind, or '*' for every kind")
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_pref_per_kind")]

    def __str__(self) -> str:
        return f"{self.user} {self.kind}: in-app={self.in_app} email={self.email}"


class MonthlyReport(models.Model):
    """The monthly product-ops report of one business unit, computed once and kept."""

    unit = models.ForeignKey(BusinessUnit, on_delete=models.CASCADE, related_name="monthly_reports")
    month = models.DateField(help_text="First day of the month reported on")
    data = models.JSONField(default=dict)
    generated_at = models.DateTimeField()

    class Meta:
        ordering = ["-month", "unit__name"]
        constraints = [models.UniqueConstraint(fields=["unit", "month"], name="one_report_per_unit_month")]

    def __str__(self) -> str:
        return f"{self.unit} {self.month:%B %Y}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("report-detail", args=[self.unit.slug, f"{self.month:%Y-%m}"])


class ReportSubscription(models.Model):
    """Who gets the monthly report by email; no unit means every business unit."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_subscriptions")
    unit = models.ForeignKey(
        BusinessUnit, null=True, blank=True, on_delete=models.CASCADE, related_name="report_subscriptions"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "unit"], name="one_subscription_per_unit"),
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(unit__isnull=True), name="one_all_units_subscription"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.unit or 'all units'}"
