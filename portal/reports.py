"""The monthly product-ops report per business unit.

Celery beat runs `portal.monthly_reports` daily; on the first run of a month it computes
last month's report for every unit, stores it (MonthlyReport, one per unit and month) and
notifies subscribers (kind `report.monthly`, emailed by preference). Pages read the stored
report; it prints cleanly (printable HTML) and each table exports to CSV.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from portal import csvexport
from portal.home import model
from portal.models import BusinessUnit, MonthlyReport, Product, ReportSubscription, User
from portal.permissions import require_ops_lead
from portal.services import notify


def month_bounds(month: date) -> tuple[datetime, datetime]:
    start = datetime.combine(month.replace(day=1), time.min, tzinfo=UTC)
    nxt = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start, datetime.combine(nxt, time.min, tzinfo=UTC)


def previous_month(today: date | None = None) -> date:
    today = today or timezone.now().astimezone(UTC).date()
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def _experiments(products, start, end) -> dict[str, Any] | None:
    Experiment = model("experiments.Experiment")
    if Experiment is None:
        return None
    ran = Experiment.objects.filter(product__in=products, started_at__lt=end).filter(
        Q(stopped_at__isnull=True) | Q(stopped_at__gte=start)
    )
    ran = ran.filter(Q(decided_at__isnull=True) | Q(decided_at__gte=start))
    decided = Experiment.objects.filter(product__in=products, decided_at__gte=start, decided_at__lt=end)
    return {
        "ran": ran.count(),
        "decided": decided.count(),
        "decisions": [
            {"name": e.name, "product": e.product.name, "decision": e.decision, "learnings": e.learnings[:300]}
            for e in decided.select_related("product").order_by("decided_at")[:20]
        ],
    }


def _launches(products, start, end) -> list[dict] | None:
    Launch = model("tooling.Launch")
    if Launch is None:
        return None
    return [
        {
            "feature": launch.feature,
            "product": launch.product.name,
            "tier": launch.tier,
            "date": launch.launch_date.isoformat(),
            "status": launch.status,
        }
        for launch in Launch.objects.filter(
            product__in=products, launch_date__gte=start.date(), launch_date__lt=end.date()
        )
        .exclude(status="cancelled")
        .select_related("product")
        .order_by("launch_date")
    ]


def _metrics(products, start, end) -> list[dict] | None:
    Rollup, Activity = model("analytics.EventDailyRollup"), model("analytics.UserDailyActivity")
    if Rollup is None:
        return None
    prev_start = (start - timedelta(days=1)).replace(day=1)
    rows = []
    for product in products:
        cur = Rollup.objects.filter(product=product, day__gte=start.date(), day__lt=end.date()).aggregate(
            events=Sum("count"), flagged=Sum("flagged")
        )
        prev = Rollup.objects.filter(product=product, day__gte=prev_start.date(), day__lt=start.date()).aggregate(
            events=Sum("count")
        )
        active = (
            Activity.objects.filter(product=product, day__gte=start.date(), day__lt=end.date())
            .values("distinct_id")
            .distinct()
            .count()
            if Activity is not None
            else None
        )
        events, before = cur["events"] or 0, prev["events"] or 0
        rows.append(
            {
                "product": product.name,
                "events": events,
                "change": round((events - before) / before, 3) if before else None,
                "active_users": active,
                "conformance": round((events - (cur["flagged"] or 0)) / events, 3) if events else None,
            }
        )
    return rows


def _voice(products, start, end) -> list[dict] | None:
    Item = model("feedback.FeedbackItem")
    if Item is None:
        return None
    rows = []
    for product in products:
        base = Item.objects.filter(product=product, created_at__gte=start, created_at__lt=end, rating__isnull=False)
        nps = base.filter(source__kind="nps").aggregate(
            n=Count("pk"),
            promoters=Count("pk", filter=Q(rating__gte=9)),
            detractors=Count("pk", filter=Q(rating__lte=6)),
        )
        csat = base.filter(source__kind="csat").aggregate(n=Count("pk"), satisfied=Count("pk", filter=Q(rating__gte=4)))
        rows.append(
            {
                "product": product.name,
                "nps": round(100 * (nps["promoters"] - nps["detractors"]) / nps["n"]) if nps["n"] else None,
                "nps_responses": nps["n"],
                "csat": round(csat["satisfied"] / csat["n"], 3) if csat["n"] else None,
                "csat_responses": csat["n"],
            }
        )
    return rows


def _research(products, start, end) -> list[dict] | None:
    Insight = model("research.Insight")
    if Insight is None:
        return None
    return [
        {"statement": i.statement, "confidence": i.confidence, "published": i.published_at.date().isoformat()}
        for i in Insight.objects.filter(
            status="published", published_at__gte=start, published_at__lt=end, products__in=products
        )
        .distinct()
        .order_by("published_at")[:30]
    ]


def _onboarding(products, start, end) -> list[dict] | None:
    Enrollment = model("onboarding.Enrollment")
    if Enrollment is None:
        return None
    people = User.objects.filter(Q(products__in=products) | Q(owned_products__in=products)).distinct()
    rows = (
        Enrollment.objects.filter(user__in=people, start_on__lt=end.date())
        .exclude(status="withdrawn")
        .values("track__title")
        .annotate(
            enrolled=Count("pk"),
            started=Count("pk", filter=Q(start_on__gte=start.date())),
            completed=Count("pk", filter=Q(completed_at__gte=start, completed_at__lt=end)),
        )
        .order_by("track__title")
    )
    return [dict(r, track=r.pop("track__title")) for r in rows]


def report_compute(*, unit: BusinessUnit, month: date) -> dict[str, Any]:
    start, end = month_bounds(month)
    products = list(Product.objects.filter(unit=unit, is_internal=False).order_by("name"))
    return {
        "unit": unit.name,
        "month": month.isoformat(),
        "products": [p.name for p in products],
        "experiments": _experiments(products, start, end),
        "launches": _launches(products, start, end),
        "metrics": _metrics(products, start, end),
        "voice": _voice(products, start, end),
        "research": _research(products, start, end),
        "onboarding": _onboarding(products, start, end),
    }


@transaction.atomic
def report_generate(*, unit: BusinessUnit, month: date) -> MonthlyReport:
    """Compute and store (or refresh) one unit's report for one month."""
    month = month.replace(day=1)
    report, _ = MonthlyReport.objects.update_or_create(
        unit=unit,
        month=month,
        defaults={"data": report_compute(unit=unit, month=month), "generated_at": timezone.now()},
    )
    return report


