"""Tooling writes: keyword-only verbs, atomic, validated with full_clean().

Cross-app contract: `document_create_from_template(*, kind, product, owner, title, variables=None)`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from portal.models import Product, User
from portal.services import audit_record, notify
from tooling.models import (
    ChecklistTemplateItem,
    Document,
    DocumentRevision,
    DocumentSection,
    DocumentStatusChange,
    Launch,
    LaunchChecklistItem,
    LaunchFollowUp,
    ReviewComment,
    ReviewRequest,
    RoadmapChange,
    RoadmapItem,
    RoadmapLink,
    Template,
    TemplateSection,
    TemplateSuggestion,
    TemplateVersion,
)

VARIABLE_RE = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


def render_variables(text: str, variables: dict[str, Any]) -> str:
    """Replace {{name}} with its value; unknown names are left as written."""

    def replace(match: re.Match) -> str:
        name = match.group(1)
        return str(variables[name]) if name in variables else match.group(0)

    return VARIABLE_RE.sub(replace, text or "")


# --- templates (ops leads) -------------------------------------------------------------


@transaction.atomic
def template_create(
    *, kind: str, name: str, slug: str, description: str = "", owner: User | None = None, by: User | None = None
) -> Template:
    template = Template(kind=kind, name=name, slug=slug, description=description, owner=owner or by)
    template.full_clean()
    template.save()
    audit_record(actor=by, action="template.create", target=template, changes={"kind": kind})
    return template


@transaction.atomic
def template_version_create(
    *,
    template: Template,
    sections: list[dict[str, Any]] | None = None,
    changelog: str = "",
    variables: list[str] | None = None,
    copy_from: TemplateVersion | None = None,
) -> TemplateVersion:
    """A new draft version. Without `sections`, it starts as a copy of `copy_from` (or the latest)."""
    latest = template.versions.order_by("-number").first()
    number = (latest.number if latest else 0) + 1
    source = copy_from or latest
    version = TemplateVersion(
        template=template,
        number=number,
        changelog=changelog,
        variables=variables if variables is not None else (list(source.variables) if source else ["product", "owner"]),
    )
    version.full_clean()
    version.save()
    if sections is None and source is not None:
        sections = [
            {
                "key": s.key,
                "title": s.title,
                "guidance": s.guidance,
                "placeholder": s.placeholder,
                "required": s.required,
            }
            for s in source.sections.all()
        ]
    for index, data in enumerate(sections or []):
        section = TemplateSection(version=version, order=data.get("order", (index + 1) * 10), **_section_fields(data))
        section.full_clean()
        section.save()
    return version


def _section_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": data["key"],
        "title": data["title"],
        "guidance": data.get("guidance", ""),
        "placeholder": data.get("placeholder", ""),
        "required": bool(data.get("required", False)),
    }


@transaction.atomic
def template_version_publish(*, version: TemplateVersion, by: User | None) -> TemplateVersion:
    version = TemplateVersion.objects.select_for_update().select_related("template").get(pk=version.pk)
    if version.is_published:
        raise ValidationError(f"Version {version.number} of “{version.template.name}” is already published.")
    if not version.sections.exists():
        raise ValidationError("A version needs at least one section before it can be published.")
    version.status = TemplateVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = by
    version.save()
    template = version.template
    if template.status == Template.Status.DRAFT:
        template.status = Template.Status.PUBLISHED
        template.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=by,
        action="template.publish",
        target=version,
        target_label=str(version),
        changes={"template": template.slug, "version": version.number},
    )
    return version


def template_version_latest_published(*, kind: str) -> TemplateVersion | None:
    """The newest published version among published (not deprecated) templates of a kind."""
    return (
        TemplateVersion.objects.filter(
            template__kind=kind, status=TemplateVersion.Status.PUBLISHED, template__status=Template.Status.PUBLISHED
        )
        .select_related("template")
        .order_by("-published_at", "-number")
        .first()
    )


# --- documents (PMs) -------------------------------------------------------------------


def _base_variables(*, product: Product, owner: User, title: str) -> dict[str, Any]:
    return {
        "product": product.name,
        "owner": owner.display_name,
        "title": title,
        "date": timezone.localdate().isoformat(),
    }


@transaction.atomic
def document_create(
    *,
    version: TemplateVersion,
    product: Product,
    owner: User,
    title: str,
    variables: dict[str, Any] | None = None,
) -> Document:
    if not version.is_published:
        raise ValidationError({"template_version": "Documents can only be written from a published template version."})
    values = {**_base_variables(product=product, owner=owner, title=title), **(variables or {})}
    document = Document(
        product=product,
        owner=owner,
        title=(title or "").strip(),
        template_version=version,
        variables={k: str(v) for k, v in values.items()},
    )
    document.full_clean()
    document.save()
    DocumentSection.objects.bulk_create(
        [
            DocumentSection(
                document=document,
                key=section.key,
                order=section.order,
                title=render_variables(section.title, values),
                guidance=render_variables(section.guidance, values),
                placeholder=render_variables(section.placeholder, values),
                required=section.required,
                # a variable named like a section pre-fills it (e.g. {"hypothesis": "…"} from experiments)
                body=str(values[section.key]) if section.key in (variables or {}) else "",
                added_in_version=version.number,
            )
            for section in version.sections.all()
        ]
    )
    document_snapshot(document=document, by=owner, note=f"Created from {version}")
    audit_record(
        actor=owner,
        action="document.create",
        target=document,
        changes={"kind": version.template.kind, "template_version": version.pk, "product": product.slug},
    )
    return document


def document_create_from_template(
    *, kind: str, product: Product, owner: User, title: str, variables: dict | None = None
) -> Document:
    """Cross-app contract: a document of `kind` from the latest published template version."""
    version = template_version_latest_published(kind=kind)
    if version is None:
        raise ValidationError(
            {"kind": f"No published template of kind {kind!r}; an ops lead publishes one in the admin."}
        )
    return document_create(version=version, product=product, owner=owner, title=title, variables=variables)


def document_snapshot(*, document: Document, by: User | None, note: str = "") -> DocumentRevision:
    last = document.revisions.aggregate(n=Max("number"))["n"] or 0
    return DocumentRevision.objects.create(
        document=document,
        number=last + 1,
        author=by,
        title=document.title,
        status=document.status,
        sections=[{"key": s.key, "title": s.title, "body": s.body} for s in document.sections.order_by("order", "id")],
        note=note[:200],
    )


# --- roadmap ---------------------------------------------------------------------------

ROADMAP_FIELDS = (
    "title",
    "description",
    "horizon",
    "target_quarter",
    "status",
    "owner",
    "confidence",
    "reach",
    "impact",
    "effort",
)
TRACKED_FIELDS = ("horizon", "status", "target_quarter", "owner", "title", "confidence")


@transaction.atomic
def roadmap_item_create(*, product: Product, title: str, by: User | None, **fields: Any) -> RoadmapItem:
    unknown = set(fields) - set(ROADMAP_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown roadmap field(s): {', '.join(sorted(unknown))}")
    item = RoadmapItem(product=product, title=(title or "").strip(), **fields)
    item.full_clean()
    item.rice_score = item.compute_rice()
    last = RoadmapItem.objects.filter(product=product, horizon=item.horizon).aggregate(p=Max("position"))["p"]
    item.position = (last or 0) + 1
    item.save()
    return item


@transaction.atomic
def roadmap_item_update(*, item: RoadmapItem, by: User | None, **fields: Any) -> RoadmapItem:
    """Change an item; horizon/status/quarter/owner/title/confidence changes go to its history."""
    unknown = set(fields) - set(ROADMAP_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown roadmap field(s): {', '.join(sorted(unknown))}")
    item = RoadmapItem.objects.select_for_update().get(pk=item.pk)
    before = {name: _display(item, name) for name in TRACKED_FIELDS}
    old_horizon = item.horizon
    for name, value in fields.items():
        setattr(item, name, value)
    if isinstance(item.title, str):
        item.title = item.title.strip()
    item.full_clean()
    item.rice_score = item.compute_rice()
    if item.horizon != old_horizon:
        last = RoadmapItem.objects.filter(product_id=item.product_id, horizon=item.horizon).aggregate(
            p=Max("position")
        )["p"]
        item.position = (last or 0) + 1
    item.save()
    for name in TRACKED_FIELDS:
        after = _display(item, name)
        if after != before[name]:
            RoadmapChange.objects.create(item=item, field=name, old=before[name][:200], new=after[:200], by=by)
    return item


def _display(item: RoadmapItem, name: str) -> str:
    if name == "owner":
        return item.owner.display_name if item.owner_id else ""
    if name in ("horizon", "status"):
        return getattr(item, f"get_{name}_display")().lower()
    return str(getattr(item, name) or "")


@transaction.atomic
def roadmap_link_add(
    *,
    item: RoadmapItem,
    kind: str,
    label: str,
    ref: str = "",
    url: str = "",
    document: Document | None = None,
    by: User | None = None,
) -> RoadmapLink:
    """Link a document, experiment, insight, feedback theme or URL (string refs: no app coupling)."""
    if document is not None:
        kind, ref, label, url = RoadmapLink.Kind.DOCUMENT, str(document.pk), label or document.title, ""
        url = document.get_absolute_url()
    existing = RoadmapLink.objects.filter(item=item, kind=kind, ref=ref, url=url).first()
    if existing:
        return existing
    link = RoadmapLink(item=item, kind=kind, ref=str(ref), label=(label or "").strip(), url=url, document=document)
    link.full_clean()
    link.save()
    return link


# --- document editing, status, reviews ---------------------------------------------------

# Allowed moves; approval is advisory unless the product opts in (Product.requires_review_approval).
TRANSITIONS: dict[str, set[str]] = {
    Document.Status.DRAFT: {Document.Status.IN_REVIEW, Document.Status.APPROVED, Document.Status.ARCHIVED},
    Document.Status.IN_REVIEW: {Document.Status.DRAFT, Document.Status.APPROVED, Document.Status.ARCHIVED},
    Document.Status.APPROVED: {
        Document.Status.DRAFT,
        Document.Status.IN_REVIEW,
        Document.Status.SHIPPED,
        Document.Status.ARCHIVED,
    },
    Document.Status.SHIPPED: {Document.Status.ARCHIVED},
    Document.Status.ARCHIVED: {Document.Status.DRAFT},
}


@transaction.atomic
def document_update(
    *, document: Document, by: User, title: str | None = None, sections: dict[str, str] | None = None
) -> Document:
    """Save title and section bodies (markdown). Drafts save freely; a revision is kept per change."""
    document = Document.objects.select_for_update().get(pk=document.pk)
    changed = False
    if title is not None and title.strip() != document.title:
        document.title = title.strip()
        changed = True
    document.full_clean()
    by_key = {s.key: s for s in document.sections.all()}
    unknown = set(sections or {}) - set(by_key)
    if unknown:
        raise ValidationError({"sections": f"Unknown section(s): {', '.join(sorted(unknown))}"})
    edited = []
    for key, body in (sections or {}).items():
        body = (body or "").replace("\r\n", "\n")
        if body != by_key[key].body:
            by_key[key].body = body
            edited.append(by_key[key])
    if edited:
        DocumentSection.objects.bulk_update(edited, ["body"])
        changed = True
    if changed:
        document.save()
        document_snapshot(document=document, by=by, note="Edited")
    return document


def document_missing_sections(document: Document) -> list[DocumentSection]:
    return [s for s in document.sections.all() if s.required and not s.is_written]


@transaction.atomic
def document_transition(*, document: Document, to_status: str, by: User) -> Document:
    document = Document.objects.select_for_update().select_related("product").get(pk=document.pk)
    current = document.status
    if to_status not in Document.Status.values:
        raise ValidationError({"status": f"Unknown status {to_status!r}."})
    if to_status == current:
        return document
    if to_status not in TRANSITIONS[current]:
        allowed = ", ".join(Document.Status(s).label.lower() for s in sorted(TRANSITIONS[current]))
        raise ValidationError(
            {"status": f"A {Document.Status(current).label.lower()} document can move to: {allowed}."}
        )
    if to_status == Document.Status.APPROVED:
        missing = document_missing_sections(document)
        if missing:
            raise ValidationError(
                {"status": "Write the required sections before approving: " + ", ".join(s.title for s in missing) + "."}
            )
        if (
            document.product.requires_review_approval
            and not document.reviews.filter(state=ReviewRequest.State.APPROVED).exists()
        ):
            raise ValidationError(
                {
                    "status": f"{document.product.name} requires a reviewer's approval before a document is "
                    "approved: request a review first."
                }
            )
    now = timezone.now()
    if current == Document.Status.IN_REVIEW and document.in_review_since:
        document.review_seconds += int((now - document.in_review_since).total_seconds())
        document.in_review_since = None
    if to_status == Document.Status.IN_REVIEW:
        document.in_review_since = now
    if to_status == Document.Status.APPROVED:
        document.approved_at = now
    if to_status == Document.Status.SHIPPED:
        document.shipped_at = now
    document.status = to_status
    document.save()
    DocumentStatusChange.objects.create(document=document, from_status=current, to_status=to_status, by=by)
    if to_status == Document.Status.APPROVED:
        audit_record(actor=by, action="document.approve", target=document, changes={"status": "approved"})
    else:
        audit_record(
            actor=by, action="document.status_change", target=document, changes={"from": current, "to": to_status}
        )
    return document


@transaction.atomic
def document_request_review(*, document: Document, reviewers: list[User], by: User) -> list[ReviewRequest]:
    """Ask people to review (advisory). Moves a draft to in review and notifies each reviewer once."""
    reviewers = [r for r in reviewers if r.pk != document.owner_id]
    if not reviewers:
        raise ValidationError({"reviewers": "Choose at least one reviewer other than the document's owner."})
    viewers = [r.display_name for r in reviewers if r.is_viewer]
    if viewers:
        raise ValidationError({"reviewers": f"Viewers cannot review: {', '.join(viewers)}."})
    if document.status == Document.Status.DRAFT:
        document = document_transition(document=document, to_status=Document.Status.IN_REVIEW, by=by)
    elif document.status != Document.Status.IN_REVIEW:
        raise ValidationError(
            {"status": f"Reviews are requested on drafts or documents in review, not {document.get_status_display()}."}
        )
    requests = []
    for reviewer in reviewers:
        review, created = ReviewRequest.objects.get_or_create(
            document=document, reviewer=reviewer, defaults={"requested_by": by}
        )
        requests.append(review)
        if created:
            notify(
                user=reviewer,
                kind="review.requested",
                title=f"{by.display_name} asked you to review “{document.title}”",
                body="Reviews are advisory: comment or approve when you can.",
                url=document.get_absolute_url(),
                dedupe_key=f"tooling.review.{review.pk}",
            )
    audit_record(
        actor=by,
        action="document.review_request",
        target=document,
        changes={"reviewers": [r.username for r in reviewers]},
    )
    return requests


@transaction.atomic
def document_comment(*, document: Document, author: User, body: str, approve: bool = False) -> ReviewComment:
    """A reviewer's (or anyone's) comment; `approve=True` records an advisory approval."""
    if author.is_viewer:
        raise ValidationError("Viewers can read documents but not comment.")
    body = (body or "").strip()
    if not body and not approve:
        raise ValidationError({"body": "Write a comment (or approve)."})
    comment = ReviewComment(document=document, author=author, body=body or "Approved.", approves=approve)
    comment.full_clean()
    comment.save()
    review = ReviewRequest.objects.filter(document=document, reviewer=author).first()
    now = timezone.now()
    if review is None and approve:
        review = ReviewRequest.objects.create(document=document, reviewer=author, requested_by=None)
    if review is not None:
        if approve:
            review.state = ReviewRequest.State.APPROVED
        elif review.state == ReviewRequest.State.PENDING:
            review.state = ReviewRequest.State.COMMENTED
        review.responded_at = review.responded_at or now
        review.save(update_fields=["state", "responded_at"])
    if approve:
        audit_record(actor=author, action="document.approve", target=document, changes={"review": "approved"})
    if author.pk != document.owner_id:
        notify(
            user=document.owner,
            kind="review.approved" if approve else "review.comment",
            title=f"{author.display_name} {'approved' if approve else 'commented on'} “{document.title}”",
            body=body[:500],
            url=document.get_absolute_url(),
        )
    return comment


@transaction.atomic
def document_upgrade(*, document: Document, by: User, to_version: TemplateVersion | None = None) -> Document:
    """Move a document to a newer version of its template: add the new sections, refresh the
    guidance of unwritten ones, never touch written sections (nor delete any)."""
    document = Document.objects.select_for_update().select_related("template_version__template").get(pk=document.pk)
    current = document.template_version
    if to_version is None:
        to_version = (
            current.template.versions.filter(status=TemplateVersion.Status.PUBLISHED).order_by("-number").first()
        )
    if to_version is None or to_version.template_id != current.template_id or to_version.number <= current.number:
        raise ValidationError({"template_version": f"“{document.title}” already uses the latest version."})
    if not to_version.is_published:
        raise ValidationError({"template_version": "Documents can only move to a published version."})
    values = document.variables or {}
    existing = {s.key: s for s in document.sections.all()}
    added = []
    for section in to_version.sections.all():
        fields = {
            "order": section.order,
            "title": render_variables(section.title, values),
            "guidance": render_variables(section.guidance, values),
            "placeholder": render_variables(section.placeholder, values),
            "required": section.required,
        }
        mine = existing.get(section.key)
        if mine is None:
            DocumentSection.objects.create(
                document=document, key=section.key, body="", added_in_version=to_version.number, **fields
            )
            added.append(section.key)
        elif not mine.is_written:
            for name, value in fields.items():
                setattr(mine, name, value)
            mine.save()
    document.template_version = to_version
    document.save()
    document_snapshot(document=document, by=by, note=f"Upgraded to {to_version} (+{len(added)} sections)")
    return document


# --- template suggestions -------------------------------------------------------------


@transaction.atomic
def template_suggestion_create(
    *, template: Template, author: User, body: str, section_key: str = "", version: TemplateVersion | None = None
) -> TemplateSuggestion:
    if author.is_viewer:
        raise ValidationError("Viewers can read templates but not suggest changes.")
    suggestion = TemplateSuggestion(
        template=template, author=author, body=(body or "").strip(), section_key=section_key, version=version
    )
    suggestion.full_clean()
    suggestion.save()
    return suggestion


@transaction.atomic
def template_suggestion_resolve(
    *, suggestion: TemplateSuggestion, status: str, by: User, response: str = ""
) -> TemplateSuggestion:
    if status not in (TemplateSuggestion.Status.ACCEPTED, TemplateSuggestion.Status.DECLINED):
        raise ValidationError({"status": "Accept or decline the suggestion."})
    suggestion.status = status
    suggestion.response = response
    suggestion.resolved_by = by
    suggestion.resolved_at = timezone.now()
    suggestion.save()
    notify(
        user=suggestion.author,
        kind="template.suggestion",
        title=f"Your suggestion for “{suggestion.template.name}” was {status}",
        body=response,
        url=suggestion.template.get_absolute_url(),
    )
    audit_record(actor=by, action=f"template.suggestion_{status}", target=suggestion.template)
    return suggestion


@transaction.atomic
def template_deprecate(*, template: Template, replacement: Template | None, by: User) -> Template:
    if replacement is not None and replacement.pk == template.pk:
        raise ValidationError({"replacement": "A template cannot replace itself."})
    if replacement is not None and replacement.status != Template.Status.PUBLISHED:
        raise ValidationError({"replacement": f"“{replacement.name}” is not published."})
    template.status = Template.Status.DEPRECATED
    template.replacement = replacement
    template.full_clean()
    template.save()
    audit_record(
        actor=by,
        action="template.deprecate",
        target=template,
        changes={"replacement": replacement.slug if replacement else None},
    )
    return template


# --- launches -------------------------------------------------------------------------

FOLLOW_UP_DAYS = {LaunchFollowUp.Horizon.DAY: 1, LaunchFollowUp.Horizon.WEEK: 7, LaunchFollowUp.Horizon.MONTH: 30}


@transaction.atomic
def launch_create(
    *,
    product: Product,
    feature: str,
    tier: str,
    launch_date,
    owner: User,
    roadmap_item: RoadmapItem | None = None,
    document: Document | None = None,
    success_criteria: dict[str, str] | None = None,
) -> Launch:
    """A launch with its checklist generated from the tier's checklist template."""
    launch = Launch(
        product=product,
        feature=(feature or "").strip(),
        tier=tier,
        launch_date=launch_date,
        owner=owner,
        roadmap_item=roadmap_item,
        document=document,
    )
    launch.full_clean()
    launch.save()
    launch_checklist_sync(launch=launch)
    LaunchFollowUp.objects.bulk_create(
        [
            LaunchFollowUp(
                launch=launch,
                horizon=horizon,
                due_date=launch.launch_date + timedelta(days=days),
                success_criteria=(success_criteria or {}).get(horizon, ""),
            )
            for horizon, days in FOLLOW_UP_DAYS.items()
        ]
    )
    if roadmap_item is not None:
        roadmap_link_add(
            item=roadmap_item,
            kind=RoadmapLink.Kind.LAUNCH,
            ref=str(launch.pk),
            label=str(launch),
            url=launch.get_absolute_url(),
        )
    return launch


