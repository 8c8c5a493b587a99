"""Analytics: the tracking plan, ingestion sources, raw events, rollups, insights, dashboards.

Raw events are append-only and written in bulk (see services.events_ingest); pages read
rollups and cached tile results, never scan raw events on a request.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex, GinIndex
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from portal.search import search_vector_field


class NamingRule(models.Model):
    """A naming convention ops leads enforce on new or renamed definitions."""

    class AppliesTo(models.TextChoices):
        EVENT = "event", "Event names"
        PROPERTY = "property", "Property names"

    name = models.CharField(max_length=120, unique=True, help_text="e.g. snake_case object_action")
    applies_to = models.CharField(max_length=10, choices=AppliesTo.choices, default=AppliesTo.EVENT)
    pattern = models.CharField(max_length=300, help_text="A regular expression the whole name must match")
    description = models.CharField(max_length=300, blank=True, help_text="Shown when a name is refused")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["applies_to", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise ValidationError({"pattern": f"Not a valid regular expression: {exc}."}) from exc

    def check_name(self, name: str) -> str | None:
        """The refusal sentence if `name` breaks this rule, else None."""
        if re.fullmatch(self.pattern, name):
            return None
        hint = f" ({self.description})" if self.description else ""
        return f"'{name}' breaks the naming rule '{self.name}'{hint}: it must match {self.pattern}."


def naming_errors(name: str, applies_to: str) -> list[str]:
    rules = NamingRule.objects.filter(is_active=True, applies_to=applies_to)
    return [msg for rule in rules if (msg := rule.check_name(name))]


class EventDefinition(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        ACTIVE = "active", "Active"
        DEPRECATED = "deprecated", "Deprecated"
        HIDDEN = "hidden", "Hidden"

    product = models.ForeignKey("portal.Product", on_delete=models.CASCADE, related_name="event_definitions")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_events"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    verified = models.BooleanField(default=False)
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    volume_30d = models.BigIntegerField(default=0, help_text="Accepted events in the last 30 days (from rollups)")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Global search (portal.search): stored, GIN-indexed. Names are snake_case, so their words
    # are indexed too: "order completed" finds order_completed.
    search_vector = search_vector_field(
        (models.Func("name", models.Value("_"), models.Value(" "), function="replace"), "A"), ("description", "B")
    )

    class Meta:
        ordering = ["product", "name"]
        constraints = [models.UniqueConstraint(fields=["product", "name"], name="eventdef_unique_per_product")]
        indexes = [GinIndex(fields=["search_vector"], name="eventdef_search_gin")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("analytics:event-detail", args=[self.product.slug, self.name])

    def clean(self) -> None:
        if not self.name:
            return
        previous = None
        if self.pk:
            previous = EventDefinition.objects.filter(pk=self.pk).values_list("name", flat=True).first()
        if previous != self.name:  # new or renamed: the naming rules apply
            errors = naming_errors(self.name, NamingRule.AppliesTo.EVENT)
            if errors:
                raise ValidationError({"name": errors})


class PropertyDefinition(models.Model):
    class Type(models.TextChoices):
        STRING = "string", "String"
        NUMBER = "number", "Number"
        BOOLEAN = "boolean", "Boolean"
        DATETIME = "datetime", "Date-time (ISO-8601)"
        ENUM = "enum", "Enum (allowed values)"

    class Pii(models.TextChoices):
        NONE = "none", "Not personal"
        PSEUDONYMOUS = "pseudonymous", "Pseudonymous (IDs)"
        PERSONAL = "personal", "Personal (name, email, address)"
        SENSITIVE = "sensitive", "Sensitive (payment, health)"

    event = models.ForeignKey(EventDefinition, on_delete=models.CASCADE, related_name="properties")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.STRING)
    enum_values = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    required = models.BooleanField(default=False)
    description = models.TextField(blank=True)
    pii = models.CharField("PII class", max_length=14, choices=Pii.choices, default=Pii.NONE)

    class Meta:
        ordering = ["event", "name"]
        constraints = [models.UniqueConstraint(fields=["event", "name"], name="propdef_unique_per_event")]

    def __str__(self) -> str:
        return f"{self.event.name}.{self.name}"

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.type == self.Type.ENUM and not self.enum_values:
            errors["enum_values"] = ["An enum property needs at least one allowed value."]
        if self.type != self.Type.ENUM and self.enum_values:
            errors["enum_values"] = ["Allowed values only apply to enum properties."]
        if self.name:
            previous = None
            if self.pk:
                previous = PropertyDefinition.objects.filter(pk=self.pk).values_list("name", flat=True).first()
            if previous != self.name:
                naming = naming_errors(self.name, NamingRule.AppliesTo.PROPERTY)
                if naming:
                    errors["name"] = naming
        if errors:
            raise ValidationError(errors)


class PlanChange(models.Model):
    """Change history of the tracking plan: who changed what, when."""

    product = models.ForeignKey("portal.Product", on_delete=models.CASCADE, related_name="plan_changes")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=40, help_text="event.create, event.update, property.delete, plan.import…")
    target = models.CharField(max_length=300)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.target}"


class Source(models.Model):
    """Where events come from. The write key is shown once and stored as a SHA-256."""

    class Enforcement(models.TextChoices):
        ALLOW = "allow", "Allow (store, flag violations)"
        QUARANTINE = "quarantine", "Quarantine violating events"
        REJECT = "reject", "Reject violating events"

    product = models.ForeignKey("portal.Product", on_delete=models.CASCADE, related_name="event_sources")
    name = models.CharField(max_length=120)
    enforcement = models.CharField(max_length=12, choices=Enforcement.choices, default=Enforcement.ALLOW)
    prefix = models.CharField(max_length=16, editable=False, help_text="First characters, to recognise the key")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["product", "name"]
        constraints = [models.UniqueConstraint(fields=["product", "name"], name="source_unique_per_product")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Event(models.Model):
    """A raw event. Append-only, written in bulk; BRIN on timestamp for time-range scans."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        QUARANTINED = "quarantined", "Quarantined"

    id = models.BigAutoField(primary_key=True)
    # No database FK constraints on the raw table: they cost a trigger per row on COPY and
    # bulk inserts; the ingestion path only writes ids it just loaded. No single-column FK
    # indexes either: the covering index leads with product, and nothing reads by source
    # (deleting a source, rare, scans); each index is written for every event ingested.
    product = models.ForeignKey(
        "portal.Product", on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False, db_index=False
    )
    uuid = models.UUIDField(null=True, blank=True)
    event = models.CharField(max_length=200)
    distinct_id = models.CharField(max_length=200)
    timestamp = models.DateTimeField()
    received_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACCEPTED)
    reasons = models.JSONField(default=list, blank=True, help_text="Plan violations: [{code, message}]")

    class Meta:
        indexes = [
            BrinIndex(fields=["timestamp"], name="event_ts_brin"),
            # Covering: funnels and per-event scans read (distinct_id, status) from the index alone.
            models.Index(
                fields=["product", "event", "timestamp"],
                include=["distinct_id", "status"],
                name="event_product_event_ts_cov",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "uuid"], condition=models.Q(uuid__isnull=False), name="event_uuid_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.distinct_id} {self.timestamp:%Y-%m-%d %H:%M}"


class RejectedEvent(models.Model):
    """What a source sent that was refused: kept with its reasons so nothing is silently lost."""

    product = models.ForeignKey("portal.Product", on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(db_index=True)
    event = models.CharField(max_length=200, blank=True)
    payload = models.JSONField()
    reasons = models.JSONField(default=list)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"rejected {self.event or '(no name)'}"


class DirtyDay(models.Model):
    """A (product, day) whose rollups must be recomputed (new or late events arrived)."""

    product = models.ForeignKey("portal.Product", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    marked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "day"], name="dirtyday_once")]

    def __str__(self) -> str:
        return f"{self.product_id} {self.day}"


