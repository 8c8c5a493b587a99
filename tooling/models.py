"""PM tooling: versioned templates, documents written from them, roadmaps and launches.

Ops leads own the shared standards (templates and their versions, launch checklist
templates); PMs own their products' documents, roadmap items and launches.

A published TemplateVersion is immutable: its row and its sections refuse to be saved
(with a message saying to publish a new version instead). That is an invariant of the
data, not a business rule, so it is enforced on the model in `clean()` and `save()`.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse

from portal.search import search_vector_field

IMMUTABLE_MESSAGE = (
    "Version {number} of “{template}” is published and cannot be edited. Publish a new version instead "
    "(use “Create next version” on the template)."
)


class TemplateKind(models.TextChoices):
    PRD = "prd", "PRD"
    ONE_PAGER = "one_pager", "One-pager"
    EXPERIMENT_BRIEF = "experiment_brief", "Experiment brief"
    RESEARCH_PLAN = "research_plan", "Research plan"
    LAUNCH_CHECKLIST = "launch_checklist", "Launch checklist"
    RETRO = "retro", "Retro"
    STRATEGY = "strategy", "Strategy memo"


class Template(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        DEPRECATED = "deprecated", "Deprecated"

    kind = models.CharField(max_length=30, choices=TemplateKind.choices, db_index=True)
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_templates"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    replacement = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replaces",
        help_text="Where PMs should go instead once this template is deprecated.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Global search (portal.search): stored, GIN-indexed.
    search_vector = search_vector_field(("name", "A"), ("description", "B"))

    class Meta:
        ordering = ["kind", "name"]
        indexes = [GinIndex(fields=["search_vector"], name="template_search_gin")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("tooling:template-detail", args=[self.slug])

    def clean(self):
        if self.replacement_id and self.replacement_id == self.pk:
            raise ValidationError({"replacement": "A template cannot replace itself."})


class TemplateVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    changelog = models.TextField(blank=True, help_text="What changed since the previous version (shown to PMs).")
    variables = models.JSONField(
        default=list,
        blank=True,
        help_text='Variable names usable as {{name}} in guidance and placeholders, e.g. ["product", "owner"].',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["template", "-number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="template_version_number_unique")]

    def __str__(self) -> str:
        return f"{self.template.name} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk and self.was_published:
            raise ValidationError(self.immutable_message())
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.was_published:
            raise ValidationError(self.immutable_message())
        return super().delete(*args, **kwargs)

    def clean(self):
        if self.pk and self.was_published:
            raise ValidationError(self.immutable_message())
        if not isinstance(self.variables, list) or not all(
            isinstance(v, str) and re.fullmatch(r"[a-z_][a-z0-9_]*", v) for v in self.variables
        ):
            raise ValidationError({"variables": 'Give a list of lower-case names, e.g. ["product", "owner"].'})

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def was_published(self) -> bool:
        """Published as stored in the database (what immutability protects). Asks the database,
        so a stale in-memory copy cannot slip an edit past it."""
        if self.pk is None:
            return False
        return TemplateVersion.objects.filter(pk=self.pk, status=self.Status.PUBLISHED).exists()

    def immutable_message(self) -> str:
        return IMMUTABLE_MESSAGE.format(number=self.number, template=self.template.name)


key_validator = RegexValidator(r"^[a-z0-9_]+$", "Use lower-case letters, digits and underscores.")


class TemplateSection(models.Model):
    version = models.ForeignKey(TemplateVersion, on_delete=models.CASCADE, related_name="sections")
    order = models.PositiveIntegerField(default=0)
    key = models.CharField(max_length=60, validators=[key_validator], help_text="Stable id, e.g. problem")
    title = models.CharField(max_length=200)
    guidance = models.TextField(blank=True, help_text="What good looks like; may use {{variables}}.")
    placeholder = models.TextField(blank=True, help_text="Shown in the empty editor; may use {{variables}}.")
    required = models.BooleanField(default=False, help_text="Must be written before a document is approved.")

    class Meta:
        ordering = ["version", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="template_section_key_unique")]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        self._check_mutable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._check_mutable()
        return super().delete(*args, **kwargs)

    def clean(self):
        self._check_mutable()

    def _check_mutable(self):
        version = TemplateVersion.objects.filter(pk=self.version_id).first() if self.version_id else None
        if version is not None and version.is_published:
            raise ValidationError(version.immutable_message())


class TemplateSuggestion(models.Model):
    """A PM's proposed change to a template; lands in the ops leads' queue in the admin."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="suggestions")
    version = models.ForeignKey(TemplateVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    section_key = models.CharField(max_length=60, blank=True)
    body = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True)
    response = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Suggestion for {self.template}: {self.body[:60]}"


