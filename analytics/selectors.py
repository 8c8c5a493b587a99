"""Analytics reads. Everything in analytics is readable by every signed-in role (aggregates,
no personal data); writes are checked with portal.permissions in views."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from analytics.models import (
    Dashboard,
    EventDailyRollup,
    EventDefinition,
    Insight,
    PlanChange,
    PropertyDefinition,
    RejectedEvent,
    ViolationType,
)
from portal.models import Product


def product_list_for(user) -> list[Product]:
    """All products, the user's own first."""
    products = list(Product.objects.select_related("unit", "pm_owner").prefetch_related("members"))
    mine = {p.pk for p in products if p.pm_owner_id == user.pk or user in p.members.all()}
    return sorted(products, key=lambda p: (p.pk not in mine, p.name))


def dashboard_list(*, product: Product) -> QuerySet[Dashboard]:
    return (
        Dashboard.objects.filter(product=product)
        .select_related("template", "created_by")
        .annotate(tile_count=Count("tiles"))
        .order_by("template__position", "name")
    )


def dashboard_get(pk: int) -> Dashboard:
    return Dashboard.objects.select_related("product", "template", "created_by").get(pk=pk)


def insight_list(*, product: Product) -> QuerySet[Insight]:
    return Insight.objects.filter(product=product).select_related("created_by").order_by("-updated_at")


def event_definition_list(
    *, product: Product, q: str = "", status: str = "", tag: str = "", include_hidden: bool = False
) -> QuerySet[EventDefinition]:
    qs = (
        EventDefinition.objects.filter(product=product)
        .select_related("owner")
        .annotate(property_count=Count("properties"))
        .order_by("name")
    )
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(description__icontains=q) | Q(properties__name__icontains=q)).distinct()
    if status:
        qs = qs.filter(status=status)
    elif not include_hidden:
        qs = qs.exclude(status=EventDefinition.Status.HIDDEN)
    if tag:
        qs = qs.filter(tags__contains=[tag])
    return qs


def event_definition_get(*, product: Product, name: str) -> EventDefinition:
    return (
        EventDefinition.objects.select_related("owner", "product")
        .prefetch_related("properties")
        .get(product=product, name=name)
    )


def event_daily_counts(*, product: Product, event: str, days: int = 30) -> list[tuple]:
    since = timezone.now().date() - timedelta(days=days - 1)
    return list(
        EventDailyRollup.objects.filter(product=product, event=event, day__gte=since)
        .order_by("day")
        .values_list("day", "count", "uniques", "flagged", "quarantined")
    )


def plan_change_list(*, product: Product) -> QuerySet[PlanChange]:
    return PlanChange.objects.filter(product=product).select_related("actor")


def quality_report(*, product: Product, stale_days: int = 14, days: int = 30) -> dict:
    """The data-governance page: conformance, violations, undefined / never seen / deprecated /
    stale events and the PII inventory."""
    today = timezone.now().date()
    since = today - timedelta(days=days - 1)
    per_event = {
        row["event"]: row
        for row in EventDailyRollup.objects.filter(product=product, day__gte=since)
        .values("event")
        .annotate(count=Sum("count"), flagged=Sum("flagged"), quarantined=Sum("quarantined"))
    }
    definitions = {d.name: d for d in EventDefinition.objects.filter(product=product).select_related("owner")}
    total = sum(r["count"] + r["quarantined"] for r in per_event.values())
    clean = sum(r["count"] - r["flagged"] for r in per_event.values())
    stale_before = timezone.now() - timedelta(days=stale_days)
    rejected_recent = RejectedEvent.objects.filter(product=product, received_at__date__gte=since).count()
    return {
        "days": days,
        "total": total,
        "rejected": rejected_recent,
        "conformance": clean / (total + rejected_recent) if (total + rejected_recent) else None,
        "violations": list(ViolationType.objects.filter(product=product).order_by("-count")[:15]),
        "undefined": sorted(
            ((name, r["count"] + r["quarantined"]) for name, r in per_event.items() if name not in definitions),
            key=lambda x: -x[1],
        ),
        "never_seen": sorted(
            (d for d in definitions.values() if d.status == "planned" and d.last_seen is None), key=lambda d: d.name
        ),
        "deprecated_arriving": sorted(
            (
                (d, per_event[d.name]["count"] + per_event[d.name]["quarantined"])
                for d in definitions.values()
                if d.status == "deprecated"
                and d.name in per_event
                and per_event[d.name]["count"] + per_event[d.name]["quarantined"]
            ),
            key=lambda x: -x[1],
        ),
        "stale": sorted(
            (
                d
                for d in definitions.values()
                if d.status == "active" and d.last_seen is not None and d.last_seen < stale_before
            ),
            key=lambda d: d.last_seen,
        ),
        "pii": list(
            PropertyDefinition.objects.filter(event__product=product)
            .exclude(pii=PropertyDefinition.Pii.NONE)
            .select_related("event", "event__owner")
            .order_by("-pii", "event__name", "name")
        ),
    }