class EventDailyRollup(models.Model):
    """Per product, day and event: accepted count and unique users, flagged and quarantined counts."""

    product = models.ForeignKey("portal.Product", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    event = models.CharField(max_length=200)
    count = models.BigIntegerField(default=0)
    uniques = models.BigIntegerField(default=0)
    flagged = models.BigIntegerField(default=0, help_text="Accepted but violating the plan (allow mode)")
    quarantined = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "day", "event"], name="eventdaily_once")]
        indexes = [models.Index(fields=["product", "event", "day"], name="eventdaily_product_event_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.event}: {self.count}"


class UserDailyActivity(models.Model):
    """One row per active user and day: the base of DAU/WAU/MAU, stickiness and retention."""

    product = models.ForeignKey("portal.Product", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    distinct_id = models.CharField(max_length=200)
    events = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "day", "distinct_id"], name="userdaily_once")]
        indexes = [models.Index(fields=["product", "distinct_id", "day"], name="userdaily_product_user_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.distinct_id}"


class BitStringField(models.Field):
    """A PostgreSQL `bit varying`; Python sees the '0101…' text."""

    description = "Bit string"

    def db_type(self, connection) -> str:
        return "bit varying"


class UserActivityBits(models.Model):
    """Per product and user: first and last active day and a bitmap of active days (bit i, from
    the left, set when the user was active on first_day + i). Rebuilt from UserDailyActivity for
    the users of every re-rolled day; retention reads one row per user instead of user-days."""

    product = models.ForeignKey("portal.Product", on_delete=models.CASCADE, related_name="+")
    distinct_id = models.CharField(max_length=200)
    first_day = models.DateField()
    last_day = models.DateField()
    days = BitStringField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "distinct_id"], name="useractivitybits_once")]

    def __str__(self) -> str:
        return f"{self.distinct_id} {self.first_day}..{self.last_day}"


