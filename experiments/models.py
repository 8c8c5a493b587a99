"""Experiments: metric definitions, experiments with variants, result snapshots, shared standards.

Lifecycle: draft → running → stopped → decided (shipped / rolled back / inconclusive) → archived.
Writes go through experiments.services; statistics live in experiments.stats (no Django).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse

from portal.search import search_vector_field

EXPOSURE_EVENT = "$exposure"

key_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]*$", "Use lower-case letters, digits, '-' and '_' (start with a letter or digit)."
)


class Metric(models.Model):
    """A metric defined on analytics events. Shared (no product) or owned by one product."""

    class Kind(models.TextChoices):
        CONVERSION = "conversion", "Conversion (did the event after first exposure)"
        MEAN = "mean", "Mean per unit (count or sum of a property)"
        RATIO = "ratio", "Ratio (sum of a numerator over sum of a denominator, e.g. revenue per order)"

    class Direction(models.TextChoices):
        HIGHER = "higher", "Higher is better"
        LOWER = "lower", "Lower is better"

    key = models.CharField(max_length=80, validators=[key_validator])
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    product = models.ForeignKey(
        "portal.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="experiment_metrics"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.CONVERSION)
    event = models.CharField(max_length=200, help_text="Analytics event name, e.g. checkout_completed")
    value_property = models.CharField(
        max_length=200,
        blank=True,
        help_text="Mean and ratio metrics: numeric property to sum (e.g. revenue). Blank counts the events.",
    )
    denominator_event = models.CharField(
        max_length=200,
        blank=True,
        help_text="Ratio metrics: analytics event of the denominator, e.g. order_completed",
    )
    denominator_property = models.CharField(
        max_length=200,
        blank=True,
        help_text="Ratio metrics: numeric property of the denominator event to sum. Blank counts the events.",
    )
    window_hours = models.PositiveIntegerField(
        default=168,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 90)],
        help_text="Count events this long after the unit's first exposure.",
    )
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.HIGHER)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["product", "key"], name="metric_key_per_product"),
            models.UniqueConstraint(fields=["key"], condition=models.Q(product__isnull=True), name="shared_metric_key"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind == self.Kind.CONVERSION and self.value_property:
            raise ValidationError({"value_property": "Conversion metrics count units, not a property: leave it blank."})
        if self.kind == self.Kind.RATIO and not self.denominator_event.strip():
            raise ValidationError(
                {"denominator_event": "A ratio metric needs a denominator event (e.g. order_completed for per order)."}
            )
        if self.kind != self.Kind.RATIO and (self.denominator_event or self.denominator_property):
            field = "denominator_event" if self.denominator_event else "denominator_property"
            raise ValidationError({field: "Only ratio metrics have a denominator: leave it blank or choose Ratio."})

    @property
    def lower_is_better(self) -> bool:
        return self.direction == self.Direction.LOWER

    @property
    def definition(self) -> str:
        days = f"{self.window_hours // 24} days" if self.window_hours % 24 == 0 else f"{self.window_hours} h"
        if self.kind == self.Kind.CONVERSION:
            return f"Share of units who did '{self.event}' within {days} of first exposure"
        what = f"sum of '{self.value_property}'" if self.value_property else "number"
        if self.kind == self.Kind.RATIO:
            per = f"sum of '{self.denominator_property}'" if self.denominator_property else "number"
            return (
                f"{what.capitalize()} of '{self.event}' events divided by the {per} of "
                f"'{self.denominator_event}' events, over all units, within {days} of first exposure"
            )
        return f"Mean {what} of '{self.event}' events per unit within {days} of first exposure"


class ExperimentTemplate(models.Model):
    """Ops leads' starting points for common experiment types (managed in the admin)."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    hypothesis_change = models.CharField(max_length=300, blank=True)
    hypothesis_audience = models.CharField(max_length=300, blank=True)
    hypothesis_impact = models.CharField(max_length=300, blank=True)
    default_mde = models.FloatField(default=0.05, validators=[MinValueValidator(0.001), MaxValueValidator(1)])
    default_alpha = models.FloatField(default=0.05, validators=[MinValueValidator(0.001), MaxValueValidator(0.2)])
    default_power = models.FloatField(default=0.8, validators=[MinValueValidator(0.5), MaxValueValidator(0.99)])
    default_duration_days = models.PositiveIntegerField(default=14)
    suggested_guardrails = models.ManyToManyField(Metric, blank=True, related_name="+")
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BestPractice(models.Model):
    """One entry of the experimentation best-practice guide (managed by ops leads)."""

    title = models.CharField(max_length=160, unique=True)
    body = models.TextField(help_text="Markdown")
    checklist_key = models.CharField(
        max_length=40,
        blank=True,
        help_text="Pre-launch checklist item it explains: metric, sample_size, guardrails, duration",
    )
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "title"]

    def __str__(self) -> str:
        return self.title


