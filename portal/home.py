"""Home, "my work": one screen per role, each section read with a bounded number of queries.

A section whose app is not installed (or has no model yet) is None and renders an empty
state; an empty queryset renders the section's own empty state. Reads only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.apps import apps
from django.db.models import Count, OuterRef, Q, Subquery
from django.shortcuts import render
from django.utils import timezone

from portal.models import Product

LIMIT = 8


def model(label: str):
    """The model, or None while its app has not landed yet."""
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def my_products(user) -> list[Product]:
    if not user.is_authenticated:
        return []
    return list(
        Product.objects.filter(Q(members=user) | Q(pm_owner=user), is_internal=False)
        .select_related("unit")
        .distinct()
        .order_by("name")
    )


def experiments_running(*, products: list[Product] | None, user=None) -> list | None:
    """Running experiments (in these products, or all) with their health from the latest snapshot."""
    Experiment, Snapshot = model("experiments.Experiment"), model("experiments.ResultSnapshot")
    if Experiment is None:
        return None
    qs = Experiment.objects.filter(status="running").select_related("product", "owner")
    if products is not None:
        qs = qs.filter(product__in=products)
    if Snapshot is not None:
        latest = Snapshot.objects.filter(experiment=OuterRef("pk"), status="ready").order_by("-computed_at", "-pk")
        qs = qs.annotate(
            latest_health=Subquery(latest.values("health")[:1]),
            latest_srm=Subquery(latest.values("srm_p_value")[:1]),
            latest_at=Subquery(latest.values("computed_at")[:1]),
        )
    rows = list(qs.order_by("-started_at")[:LIMIT])
    for row in rows:
        row.health_status, row.health_label = experiment_health(row)
        row.is_mine = user is not None and row.owner_id == user.pk
    return rows


def experiment_health(row) -> tuple[str, str]:
    if getattr(row, "latest_at", None) is None:
        return "pending", "No results yet"
    srm = getattr(row, "latest_srm", None)
    if srm is not None and srm < 0.001:
        return "srm", "Sample-ratio mismatch"
    levels = {str(h.get("level", "")).lower() for h in (row.latest_health or []) if isinstance(h, dict)}
    if levels & {"error", "red", "critical"}:
        return "failed", "Check failed"
    if levels & {"warning", "amber", "warn"}:
        return "needs_attention", "Needs attention"
    return "healthy", "Healthy"


def documents_mine(user) -> list | None:
    Document = model("tooling.Document")
    if Document is None:
        return None
    return list(
        Document.objects.filter(owner=user)
        .exclude(status="archived")
        .select_related("product", "template_version__template")
        .order_by("-updated_at")[:LIMIT]
    )


def reviews_for(user) -> list | None:
    Review = model("tooling.ReviewRequest")
    if Review is None:
        return None
    return list(
        Review.objects.filter(reviewer=user, state="pending")
        .select_related("document__product", "requested_by")
        .order_by("requested_at")[:LIMIT]
    )


def roadmap_mine(user, products: list[Product]) -> list | None:
    Item = model("tooling.RoadmapItem")
    if Item is None:
        return None
    return list(
        Item.objects.filter(Q(owner=user) | Q(product__in=products, owner__isnull=True))
        .exclude(status__in=["shipped", "dropped"])
        .select_related("product")
        .order_by("horizon", "-rice_score")[:LIMIT]
    )


def insights_new(*, products: list[Product] | None, days: int = 30) -> list | None:
    Insight = model("research.Insight")
    if Insight is None:
        return None
    since = timezone.now() - timedelta(days=days)
    qs = Insight.objects.filter(status="published", published_at__gte=since)
    if products is not None:
        qs = qs.filter(products__in=products).distinct()
    return list(qs.prefetch_related("products").order_by("-published_at")[:5])


def feedback_spikes(*, products: list[Product] | None, days: int = 30) -> list | None:
    Spike = model("feedback.SpikeAlert")
    if Spike is None:
        return None
    since = timezone.now() - timedelta(days=days)
    qs = Spike.objects.filter(created_at__gte=since).select_related("theme__product")
    if products is not None:
        qs = qs.filter(theme__product__in=products)
    return list(qs.order_by("-created_at")[:5])


def onboarding_progress(user) -> dict | None:
    Enrollment, Item = model("onboarding.Enrollment"), model("onboarding.EnrollmentTask")
    if Enrollment is None or Item is None:
        return None
    enrollment = (
        Enrollment.objects.filter(user=user, status="active").select_related("track").order_by("-start_on").first()
    )
    if enrollment is None:
        return {"enrollment": None}
    today = timezone.localdate()
    counts = Item.objects.filter(enrollment=enrollment).aggregate(
        total=Count("pk"),
        done=Count("pk", filter=Q(completed_at__isnull=False)),
        overdue=Count("pk", filter=Q(completed_at__isnull=True, due_on__lt=today)),
    )
    total = counts["total"] or 0
    return {
        "enrollment": enrollment,
        "total": total,
        "done": counts["done"],
        "overdue": counts["overdue"],
        "share": (counts["done"] / total) if total else 0.0,
        "percent": round(100 * counts["done"] / total) if total else 0,
    }


def launches_upcoming(*, products: list[Product] | None, days: int = 45) -> list | None:
    Launch = model("tooling.Launch")
    if Launch is None:
        return None
    today = timezone.localdate()
    qs = Launch.objects.filter(status="planned", launch_date__gte=today, launch_date__lte=today + timedelta(days=days))
    if products is not None:
        qs = qs.filter(product__in=products)
    return list(qs.select_related("product", "owner").order_by("launch_date")[:LIMIT])


def decisions_recent(*, days: int = 60) -> list | None:
    Experiment = model("experiments.Experiment")
    if Experiment is None:
        return None
    since = timezone.now() - timedelta(days=days)
    return list(
        Experiment.objects.filter(status="decided", decided_at__gte=since)
        .select_related("product", "owner")
        .order_by("-decided_at")[:LIMIT]
    )


def studies_mine(user) -> list | None:
    Study = model("research.Study")
    if Study is None:
        return None
    return list(Study.objects.filter(owner=user).exclude(status="archived").order_by("-pk")[:LIMIT])


def standards_summary() -> dict[str, Any]:
    """Ops lead: the shared standards at a glance."""
    out: dict[str, Any] = {}
    Template = model("tooling.Template")
    if Template is not None:
        stale_before = timezone.now() - timedelta(days=180)
        out["templates"] = Template.objects.aggregate(
            published=Count("pk", filter=Q(status="published")),
            stale=Count("pk", filter=Q(status="published", updated_at__lt=stale_before)),
        )
    Definition = model("analytics.EventDefinition")
    if Definition is not None:
        out["plan"] = Definition.objects.filter(product__is_internal=False).aggregate(
            events=Count("pk"),
            verified=Count("pk", filter=Q(verified=True)),
        )
    Track = model("onboarding.Track")
    if Track is not None:
        out["tracks"] = Track.objects.aggregate(published=Count("pk", filter=Q(status="published")))
    Review = model("tooling.ReviewRequest")
    if Review is not None:
        out["reviews_pending"] = Review.objects.filter(state="pending").count()
    return out


def context_for(user) -> dict[str, Any]:
    products = my_products(user)
    ctx: dict[str, Any] = {"my_products": products, "variant": "viewer"}
    if user.is_ops_lead:
        from portal import adoption

        ctx["variant"] = "ops"
        ctx["glance"] = adoption.glance()
        ctx["standards"] = standards_summary()
        ctx["experiments"] = experiments_running(products=None, user=user)
        ctx["spikes"] = feedback_spikes(products=None)
        ctx["reviews"] = reviews_for(user)
    elif user.is_pm:
        ctx["variant"] = "pm"
        ctx["experiments"] = experiments_running(products=products, user=user)
        ctx["documents"] = documents_mine(user)
        ctx["reviews"] = reviews_for(user)
        ctx["roadmap"] = roadmap_mine(user, products)
        ctx["insights"] = insights_new(products=products)
        ctx["spikes"] = feedback_spikes(products=products)
        ctx["onboarding"] = onboarding_progress(user)
    else:
        ctx["variant"] = "researcher" if user.is_researcher else "viewer"
        if user.is_researcher:
            ctx["studies"] = studies_mine(user)
        ctx["decisions"] = decisions_recent()
        ctx["launches"] = launches_upcoming(products=None)
        ctx["insights"] = insights_new(products=None)
        ctx["spikes"] = feedback_spikes(products=None)
        ctx["reviews"] = reviews_for(user)
    return ctx


def home(request):
    return render(request, "portal/home.html", context_for(request.user))