class Insight(models.Model):
    """A saved question: a JSON query spec (see analytics/queries.py) with its last result."""

    product = models.ForeignKey("portal.Product", on_delete=models.CASCADE, related_name="insights")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    spec = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("analytics:insight-detail", args=[self.pk])


class DashboardTemplate(models.Model):
    """A standard dashboard every product gets. Tile specs may use placeholders resolved per
    product: "$key_funnel" (events tagged funnel:1, funnel:2…), "$feature_events" (tagged feature)."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.CharField(max_length=300, blank=True)
    tiles = models.JSONField(default=list, help_text='[{"title": "...", "spec": {...}, "width": 1|2}]')
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.tiles, list) or not all(
            isinstance(t, dict) and t.get("title") and isinstance(t.get("spec"), dict) for t in self.tiles
        ):
            raise ValidationError({"tiles": 'Each tile needs a "title" and a "spec" object.'})


class Dashboard(models.Model):
    product = models.ForeignKey("portal.Product", on_delete=models.CASCADE, related_name="dashboards")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    template = models.ForeignKey(
        DashboardTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="dashboards"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Saved filters, applied to every tile (the URL query string overrides them for a view).
    date_from = models.CharField(max_length=20, default="-30d", help_text="ISO date or relative like -30d")
    date_to = models.CharField(max_length=20, blank=True)
    filters = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Global search (portal.search): stored, GIN-indexed.
    search_vector = search_vector_field(("name", "A"), ("description", "B"))

    class Meta:
        ordering = ["product", "template__position", "name"]
        indexes = [GinIndex(fields=["search_vector"], name="dashboard_search_gin")]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "template"],
                condition=models.Q(template__isnull=False),
                name="dashboard_one_per_template",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.product})"

    def get_absolute_url(self) -> str:
        return reverse("analytics:dashboard-detail", args=[self.pk])

    @property
    def is_standard(self) -> bool:
        return self.template_id is not None


class Tile(models.Model):
    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="tiles")
    title = models.CharField(max_length=200)
    spec = models.JSONField()
    width = models.PositiveSmallIntegerField(default=1, choices=[(1, "Half"), (2, "Full")])
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["dashboard", "position", "id"]

    def __str__(self) -> str:
        return self.title


class TileResult(models.Model):
    """A tile's cached result for one set of effective filters (stale-while-revalidate)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        COMPUTING = "computing", "Computing"
        READY = "ready", "Ready"
        ERROR = "error", "Error"

    tile = models.ForeignKey(Tile, on_delete=models.CASCADE, related_name="results")
    filters_key = models.CharField(max_length=64)
    filters = models.JSONField(default=dict)
    result = models.JSONField(null=True, blank=True)
    view = models.JSONField(null=True, blank=True, help_text="Rendered figure JSON, summary, KPIs, table")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tile", "filters_key"], name="tileresult_once")]

    def __str__(self) -> str:
        return f"{self.tile} [{self.filters_key[:8]}]"


