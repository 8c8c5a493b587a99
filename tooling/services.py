"""Tooling writes: keyword-only verbs, atomic, validated with full_clean().

Cross-app contract: `document_create_from_template(*, kind, product, owner, title, variables=None)`.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from portal.models import Product, User
from portal.services import audit_record
from tooling.models import (
    Document,
    DocumentRevision,
    DocumentSection,
    RoadmapItem,
    Template,
    TemplateSection,
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
    for section in version.sections.all():
        DocumentSection.objects.create(
            document=document,
            key=section.key,
            order=section.order,
            title=render_variables(section.title, values),
            guidance=render_variables(section.guidance, values),
            placeholder=render_variables(section.placeholder, values),
            required=section.required,
            # a variable named like a section pre-fills it (e.g. {"hypothesis": "…"} from experiments)
            body=str(values.get(section.key, "")) if section.key in (variables or {}) else "",
            added_in_version=version.number,
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
