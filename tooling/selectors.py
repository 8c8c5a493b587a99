"""Tooling reads: querysets with their joins, plus pure comparisons (diffs, readiness, adoption).

Documents, templates, roadmaps and launches are readable by every signed-in person
(transparency across products); writes are checked with portal.permissions in views/api.
"""

from __future__ import annotations

import difflib
import statistics
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from tooling.models import (
    Document,
    DocumentRevision,
    Launch,
    LaunchChecklistItem,
    ReviewRequest,
    RoadmapChange,
    RoadmapItem,
    Template,
    TemplateVersion,
)

# --- templates --------------------------------------------------------------------------


def template_list(*, include_drafts: bool = False) -> QuerySet[Template]:
    qs = Template.objects.select_related("owner", "replacement").annotate(
        n_documents=Count("versions__documents", distinct=True),
        n_versions=Count("versions", filter=Q(versions__status=TemplateVersion.Status.PUBLISHED), distinct=True),
    )
    if not include_drafts:
        qs = qs.exclude(status=Template.Status.DRAFT)
    return qs.order_by("status", "kind", "name")


def template_versions(template: Template) -> QuerySet[TemplateVersion]:
    return (
        template.versions.select_related("published_by")
        .prefetch_related("sections")
        .annotate(n_documents=Count("documents"))
        .order_by("-number")
    )


def template_version_latest(template: Template) -> TemplateVersion | None:
    return (
        template.versions.filter(status=TemplateVersion.Status.PUBLISHED)
        .prefetch_related("sections")
        .order_by("-number")
        .first()
    )


@dataclass
class SectionChange:
    key: str
    title: str
    change: str  # added / removed / changed
    details: list[str] = field(default_factory=list)


def template_version_diff(old: TemplateVersion, new: TemplateVersion) -> list[SectionChange]:
    """What changed between two versions, section by section (by stable key)."""
    before = {s.key: s for s in old.sections.all()}
    after = {s.key: s for s in new.sections.all()}
    changes: list[SectionChange] = []
    for key, section in after.items():
        if key not in before:
            changes.append(SectionChange(key, section.title, "added", ["required" if section.required else "optional"]))
            continue
        prior = before[key]
        details = []
        for name, label in (("title", "title"), ("guidance", "guidance"), ("placeholder", "placeholder")):
            if getattr(prior, name) != getattr(section, name):
                details.append(f"{label} changed")
        if prior.required != section.required:
            details.append("now required" if section.required else "now optional")
        if details:
            changes.append(SectionChange(key, section.title, "changed", details))
    for key, section in before.items():
        if key not in after:
            changes.append(SectionChange(key, section.title, "removed"))
    return changes


# --- documents --------------------------------------------------------------------------


def document_list(
    *,
    product: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    owner=None,
    q: str | None = None,
) -> QuerySet[Document]:
    qs = Document.objects.select_related("product", "owner", "template_version__template").annotate(
        n_required=Count("sections", filter=Q(sections__required=True), distinct=True),
        n_required_written=Count("sections", filter=Q(sections__required=True) & ~Q(sections__body=""), distinct=True),
    )
    if product:
        qs = qs.filter(product__slug=product)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(template_version__template__kind=kind)
    if owner is not None:
        qs = qs.filter(owner=owner)
    if q:
        qs = qs.filter(title__icontains=q)
    return qs.order_by("-updated_at")


def document_get(pk: int) -> Document:
    return (
        Document.objects.select_related("product", "owner", "template_version__template")
        .prefetch_related(
            "sections",
            Prefetch("reviews", queryset=ReviewRequest.objects.select_related("reviewer", "requested_by")),
            "comments__author",
        )
        .get(pk=pk)
    )


def document_completeness(document: Document) -> tuple[int, int]:
    """(required sections written, required sections)."""
    required = [s for s in document.sections.all() if s.required]
    return sum(1 for s in required if s.is_written), len(required)


def document_upgrade_target(document: Document) -> TemplateVersion | None:
    """The newest published version of the document's template, if newer than its own."""
    current = document.template_version
    return (
        TemplateVersion.objects.filter(
            template_id=current.template_id, status=TemplateVersion.Status.PUBLISHED, number__gt=current.number
        )
        .prefetch_related("sections")
        .order_by("-number")
        .first()
    )


