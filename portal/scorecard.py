"""Benefits scorecard: the five promises of product ops, and the gatekeeping meter,
measured from the portal's own data (usage events, audit log, the apps' models).

Each measure is a `Measure` with its definition (shown on the page), a headline figure
and a weekly or monthly trend. A measure whose app has not landed yet has no points.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from typing import Any

import plotly.graph_objects as go
from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.shortcuts import render
from django.utils import timezone

from portal import charts, csvexport
from portal.home import model
from portal.models import AuditEntry, Product

WEEKS = 12
MONTHS = 6

SELF_SERVE_ACTIONS = [
    "document.create",
    "document.approve",
    "experiment.create",
    "experiment.start",
    "experiment.decide",
    "dashboard.create",
    "insight.publish",
]


@dataclass
class Measure:
    key: str
    promise: str
    title: str
    definition: str
    unit: str
    headline: float | None = None
    headline_label: str = ""
    x: list = field(default_factory=list)
    series: dict[str, list] = field(default_factory=dict)
    better: str = "higher"  # or "lower"
    x_title: str = "Week starting"
    y_title: str = ""  # the chart's axis, when it plots the parts of the headline (default: unit)
    note: str = ""

    @property
    def has_data(self) -> bool:
        return any(v not in (None, 0) for values in self.series.values() for v in values)


def _weeks(n: int = WEEKS) -> list[date]:
    today = timezone.now().astimezone(UTC).date()
    start = today - timedelta(days=today.weekday()) - timedelta(weeks=n - 1)
    return [start + timedelta(weeks=i) for i in range(n)]


def _months(n: int = MONTHS) -> list[date]:
    today = timezone.now().astimezone(UTC).date().replace(day=1)
    out = []
    year, month = today.year, today.month
    for _ in range(n):
        out.append(date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(out))


def _key(value) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def pm_leverage() -> Measure:
    weeks = _weeks()
    start = weeks[0]
    self_serve = defaultdict(int)
    for row in (
        AuditEntry.objects.filter(at__date__gte=start, actor__role="pm", action__in=SELF_SERVE_ACTIONS)
        .annotate(week=TruncWeek("at", tzinfo=UTC))
        .values("week")
        .annotate(n=Count("pk"))
    ):
        self_serve[_key(row["week"])] += row["n"]
    requests = defaultdict(int)
    Review, Suggestion = model("tooling.ReviewRequest"), model("tooling.TemplateSuggestion")
    if Review is not None:
        for row in (
            Review.objects.filter(requested_at__date__gte=start, reviewer__role="ops_lead")
            .annotate(week=TruncWeek("requested_at", tzinfo=UTC))
            .values("week")
            .annotate(n=Count("pk"))
        ):
            requests[_key(row["week"])] += row["n"]
    if Suggestion is not None:
        for row in (
            Suggestion.objects.filter(created_at__date__gte=start)
            .annotate(week=TruncWeek("created_at", tzinfo=UTC))
            .values("week")
            .annotate(n=Count("pk"))
        ):
            requests[_key(row["week"])] += row["n"]
    ss = [self_serve[w] for w in weeks]
    rq = [requests[w] for w in weeks]
    last4_ss, last4_rq = sum(ss[-4:]), sum(rq[-4:])
    return Measure(
        key="leverage",
        promise="PM leverage",
        title="Self-serve actions and requests to product ops",
        definition=(
            "Actions PMs completed themselves (documents created or approved, experiments created, started or "
            "decided, dashboards created, insights published) divided by requests that needed product ops "
            "(reviews asked of an ops lead, template change suggestions). Weekly; last 4 weeks as the headline."
        ),
        unit="ratio",
        y_title="actions a week",
        headline=round(last4_ss / last4_rq, 1) if last4_rq else (float(last4_ss) if last4_ss else None),
        headline_label=f"{last4_ss} self-serve actions, {last4_rq} requests to ops (4 weeks)",
        x=weeks,
        series={"Self-serve actions": ss, "Requests to ops": rq},
    )


def quality_consistency() -> Measure:
    months = _months()
    Section = model("tooling.DocumentSection")
    measure = Measure(
        key="quality",
        promise="Quality consistency",
        title="Template completeness and its spread across products",
        definition=(
            "For each document: the share of the template's required sections that are written. Averaged per "
            "product, then across products (completeness), with the standard deviation across products (spread: "
            "lower means more consistent). By month the document was created."
        ),
        unit="%",
        x=months,
        x_title="Month created",
    )
    if Section is None:
        return measure
    rows = (
        Section.objects.filter(required=True, document__created_at__date__gte=months[0])
        .exclude(document__status="archived")
        .annotate(month=TruncMonth("document__created_at", tzinfo=UTC))
        .values("document_id", "document__product_id", "month")
        .annotate(required=Count("pk"), written=Count("pk", filter=~Q(body="")))
    )
    per_month_product: dict[date, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        share = row["written"] / row["required"] if row["required"] else 1.0
        per_month_product[_key(row["month"])][row["document__product_id"]].append(share)
    means, spreads = [], []
    for month in months:
        products = [sum(v) / len(v) for v in per_month_product.get(month, {}).values()]
        means.append(round(100 * sum(products) / len(products), 1) if products else None)
        spreads.append(round(100 * statistics.pstdev(products), 1) if len(products) > 1 else None)
    measure.series = {"Completeness (%)": means, "Spread across products (pp)": spreads}
    recent = [m for m in means if m is not None]
    measure.headline = recent[-1] if recent else None
    spread_recent = [s for s in spreads if s is not None]
    measure.headline_label = (
        f"complete on average; spread {spread_recent[-1]} pp across products" if spread_recent else "complete"
    )
    return measure


def faster_ramp() -> Measure:
    """Days from start to first document, first experiment and onboarding completion, by cohort."""
    Enrollment = model("onboarding.Enrollment")
    cohorts: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    starts: dict[int, tuple[str, date, Any]] = {}
    if Enrollment is not None:
        for e in Enrollment.objects.exclude(status="withdrawn").values("user_id", "start_on", "completed_at"):
            starts[e["user_id"]] = (e["start_on"].strftime("%Y-%m"), e["start_on"], e["completed_at"])
    source = "onboarding enrollments"
    if not starts:
        source = "date joined (no onboarding enrollments yet)"
        from portal.models import User

        since = timezone.now() - timedelta(days=365)
        for u in User.objects.filter(role="pm", date_joined__gte=since).values("pk", "date_joined"):
            day = u["date_joined"].date()
            starts[u["pk"]] = (day.strftime("%Y-%m"), day, None)
    firsts = (
        AuditEntry.objects.filter(actor_id__in=list(starts), action__in=["document.create", "experiment.create"])
        .values("actor_id", "action")
        .annotate(first=Min("at"))
    )
    for row in firsts:
        cohort, start, _ = starts[row["actor_id"]]
        days = (row["first"].date() - start).days
        if days >= 0:
            label = "First document" if row["action"] == "document.create" else "First experiment"
            cohorts[cohort][label].append(days)
    for cohort, start, completed in starts.values():
        if completed is not None:
            cohorts[cohort]["Onboarding complete"].append((completed.date() - start).days)
    labels = sorted(cohorts)[-MONTHS:]
    series = {
        name: [_median(cohorts[c].get(name, [])) for c in labels]
        for name in ["First document", "First experiment", "Onboarding complete"]
    }
    first_docs = [v for v in series["First document"] if v is not None]
    return Measure(
        key="ramp",
        promise="Faster ramp",
        title="Days to milestones, by start cohort",
        definition=(
            "Median days from a new PM's start (onboarding enrollment, else the day they joined) to their first "
            "document, first experiment and onboarding completion, grouped by the month they started. "
            f"Source: {source}."
        ),
        unit="days",
        better="lower",
        x_title="Start cohort",
        headline=first_docs[-1] if first_docs else None,
        headline_label="median days to a first document (latest cohort)",
        x=labels,
        series=series,
    )


def better_analytics() -> Measure:
    weeks = _weeks()
    measure = Measure(
        key="analytics",
        promise="Better analytics",
        title="Tracking-plan conformance and dashboards used",
        definition=(
            "Conformance: events that matched the tracking plan (accepted and not flagged) as a share of all "
            "stored events, across every product, weekly. Dashboards used: distinct dashboards opened in the "
            "portal that week (from the portal's own page-view events)."
        ),
        unit="%",
        x=weeks,
    )
    Rollup = model("analytics.EventDailyRollup")
    conformance: list[float | None] = [None] * len(weeks)
    if Rollup is not None:
        rows = (
            Rollup.objects.filter(day__gte=weeks[0], product__is_internal=False)
            .annotate(week=TruncWeek("day"))
            .values("week")
            .annotate(count=Sum("count"), flagged=Sum("flagged"), quarantined=Sum("quarantined"))
        )
        by_week = {_key(r["week"]): r for r in rows}
        for i, week in enumerate(weeks):
            r = by_week.get(week)
            if r and (r["count"] or r["quarantined"]):
                total = (r["count"] or 0) + (r["quarantined"] or 0)
                conformance[i] = round(100 * ((r["count"] or 0) - (r["flagged"] or 0)) / total, 1)
    from portal import adoption

    used = defaultdict(int)
    for row in (
        adoption.usage_events()
        .filter(timestamp__date__gte=weeks[0], event="page_viewed", properties__tool="analytics")
        .filter(properties__page__icontains="dashboard")
        .annotate(week=TruncWeek("timestamp", tzinfo=UTC))
        .values("week")
        .annotate(n=Count("properties__path", distinct=True))
    ):
        used[_key(row["week"])] += row["n"]
    measure.series = {"Conformance (%)": conformance, "Dashboards opened": [used[w] for w in weeks]}
    recent = [c for c in conformance if c is not None]
    measure.headline = recent[-1] if recent else None
    measure.headline_label = (
        f"of events conform to the plan; {sum(used[w] for w in weeks[-4:])} dashboards opened in 4 weeks"
    )
    return measure


def cross_product_learning() -> Measure:
    weeks = _weeks()
    members: dict[int, set[int]] = defaultdict(set)
    through = Product.members.through
    for user_id, product_id in through.objects.values_list("user_id", "product_id"):
        members[user_id].add(product_id)
    for product_id, owner_id in Product.objects.exclude(pm_owner=None).values_list("pk", "pm_owner_id"):
        members[owner_id].add(product_id)
    insight_views = defaultdict(int)
    Insight = model("research.Insight")
    if Insight is not None:
        views = list(
            AuditEntry.objects.filter(action="insight.view", at__date__gte=weeks[0])
            .exclude(actor=None)
            .annotate(week=TruncWeek("at", tzinfo=UTC))
            .values_list("week", "actor_id", "target_id")
        )
        ids = {int(t) for _, _, t in views if t.isdigit()}
        insight_products: dict[int, set[int]] = defaultdict(set)
        for insight_id, product_id in Insight.products.through.objects.filter(insight_id__in=ids).values_list(
            "insight_id", "product_id"
        ):
            insight_products[insight_id].add(product_id)
        for week, actor_id, target_id in views:
            products = insight_products.get(int(target_id), set()) if target_id.isdigit() else set()
            if products and not (products & members.get(actor_id, set())):
                insight_views[_key(week)] += 1
    from portal import adoption

    slugs = dict(Product.objects.values_list("slug", "pk"))
    browsing = defaultdict(int)
    for week, distinct_id, slug in (
        adoption.usage_events()
        .filter(timestamp__date__gte=weeks[0], event="page_viewed", properties__role="pm")
        .exclude(properties__product="")
        .annotate(week=TruncWeek("timestamp", tzinfo=UTC))
        .values_list("week", "distinct_id", "properties__product")
    ):
        product_id = slugs.get(slug)
        if product_id and distinct_id.isdigit() and product_id not in members.get(int(distinct_id), set()):
            browsing[_key(week)] += 1
    iv = [insight_views[w] for w in weeks]
    br = [browsing[w] for w in weeks]
    return Measure(
        key="learning",
        promise="Cross-product learning",
        title="Learning viewed from another product",
        definition=(
            "Research insights opened by someone who does not work on any of the insight's products (first view "
            "per person, from the audit log), and PM page views of another product's dashboards, experiments or "
            "documents (portal usage events). Weekly."
        ),
        unit="views",
        headline=float(sum(iv[-4:]) + sum(br[-4:])),
        headline_label="cross-product views in the last 4 weeks",
        x=weeks,
        series={"Insights viewed from another product": iv, "Other products' pages viewed by PMs": br},
    )


def gatekeeping() -> Measure:
    months = _months()
    measure = Measure(
        key="gatekeeping",
        promise="Gatekeeping meter",
        title="Time in review and draft-to-running time",
        definition=(
            "Median hours a document spent in review (reviews are advisory; this is the delay they add), by the "
            "month the document left review or was created; and median days from an experiment's creation to "
            "its start, by the month it started. Lower is better: product ops must not become a gate."
        ),
        unit="hours / days",
        better="lower",
        x=months,
        x_title="Month",
    )
    Document, Experiment = model("tooling.Document"), model("experiments.Experiment")
    review: dict[date, list[float]] = defaultdict(list)
    if Document is not None:
        now = timezone.now()
        for doc in (
            Document.objects.filter(Q(review_seconds__gt=0) | Q(in_review_since__isnull=False))
            .filter(created_at__date__gte=months[0] - timedelta(days=90))
            .only("review_seconds", "in_review_since", "approved_at", "created_at")
        ):
            when = (doc.approved_at or doc.in_review_since or doc.created_at).astimezone(UTC).date().replace(day=1)
            review[when].append(doc.time_in_review_seconds(now) / 3600)
    to_running: dict[date, list[float]] = defaultdict(list)
    if Experiment is not None:
        for created, started in Experiment.objects.filter(
            started_at__isnull=False, started_at__date__gte=months[0]
        ).values_list("created_at", "started_at"):
            to_running[started.astimezone(UTC).date().replace(day=1)].append(
                max(0.0, (started - created).total_seconds() / 86400)
            )
    measure.series = {
        "Median hours in review": [_median(review.get(m, [])) for m in months],
        "Median days draft → running": [_median(to_running.get(m, [])) for m in months],
    }
    recent = [v for v in measure.series["Median hours in review"] if v is not None]
    measure.headline = recent[-1] if recent else None
    running = [v for v in measure.series["Median days draft → running"] if v is not None]
    measure.headline_label = "median hours in review (latest month)" + (
        f"; {running[-1]} days draft → running" if running else ""
    )
    return measure


def measures() -> list[Measure]:
    return [
        pm_leverage(),
        quality_consistency(),
        faster_ramp(),
        better_analytics(),
        cross_product_learning(),
        gatekeeping(),
    ]


def _chart(m: Measure) -> dict[str, Any]:
    fig = go.Figure(
        [
            go.Scatter(x=[str(x) for x in m.x], y=values, name=name, mode="lines+markers")
            for name, values in m.series.items()
        ]
    )
    charts.styled(
        fig,
        title=m.title,
        x_title=m.x_title,
        y_title=m.y_title or m.unit,
        time_series=True,
        height=280,
    )
    fig.update_layout(legend={"y": -0.35}, margin={"b": 80})  # keep the legend clear of the x-axis title
    summary = "; ".join(
        f"{name}: {', '.join('–' if v is None else str(v) for v in values[-4:])}" for name, values in m.series.items()
    )
    return charts.chart_context(fig, chart_id=f"score-{m.key}", summary=summary)


def scorecard_view(request):
    items = measures()
    if request.GET.get("export") == "csv":
        return csvexport.csv_response(
            "benefits-scorecard.csv",
            ["measure", "series", "period", "value"],
            (
                [m.promise, name, x, value]
                for m in items
                for name, values in m.series.items()
                for x, value in zip(m.x, values, strict=False)
            ),
        )
    rows = [{"measure": m, "chart": _chart(m)} for m in items]
    return render(request, "portal/scorecard.html", {"rows": rows})