def report_notify_subscribers(*, report: MonthlyReport) -> int:
    """Notify everyone subscribed to this unit (or to all units); once per report."""
    subscribers = User.objects.filter(
        Q(report_subscriptions__unit=report.unit) | Q(report_subscriptions__unit__isnull=True), is_active=True
    ).distinct()
    sent = 0
    for user in subscribers:
        note = notify(
            user=user,
            kind="report.monthly",
            title=f"Product-ops report: {report.unit.name}, {report.month:%B %Y}",
            body=_summary(report.data),
            url=report.get_absolute_url(),
            dedupe_key=f"report.monthly:{report.unit_id}:{report.month:%Y-%m}",
        )
        sent += note is not None
    return sent


def _summary(data: dict) -> str:
    parts = []
    if data.get("experiments"):
        parts.append(f"{data['experiments']['ran']} experiments ran, {data['experiments']['decided']} decided")
    if data.get("launches") is not None:
        parts.append(f"{len(data['launches'])} launches")
    if data.get("research") is not None:
        parts.append(f"{len(data['research'])} research insights published")
    return "; ".join(parts) + "." if parts else "The report is ready."


def monthly_reports_run(*, month: date | None = None) -> int:
    """Generate missing reports for `month` (default: last month) and notify. Idempotent."""
    month = (month or previous_month()).replace(day=1)
    made = 0
    for unit in BusinessUnit.objects.all():
        report = MonthlyReport.objects.filter(unit=unit, month=month).first()
        if report is None:
            report = report_generate(unit=unit, month=month)
            made += 1
        report_notify_subscribers(report=report)
    return made