def launch_checklist_sync(*, launch: Launch) -> int:
    """Add the tier template's items the launch does not have yet (idempotent); returns how many."""
    have = set(launch.checklist.values_list("title", flat=True))
    new = [
        LaunchChecklistItem(
            launch=launch,
            order=template_item.order,
            title=template_item.title,
            owner_role=template_item.owner_role,
            offset_days=template_item.offset_days,
            due_date=launch.launch_date + timedelta(days=template_item.offset_days),
            required=template_item.required,
        )
        for template_item in ChecklistTemplateItem.objects.filter(tier=launch.tier)
        if template_item.title not in have
    ]
    LaunchChecklistItem.objects.bulk_create(new)
    return len(new)


@transaction.atomic
def launch_item_set_done(*, item: LaunchChecklistItem, done: bool, by: User) -> LaunchChecklistItem:
    item.done_at = timezone.now() if done else None
    item.done_by = by if done else None
    item.save(update_fields=["done_at", "done_by"])
    return item


@transaction.atomic
def launch_follow_up_record(
    *, follow_up: LaunchFollowUp, by: User, met: bool | None, outcome: str = "", success_criteria: str | None = None
) -> LaunchFollowUp:
    if success_criteria is not None:
        follow_up.success_criteria = success_criteria.strip()
    follow_up.outcome = (outcome or "").strip()
    follow_up.met = met
    follow_up.completed_at = timezone.now() if met is not None else None
    follow_up.full_clean()
    follow_up.save()
    return follow_up