class Experiment(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        RUNNING = "running", "Running"
        STOPPED = "stopped", "Stopped"
        DECIDED = "decided", "Decided"
        ARCHIVED = "archived", "Archived"

    class Decision(models.TextChoices):
        SHIPPED = "shipped", "Shipped"
        ROLLED_BACK = "rolled_back", "Rolled back"
        INCONCLUSIVE = "inconclusive", "Inconclusive"

    class Engine(models.TextChoices):
        FREQUENTIST = "frequentist", "Frequentist (sequential, safe to peek)"
        FIXED = "fixed", "Frequentist (fixed horizon)"
        BAYESIAN = "bayesian", "Bayesian"

    key = models.CharField(max_length=80, unique=True, validators=[key_validator], help_text="Used by the SDK")
    name = models.CharField(max_length=200)
    product = models.ForeignKey("portal.Product", on_delete=models.PROTECT, related_name="experiments")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_experiments")
    template = models.ForeignKey(ExperimentTemplate, null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    # Structured hypothesis: "If we <change> for <audience>, then <metric> will <impact>."
    hypothesis_change = models.CharField("change", max_length=300)
    hypothesis_audience = models.CharField("audience", max_length=300)
    hypothesis_impact = models.CharField("expected impact", max_length=300)
    hypothesis_metric = models.CharField("metric it moves", max_length=200, blank=True)
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    mde = models.FloatField(
        "minimum detectable effect",
        default=0.05,
        validators=[MinValueValidator(0.001), MaxValueValidator(1)],
        help_text="Relative, e.g. 0.05 = 5%",
    )
    alpha = models.FloatField(default=0.05, validators=[MinValueValidator(0.001), MaxValueValidator(0.2)])
    power = models.FloatField(default=0.8, validators=[MinValueValidator(0.5), MaxValueValidator(0.99)])
    engine = models.CharField(max_length=12, choices=Engine.choices, default=Engine.FREQUENTIST)
    correction = models.CharField(
        max_length=6,
        choices=[("holm", "Holm (family-wise)"), ("bh", "Benjamini-Hochberg (false discovery rate)")],
        default="holm",
    )
    planned_start = models.DateField(null=True, blank=True)
    planned_end = models.DateField(null=True, blank=True)
    prd = models.ForeignKey(
        "tooling.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="PRD"
    )
    roadmap_item = models.ForeignKey(
        "tooling.RoadmapItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="experiments"
    )
    brief = models.ForeignKey(
        "tooling.Document",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="experiment brief",
        help_text="Created from the experiment-brief template when the experiment is created",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.TextField(blank=True)
    decision = models.CharField(max_length=14, choices=Decision.choices, blank=True)
    decision_rationale = models.TextField(blank=True)
    learnings = models.TextField("what we learned", blank=True, help_text="Markdown; shown in the library")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    srm_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Global search (portal.search): stored, GIN-indexed.
    search_vector = search_vector_field(
        ("name", "A"),
        ("key", "A"),
        ("hypothesis_change", "B"),
        ("hypothesis_impact", "B"),
        ("hypothesis_metric", "B"),
        ("learnings", "B"),
        ("decision_rationale", "B"),
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["product", "status"]),
            GinIndex(fields=["search_vector"], name="experiment_search_gin"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("experiments:detail", args=[self.key])

    def clean(self) -> None:
        if self.planned_start and self.planned_end and self.planned_end < self.planned_start:
            raise ValidationError({"planned_end": "The planned end must be on or after the planned start."})
        for field in ("prd", "roadmap_item"):
            linked = getattr(self, field)
            if linked is not None and self.product_id and linked.product_id != self.product_id:
                raise ValidationError({field: f"“{linked}” belongs to another product."})

    @property
    def hypothesis(self) -> str:
        metric = self.hypothesis_metric or "it"
        who = self.hypothesis_audience
        return f"If we {self.hypothesis_change} for {who}, then {metric} will {self.hypothesis_impact}."

    @property
    def is_frozen(self) -> bool:
        return self.status != self.Status.DRAFT

    @property
    def status_key(self) -> str:
        """What the badge shows: the decision once decided."""
        return self.decision if self.status == self.Status.DECIDED and self.decision else self.status


class Variant(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    key = models.CharField(max_length=40, validators=[key_validator])
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    weight = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(1)])
    position = models.PositiveSmallIntegerField(default=0, help_text="0 is the control")

    class Meta:
        ordering = ["experiment", "position"]
        constraints = [models.UniqueConstraint(fields=["experiment", "key"], name="variant_key_per_experiment")]

    def __str__(self) -> str:
        return f"{self.experiment.key}:{self.key}"

    @property
    def is_control(self) -> bool:
        return self.position == 0


class ExperimentMetric(models.Model):
    class Role(models.TextChoices):
        PRIMARY = "primary", "Primary"
        SECONDARY = "secondary", "Secondary"
        GUARDRAIL = "guardrail", "Guardrail"

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="experiment_metrics")
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=10, choices=Role.choices)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["experiment", "position"]
        constraints = [models.UniqueConstraint(fields=["experiment", "metric"], name="metric_once_per_experiment")]

    def __str__(self) -> str:
        return f"{self.experiment.key} {self.role} {self.metric.key}"


class ResultSnapshot(models.Model):
    """One computation of an experiment's results (history kept; the page shows the latest ready one)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        COMPUTING = "computing", "Computing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="snapshots")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    computed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    as_of = models.DateTimeField(null=True, blank=True, help_text="Data up to this moment")
    units = models.PositiveIntegerField(default=0)
    multi_exposed_units = models.PositiveIntegerField(default=0)
    srm_p_value = models.FloatField(null=True, blank=True)
    variants = models.JSONField(default=list, blank=True, help_text="[{key, name, weight, units}]")
    results = models.JSONField(default=list, blank=True, help_text="Per metric and treatment")
    health = models.JSONField(default=list, blank=True, help_text="[{code, level, message}]")
    daily_exposures = models.JSONField(default=list, blank=True, help_text="[{day, variant, units}]")
    sql_ms = models.PositiveIntegerField(default=0)
    stats_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        get_latest_by = "created_at"
        indexes = [models.Index(fields=["experiment", "status", "-computed_at"])]

    def __str__(self) -> str:
        return f"{self.experiment.key} snapshot {self.pk} ({self.status})"

    @property
    def pending(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.COMPUTING)