@transaction.atomic
def subscription_set(*, user: User, unit: BusinessUnit | None, subscribed: bool) -> None:
    qs = ReportSubscription.objects.filter(user=user, unit=unit)
    if subscribed and not qs.exists():
        ReportSubscription.objects.create(user=user, unit=unit)
    elif not subscribed:
        qs.delete()


# --- views -------------------------------------------------------------------------------


def report_list(request):
    reports = MonthlyReport.objects.select_related("unit").order_by("-month", "unit__name")[:60]
    units = list(BusinessUnit.objects.order_by("name"))
    subscribed = set(ReportSubscription.objects.filter(user=request.user).values_list("unit_id", flat=True))
    return render(
        request,
        "portal/reports.html",
        {
            "reports": reports,
            "units": [{"unit": u, "subscribed": u.pk in subscribed} for u in units],
            "all_subscribed": None in subscribed,
            "last_month": previous_month(),
        },
    )


@require_POST
def report_subscribe(request):
    unit_slug = request.POST.get("unit", "")
    unit = get_object_or_404(BusinessUnit, slug=unit_slug) if unit_slug else None
    subscribed = request.POST.get("subscribed") == "1"
    subscription_set(user=request.user, unit=unit, subscribed=subscribed)
    name = unit.name if unit else "every business unit"
    messages.success(
        request, f"You will get the monthly report for {name} by email." if subscribed else f"Unsubscribed from {name}."
    )
    return redirect("reports")


@require_POST
def report_generate_view(request):
    """Ops leads can (re)compute a month now; the stored report is replaced."""
    require_ops_lead(request.user)
    unit = get_object_or_404(BusinessUnit, slug=request.POST.get("unit", ""))
    try:
        month = date.fromisoformat(request.POST.get("month", "") + "-01")
    except ValueError:
        messages.error(request, "Give the month as YYYY-MM, e.g. 2026-10.")
        return redirect("reports")
    report = report_generate(unit=unit, month=month)
    messages.success(request, f"Report for {unit.name}, {month:%B %Y} generated.")
    return redirect(report.get_absolute_url())


TABLES = {
    "decisions": ("experiments.decisions", ["name", "product", "decision", "learnings"]),
    "launches": ("launches", ["feature", "product", "tier", "date", "status"]),
    "metrics": ("metrics", ["product", "events", "change", "active_users", "conformance"]),
    "voice": ("voice", ["product", "nps", "nps_responses", "csat", "csat_responses"]),
    "research": ("research", ["statement", "confidence", "published"]),
    "onboarding": ("onboarding", ["track", "enrolled", "started", "completed"]),
}


def report_detail(request, unit: str, month: str):
    try:
        month_date = date.fromisoformat(f"{month}-01")
    except ValueError as exc:
        raise Http404("Month must be YYYY-MM") from exc
    report = get_object_or_404(MonthlyReport.objects.select_related("unit"), unit__slug=unit, month=month_date)
    table = request.GET.get("export", "")
    if table in TABLES:
        path, columns = TABLES[table]
        rows: Any = report.data
        for part in path.split("."):
            rows = (rows or {}).get(part) if isinstance(rows, dict) else None
        return csvexport.csv_response(
            f"report-{unit}-{month}-{table}.csv", columns, ([r.get(c) for c in columns] for r in rows or [])
        )
    template = "portal/report_print.html" if request.GET.get("print") else "portal/report_detail.html"
    return render(request, template, {"report": report, "data": report.data})