def document_markdown(document: Document) -> str:
    lines = [
        f"# {document.title}",
        "",
        f"- Product: {document.product.name}",
        f"- Owner: {document.owner.display_name}",
        f"- Status: {document.get_status_display()}",
        f"- Template: {document.template_version}",
        f"- Updated: {timezone.localtime(document.updated_at).date().isoformat()}",
        "",
    ]
    for section in document.sections.all():
        lines += [f"## {section.title}", "", section.body.strip() or "_Not written yet._", ""]
    return "\n".join(lines).rstrip() + "\n"


@dataclass
class DiffLine:
    op: str  # "add", "del", "same", "hunk"
    text: str


@dataclass
class SectionDiff:
    title: str
    lines: list[DiffLine]
    change: str  # added / removed / changed


def revision_diff(old: DocumentRevision, new: DocumentRevision) -> list[SectionDiff]:
    """Line diffs per section between two revisions (only sections that changed)."""
    before = {s["key"]: s for s in old.sections}
    after = {s["key"]: s for s in new.sections}
    result: list[SectionDiff] = []
    if old.title != new.title:
        result.append(SectionDiff("Title", [DiffLine("del", old.title), DiffLine("add", new.title)], "changed"))
    for key in list(after) + [k for k in before if k not in after]:
        a = before.get(key, {}).get("body", "")
        b = after.get(key, {}).get("body", "")
        if a == b:
            continue
        title = (after.get(key) or before.get(key))["title"]
        change = "added" if key not in before else "removed" if key not in after else "changed"
        lines = []
        for line in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=2):
            if line.startswith(("---", "+++")):
                continue
            if line.startswith("@@"):
                lines.append(DiffLine("hunk", "…"))
            elif line.startswith("+"):
                lines.append(DiffLine("add", line[1:]))
            elif line.startswith("-"):
                lines.append(DiffLine("del", line[1:]))
            else:
                lines.append(DiffLine("same", line[1:]))
        result.append(SectionDiff(title, lines, change))
    return result


# --- adoption (ops page and the portal scorecard) ----------------------------------------


@dataclass
class TemplateAdoption:
    template_id: int
    name: str
    kind: str
    status: str
    documents: int
    complete: int
    share_complete: float | None  # of documents, share with every required section written
    median_review_hours: float | None
    reviewed: int
    versions: dict[int, int] = field(default_factory=dict)  # version number -> documents


def template_adoption(*, since=None) -> list[TemplateAdoption]:
    """Documents per template, share complete and median time in review (hours)."""
    docs = Document.objects.all()
    if since is not None:
        docs = docs.filter(created_at__gte=since)
    rows = docs.annotate(
        n_required=Count("sections", filter=Q(sections__required=True), distinct=True),
        n_written=Count("sections", filter=Q(sections__required=True) & ~Q(sections__body=""), distinct=True),
    ).values(
        "template_version__template_id",
        "template_version__number",
        "n_required",
        "n_written",
        "review_seconds",
        "in_review_since",
    )
    now = timezone.now()
    by_template: dict[int, list[dict]] = {}
    for row in rows:
        by_template.setdefault(row["template_version__template_id"], []).append(row)
    result = []
    for template in Template.objects.order_by("kind", "name"):
        items = by_template.get(template.pk, [])
        complete = sum(1 for r in items if r["n_written"] >= r["n_required"])
        review_hours = []
        for r in items:
            seconds = r["review_seconds"] + (
                int((now - r["in_review_since"]).total_seconds()) if r["in_review_since"] else 0
            )
            if seconds:
                review_hours.append(seconds / 3600)
        versions: dict[int, int] = {}
        for r in items:
            versions[r["template_version__number"]] = versions.get(r["template_version__number"], 0) + 1
        result.append(
            TemplateAdoption(
                template_id=template.pk,
                name=template.name,
                kind=template.kind,
                status=template.status,
                documents=len(items),
                complete=complete,
                share_complete=(complete / len(items)) if items else None,
                median_review_hours=round(statistics.median(review_hours), 1) if review_hours else None,
                reviewed=len(review_hours),
                versions=dict(sorted(versions.items())),
            )
        )
    return result


def template_adoption_summary(*, since=None) -> dict:
    """For the portal scorecard: one dict of headline figures across all templates."""
    rows = template_adoption(since=since)
    documents = sum(r.documents for r in rows)
    complete = sum(r.complete for r in rows)
    hours = list(
        Document.objects.filter(review_seconds__gt=0, **({"created_at__gte": since} if since else {})).values_list(
            "review_seconds", flat=True
        )
    )
    return {
        "documents": documents,
        "templates_used": sum(1 for r in rows if r.documents),
        "templates_published": sum(1 for r in rows if r.status == Template.Status.PUBLISHED),
        "share_complete": (complete / documents) if documents else None,
        "median_review_hours": round(statistics.median(hours) / 3600, 1) if hours else None,
    }