@transaction.atomic
def launch_set_status(*, launch: Launch, status: str, by: User) -> Launch:
    if status not in Launch.Status.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    launch.status = status
    launch.save(update_fields=["status"])
    audit_record(actor=by, action=f"launch.{status}", target=launch)
    return launch


@transaction.atomic
def launch_link_document(*, launch: Launch, document: Document, by: User) -> Launch:
    if document.product_id != launch.product_id:
        raise ValidationError({"document": "Link a document of the launch's own product."})
    launch.document = document
    launch.save(update_fields=["document"])
    return launch


def launch_reminders_send(*, today=None) -> int:
    """Tell launch owners about overdue required checklist items and follow-ups that are due.
    Idempotent: one notification per item (or follow-up) thanks to dedupe keys."""
    today = today or timezone.localdate()
    sent = 0
    overdue = (
        LaunchChecklistItem.objects.filter(
            launch__status=Launch.Status.PLANNED, required=True, done_at__isnull=True, due_date__lt=today
        )
        .select_related("launch__owner")
        .order_by("launch_id", "due_date")
    )
    for item in overdue:
        launch = item.launch
        note = notify(
            user=launch.owner,
            kind="launch.overdue",
            title=f"Overdue for “{launch.feature}”: {item.title} ({item.owner_role}, due {item.due_date:%-d %b})",
            body=f"Launch on {launch.launch_date:%-d %b %Y}. Tick it off or move the date.",
            url=launch.get_absolute_url() + "#checklist",
            dedupe_key=f"tooling.launch_item.{item.pk}.overdue",
        )
        sent += note is not None
    due = LaunchFollowUp.objects.filter(
        launch__status=Launch.Status.LAUNCHED, completed_at__isnull=True, due_date__lte=today
    ).select_related("launch__owner")
    for follow_up in due:
        launch = follow_up.launch
        note = notify(
            user=launch.owner,
            kind="launch.follow_up",
            title=f"{follow_up.get_horizon_display()} follow-up due for “{launch.feature}”",
            body=f"Success criteria: {follow_up.success_criteria or 'not set yet'}",
            url=launch.get_absolute_url() + "#follow-ups",
            dedupe_key=f"tooling.follow_up.{follow_up.pk}",
        )
        sent += note is not None
    return sent