class ViolationType(models.Model):
    """Each (event, reason code, property) seen once: a new one alerts the event's owner."""

    product = models.ForeignKey("portal.Product", on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=200)
    code = models.CharField(max_length=40)
    property = models.CharField(max_length=200, blank=True)
    example = models.CharField(max_length=500, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    count = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-count"]
        constraints = [
            models.UniqueConstraint(fields=["product", "event", "code", "property"], name="violationtype_once")
        ]

    def __str__(self) -> str:
        return f"{self.event}: {self.code} {self.property}".strip()


class ActiveUsersDaily(models.Model):
    """DAU, WAU (7 days) and MAU (30 days) per product and day, kept by the rollups."""

    product = models.ForeignKey("portal.Product", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    dau = models.IntegerField(default=0)
    wau = models.IntegerField(default=0)
    mau = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "day"], name="activeusersdaily_once")]

    def __str__(self) -> str:
        return f"{self.day}: {self.dau}/{self.wau}/{self.mau}"


class FunnelRollup(models.Model):
    """A funnel (steps and conversion window) kept precomputed per user and day, so a funnel
    tile reads one narrow table instead of joining raw events step by step.

    Registered the first time a funnel without property filters runs; built in the background
    over the product's whole history; kept current by the rollups, which mark the days whose
    events changed (stale_from..stale_to) in the same transaction as the day's re-roll."""

    product = models.ForeignKey("portal.Product", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64, help_text="Digest of the steps and window")
    steps = models.JSONField()
    window_days = models.PositiveIntegerField()
    built_at = models.DateTimeField(null=True, blank=True, help_text="Empty until the first build ends")
    stale_from = models.DateField(null=True, blank=True)
    stale_to = models.DateField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True, help_text="Last catch-up with new events")
    last_used_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "key"], name="funnelrollup_once")]

    def __str__(self) -> str:
        return f"{' → '.join(self.steps)} ({self.window_days} d)"


class FunnelProgress(models.Model):
    """For a user and a day on which they did the funnel's first step: how many further steps
    they completed, in order, within the window from that day's first occurrence. A funnel over
    a date range counts each user at their first such day in the range: the row whose
    `prev_day` (the user's previous such day) falls before the range (see analytics.funnels)."""

    id = models.BigAutoField(primary_key=True)
    # Bulk-written, and deleted in SQL with its rollup (a pre_delete receiver in analytics.funnels):
    # no per-row FK trigger, no ORM cascade over millions of rows.
    funnel = models.ForeignKey(
        FunnelRollup, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    distinct_id = models.CharField(max_length=200)
    day = models.DateField()
    prev_day = models.DateField(null=True, blank=True, help_text="The user's previous day with the first step")
    reached = models.SmallIntegerField(help_text="0 = the first step only")

    class Meta:
        indexes = [
            # Counting a range reads this index alone; keeping prev_day current probes the other.
            models.Index(fields=["funnel", "day"], include=["prev_day", "reached"], name="funnelprogress_day_cov"),
            models.Index(fields=["funnel", "distinct_id", "day"], name="funnelprogress_user_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.distinct_id}: step {self.reached + 1}"