# --- roadmaps ---------------------------------------------------------------------------


def roadmap_item_list(
    *,
    product: str | None = None,
    horizon: str | None = None,
    status: str | None = None,
    quarter: str | None = None,
    owner: str | None = None,
    unit: str | None = None,
) -> QuerySet[RoadmapItem]:
    qs = RoadmapItem.objects.select_related("product", "owner").annotate(n_links=Count("links"))
    if product:
        qs = qs.filter(product__slug=product)
    if horizon:
        qs = qs.filter(horizon=horizon)
    if status:
        qs = qs.filter(status=status)
    if quarter:
        qs = qs.filter(target_quarter=quarter)
    if owner:
        qs = qs.filter(owner__username=owner)
    if unit:
        qs = qs.filter(product__unit__slug=unit)
    return qs


def roadmap_item_get(pk: int) -> RoadmapItem:
    return (
        RoadmapItem.objects.select_related("product", "owner")
        .prefetch_related("links", "changes__by", "launches")
        .get(pk=pk)
    )


def roadmap_change_list(*, product: str | None = None) -> QuerySet[RoadmapChange]:
    qs = RoadmapChange.objects.select_related("item__product", "by")
    if product:
        qs = qs.filter(item__product__slug=product)
    return qs.order_by("-at", "-id")


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def quarter_bounds(quarter: str) -> tuple[date, date]:
    year, q = int(quarter[:4]), int(quarter[-1])
    start = date(year, 3 * (q - 1) + 1, 1)
    end = date(year + (q == 4), (3 * q) % 12 + 1, 1)
    return start, end


# --- launches ---------------------------------------------------------------------------


def launch_list(*, product: str | None = None, status: str | None = None, tier: str | None = None) -> QuerySet[Launch]:
    today = timezone.localdate()
    qs = Launch.objects.select_related("product", "owner").annotate(
        n_required=Count("checklist", filter=Q(checklist__required=True)),
        n_required_done=Count("checklist", filter=Q(checklist__required=True, checklist__done_at__isnull=False)),
        n_overdue=Count("checklist", filter=Q(checklist__done_at__isnull=True, checklist__due_date__lt=today)),
        n_blocking=Count(
            "checklist",
            filter=Q(checklist__required=True, checklist__done_at__isnull=True, checklist__offset_days__lte=0),
        ),
    )
    if product:
        qs = qs.filter(product__slug=product)
    if status:
        qs = qs.filter(status=status)
    if tier:
        qs = qs.filter(tier=tier)
    return qs.order_by("launch_date", "id")


@dataclass
class Readiness:
    percent: float  # required items done / required items
    done: int
    required: int
    overdue: list[LaunchChecklistItem]
    blocking: list[LaunchChecklistItem]  # required, due on or before launch day, not done
    verdict: str  # go / no-go / at_risk / on_track
    summary: str


def launch_readiness(launch: Launch, items: list[LaunchChecklistItem] | None = None, today=None) -> Readiness:
    today = today or timezone.localdate()
    items = items if items is not None else list(launch.checklist.all())
    required = [i for i in items if i.required]
    done = [i for i in required if i.done_at]
    overdue = [i for i in items if not i.done_at and i.due_date < today]
    blocking = [i for i in required if not i.done_at and i.offset_days <= 0]
    percent = len(done) / len(required) if required else 1.0
    days = (launch.launch_date - today).days
    when = f"in {days} days" if days > 1 else "tomorrow" if days == 1 else "today" if days == 0 else f"{-days} days ago"
    names = ", ".join(i.title for i in blocking[:3]) + ("…" if len(blocking) > 3 else "")
    if launch.status == Launch.Status.LAUNCHED:
        verdict, summary = "shipped", f"Launched {launch.launch_date:%-d %b %Y}; follow up on the success criteria."
    elif not blocking:
        verdict, summary = "go", f"Go: every required pre-launch item is done; launch {when}."
    elif days <= 7:
        verdict = "no-go"
        summary = f"No-go for now: {len(blocking)} required item(s) open with launch {when} ({names})."
    elif overdue:
        verdict = "at_risk"
        summary = f"At risk: {len(overdue)} item(s) overdue; launch {when}."
    else:
        verdict = "on_track"
        summary = f"On track: {len(blocking)} required item(s) to finish before launch {when}."
    return Readiness(percent, len(done), len(required), overdue, blocking, verdict, summary)