class Document(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved"
        SHIPPED = "shipped", "Shipped"
        ARCHIVED = "archived", "Archived"

    product = models.ForeignKey("portal.Product", on_delete=models.CASCADE, related_name="documents")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="documents")
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    template_version = models.ForeignKey(TemplateVersion, on_delete=models.PROTECT, related_name="documents")
    variables = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Time in review (the anti-gatekeeper metric): accumulated seconds plus the open interval.
    in_review_since = models.DateTimeField(null=True, blank=True)
    review_seconds = models.PositiveIntegerField(default=0)
    approved_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)

    # Global search (portal.search): the title here, section bodies on DocumentSection.
    search_vector = search_vector_field(("title", "A"))

    class Meta:
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["product", "status"]),
            GinIndex(fields=["search_vector"], name="document_search_gin"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("tooling:document-detail", args=[self.pk])

    @property
    def kind(self) -> str:
        return self.template_version.template.kind

    def time_in_review_seconds(self, now=None) -> int:
        from django.utils import timezone

        total = self.review_seconds
        if self.in_review_since:
            total += int(((now or timezone.now()) - self.in_review_since).total_seconds())
        return total


class DocumentSection(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="sections")
    key = models.CharField(max_length=60, validators=[key_validator])
    order = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    guidance = models.TextField(blank=True)
    placeholder = models.TextField(blank=True)
    required = models.BooleanField(default=False)
    body = models.TextField(blank=True, help_text="Markdown")
    added_in_version = models.PositiveIntegerField(null=True, blank=True)

    search_vector = search_vector_field(("body", "B"))  # global search, with Document.search_vector

    class Meta:
        ordering = ["document", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["document", "key"], name="document_section_key_unique")]
        indexes = [GinIndex(fields=["search_vector"], name="document_section_search_gin")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_written(self) -> bool:
        return bool(self.body.strip())


class DocumentRevision(models.Model):
    """A snapshot of a document after each save: the version history and its diffs."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=20)
    sections = models.JSONField(default=list, help_text="[{key, title, body}] in order")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["document", "-number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="document_revision_unique")]

    def __str__(self) -> str:
        return f"{self.document} r{self.number}"

    def as_markdown(self) -> str:
        parts = [f"# {self.title}", ""]
        for section in self.sections:
            parts += [f"## {section['title']}", "", section.get("body", "").strip(), ""]
        return "\n".join(parts).strip() + "\n"


class DocumentStatusChange(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20)
    to_status = models.CharField(max_length=20)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document", "at"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class ReviewRequest(models.Model):
    """Advisory: a reviewer comments or approves; nothing waits on it unless the product opts in."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        COMMENTED = "commented", "Commented"
        APPROVED = "approved", "Approved"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["document", "requested_at"]
        constraints = [models.UniqueConstraint(fields=["document", "reviewer"], name="review_once_per_reviewer")]

    def __str__(self) -> str:
        return f"{self.reviewer} on {self.document}"


class ReviewComment(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField()
    approves = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document", "created_at"]

    def __str__(self) -> str:
        return self.body[:60]


class RoadmapItem(models.Model):
    class Horizon(models.TextChoices):
        NOW = "now", "Now"
        NEXT = "next", "Next"
        LATER = "later", "Later"

    class Status(models.TextChoices):
        IDEA = "idea", "Idea"
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        SHIPPED = "shipped", "Shipped"
        DROPPED = "dropped", "Dropped"

    product = models.ForeignKey("portal.Product", on_delete=models.CASCADE, related_name="roadmap_items")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    horizon = models.CharField(max_length=10, choices=Horizon.choices, default=Horizon.NEXT, db_index=True)
    target_quarter = models.CharField(
        max_length=7,
        blank=True,
        validators=[RegexValidator(r"^\d{4}-Q[1-4]$", "Write the quarter as YYYY-QN, e.g. 2026-Q3.")],
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IDEA, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="roadmap_items"
    )
    confidence = models.PositiveSmallIntegerField(
        default=50,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="How sure we are (%), also RICE's C.",
    )
    reach = models.PositiveIntegerField(default=0, help_text="People or events per quarter")
    impact = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(0), MaxValueValidator(3)],
        help_text="0.25 minimal, 0.5 low, 1 medium, 2 high, 3 massive",
    )
    effort = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(Decimal("0.1"))],
        help_text="Person-months",
    )
    rice_score = models.FloatField(default=0, editable=False)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Global search (portal.search): stored, GIN-indexed.
    search_vector = search_vector_field(("title", "A"), ("description", "B"))

    class Meta:
        ordering = ["product", "position", "-rice_score", "id"]
        indexes = [
            models.Index(fields=["product", "horizon"]),
            GinIndex(fields=["search_vector"], name="roadmap_item_search_gin"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("tooling:roadmap-item", args=[self.pk])

    def compute_rice(self) -> float:
        """Reach × Impact × Confidence ÷ Effort."""
        if not self.effort:
            return 0.0
        return round(float(self.reach) * float(self.impact) * (self.confidence / 100) / float(self.effort), 1)


class RoadmapLink(models.Model):
    """A link from a roadmap item to a document or another app's object, by string reference
    (kind + id + label + url) so tooling does not depend on the other apps' models."""

    class Kind(models.TextChoices):
        DOCUMENT = "document", "Document"
        EXPERIMENT = "experiment", "Experiment"
        INSIGHT = "insight", "Research insight"
        THEME = "theme", "Feedback theme"
        LAUNCH = "launch", "Launch"
        URL = "url", "Link"

    item = models.ForeignKey(RoadmapItem, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    ref = models.CharField(max_length=64, blank=True, help_text="The linked object's id")
    label = models.CharField(max_length=200)
    url = models.CharField(max_length=500, blank=True)
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.CASCADE, related_name="roadmap_links"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item", "kind", "id"]
        constraints = [models.UniqueConstraint(fields=["item", "kind", "ref", "url"], name="roadmap_link_unique")]

    def __str__(self) -> str:
        return self.label


class RoadmapChange(models.Model):
    item = models.ForeignKey(RoadmapItem, on_delete=models.CASCADE, related_name="changes")
    field = models.CharField(max_length=40)
    old = models.CharField(max_length=200, blank=True)
    new = models.CharField(max_length=200, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.field}: {self.old} → {self.new}"


class LaunchTier(models.TextChoices):
    T1 = "T1", "T1 · major launch"
    T2 = "T2", "T2 · notable launch"
    T3 = "T3", "T3 · quiet launch"


class ChecklistTemplateItem(models.Model):
    """One line of a tier's launch checklist template (ops leads manage these in the admin)."""

    tier = models.CharField(max_length=2, choices=LaunchTier.choices, db_index=True)
    order = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    owner_role = models.CharField(max_length=60, help_text="e.g. PM, Engineering, Marketing, Support, Legal")
    offset_days = models.IntegerField(help_text="Due relative to launch day: -14 is T-14, 7 is T+7")
    required = models.BooleanField(default=True)

    class Meta:
        ordering = ["tier", "offset_days", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["tier", "title"], name="checklist_template_item_unique")]

    def __str__(self) -> str:
        return f"{self.tier} {self.title}"


class Launch(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        LAUNCHED = "launched", "Launched"
        CANCELLED = "cancelled", "Cancelled"

    product = models.ForeignKey("portal.Product", on_delete=models.CASCADE, related_name="launches")
    feature = models.CharField(max_length=200)
    tier = models.CharField(max_length=2, choices=LaunchTier.choices, default=LaunchTier.T2)
    launch_date = models.DateField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="launches")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    roadmap_item = models.ForeignKey(
        RoadmapItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="launches"
    )
    document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.SET_NULL, related_name="launches")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["launch_date", "id"]
        constraints = [models.UniqueConstraint(fields=["product", "feature"], name="launch_feature_unique")]

    def __str__(self) -> str:
        return f"{self.feature} ({self.tier})"

    def get_absolute_url(self) -> str:
        return reverse("tooling:launch-detail", args=[self.pk])


class LaunchChecklistItem(models.Model):
    launch = models.ForeignKey(Launch, on_delete=models.CASCADE, related_name="checklist")
    order = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    owner_role = models.CharField(max_length=60)
    offset_days = models.IntegerField()
    due_date = models.DateField()
    required = models.BooleanField(default=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["launch", "due_date", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["launch", "title"], name="launch_checklist_item_unique")]

    def __str__(self) -> str:
        return self.title

    @property
    def due_label(self) -> str:
        return f"T{self.offset_days:+d}" if self.offset_days else "T-0"


class LaunchFollowUp(models.Model):
    class Horizon(models.TextChoices):
        DAY = "1d", "1 day"
        WEEK = "1w", "1 week"
        MONTH = "1m", "1 month"

    launch = models.ForeignKey(Launch, on_delete=models.CASCADE, related_name="follow_ups")
    horizon = models.CharField(max_length=2, choices=Horizon.choices)
    due_date = models.DateField()
    success_criteria = models.TextField(blank=True)
    outcome = models.TextField(blank=True)
    met = models.BooleanField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["launch", "due_date"]
        constraints = [models.UniqueConstraint(fields=["launch", "horizon"], name="launch_follow_up_unique")]

    def __str__(self) -> str:
        return f"{self.launch} {self.get_horizon_display()}"
