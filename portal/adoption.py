"""Adoption dashboard for ops leads: is anyone using what product ops builds?

Every figure comes from the portal's own analytics events (product "portal", recorded by
portal.usage) and from the apps' models; nothing is sampled or invented.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import plotly.graph_objects as go
from django.db.models import Count, Max, Q
from django.db.models.functions import TruncWeek
from django.shortcuts import render
from django.utils import timezone

from portal import charts, csvexport, usage
from portal.home import model
from portal.models import Product, User
from portal.permissions import require_ops_lead

WEEKS = 12


def usage_events():
    from analytics.models import Event

    # A join, not portal_product(): reading never creates the internal product.
    return Event.objects.filter(product__slug=usage.PORTAL_SLUG, product__is_internal=True, status="accepted")


def glance() -> dict[str, Any]:
    """Headline figures for the ops lead's home (two queries)."""
    now = timezone.now()
    week, month = now - timedelta(days=7), now - timedelta(days=30)
    events = usage_events().filter(timestamp__gte=month)
    figures = events.aggregate(
        active_pms=Count("distinct_id", distinct=True, filter=Q(timestamp__gte=week, properties__role="pm")),
        active_people=Count("distinct_id", distinct=True, filter=Q(timestamp__gte=week)),
        page_views=Count("pk", filter=Q(timestamp__gte=week, event="page_viewed")),
        searches=Count("pk", filter=Q(timestamp__gte=week, event="search_performed")),
        searches_found=Count("pk", filter=Q(timestamp__gte=week, event="search_performed", properties__found=True)),
        actions=Count("pk", filter=Q(timestamp__gte=week, event="action_performed")),
    )
    used = set(events.filter(event="page_viewed").values_list("properties__tool", flat=True).distinct())
    figures["unused_tools"] = [t for t in usage.TOOLS if t not in used]
    figures["search_found_share"] = (figures["searches_found"] / figures["searches"]) if figures["searches"] else None
    return figures


def weekly_active_pms(weeks: int = WEEKS) -> list[tuple[Any, int, int]]:
    """[(week start, active PMs, active people)] for the last `weeks` weeks, zero-filled."""
    start = _week_start(timezone.now()) - timedelta(weeks=weeks - 1)
    rows = (
        usage_events()
        .filter(timestamp__gte=start)
        .annotate(week=TruncWeek("timestamp", tzinfo=UTC))
        .values("week")
        .annotate(
            pms=Count("distinct_id", distinct=True, filter=Q(properties__role="pm")),
            people=Count("distinct_id", distinct=True),
        )
    )
    by_week = {r["week"].date(): (r["pms"], r["people"]) for r in rows}
    out = []
    for i in range(weeks):
        day = (start + timedelta(weeks=i)).date()
        pms, people = by_week.get(day, (0, 0))
        out.append((day, pms, people))
    return out


def _week_start(moment):
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def use_per_tool(days: int = 30) -> list[dict[str, Any]]:
    since = timezone.now() - timedelta(days=days)
    rows = (
        usage_events()
        .filter(timestamp__gte=since, event__in=["page_viewed", "action_performed"])
        .values("properties__tool")
        .annotate(
            views=Count("pk", filter=Q(event="page_viewed")),
            actions=Count("pk", filter=Q(event="action_performed")),
            people=Count("distinct_id", distinct=True),
            last=Max("timestamp"),
        )
    )
    found = {r["properties__tool"]: r for r in rows}
    out = []
    for tool in usage.TOOLS:
        r = found.get(tool, {})
        out.append(
            {
                "tool": tool,
                "views": r.get("views", 0),
                "actions": r.get("actions", 0),
                "people": r.get("people", 0),
                "last": r.get("last"),
            }
        )
    return sorted(out, key=lambda r: (-r["views"] - r["actions"], r["tool"]))


def tool_trend(weeks: int = WEEKS) -> dict[str, list[int]]:
    start = _week_start(timezone.now()) - timedelta(weeks=weeks - 1)
    rows = (
        usage_events()
        .filter(timestamp__gte=start, event="page_viewed")
        .annotate(week=TruncWeek("timestamp", tzinfo=UTC))
        .values("week", "properties__tool")
        .annotate(n=Count("pk"))
    )
    days = [(start + timedelta(weeks=i)).date() for i in range(weeks)]
    series: dict[str, list[int]] = {}
    for r in rows:
        tool = r["properties__tool"] or "portal"
        series.setdefault(tool, [0] * weeks)
        index = days.index(r["week"].date()) if r["week"].date() in days else None
        if index is not None:
            series[tool][index] += r["n"]
    return {"weeks": days, **dict(sorted(series.items()))}


def use_per_product(days: int = 30) -> list[dict[str, Any]]:
    since = timezone.now() - timedelta(days=days)
    rows = (
        usage_events()
        .filter(timestamp__gte=since)
        .exclude(properties__product="")
        .exclude(properties__product__isnull=True)
        .values("properties__product")
        .annotate(
            views=Count("pk", filter=Q(event="page_viewed")),
            actions=Count("pk", filter=Q(event="action_performed")),
            people=Count("distinct_id", distinct=True),
        )
    )
    found = {r["properties__product"]: r for r in rows}
    out = []
    for product in Product.objects.filter(is_internal=False).select_related("unit").order_by("name"):
        r = found.get(product.slug, {})
        out.append(
            {
                "product": product,
                "views": r.get("views", 0),
                "actions": r.get("actions", 0),
                "people": r.get("people", 0),
            }
        )
    return out


def template_adoption() -> list[dict[str, Any]] | None:
    """tooling's adoption selector when present, else documents per template from the models."""
    try:
        from tooling.selectors import template_adoption as tooling_adoption
    except ImportError:
        tooling_adoption = None
    if tooling_adoption is not None:
        return [
            {
                "name": r.name,
                "kind": r.kind,
                "status": r.status,
                "documents": r.documents,
                "share_complete": r.share_complete,
                "median_review_hours": r.median_review_hours,
            }
            for r in tooling_adoption()
        ]
    Template = model("tooling.Template")
    if Template is None:
        return None
    rows = Template.objects.annotate(
        documents=Count("versions__documents", distinct=True),
    ).order_by("kind", "name")
    return [
        {
            "name": t.name,
            "kind": t.kind,
            "status": t.status,
            "documents": t.documents,
            "share_complete": None,
            "median_review_hours": None,
        }
        for t in rows
    ]


def active_pms(days: int = 30) -> list[dict[str, Any]]:
    since = timezone.now() - timedelta(days=days)
    rows = {
        r["distinct_id"]: r
        for r in usage_events()
        .filter(timestamp__gte=since)
        .values("distinct_id")
        .annotate(events=Count("pk"), last=Max("timestamp"))
    }
    pms = User.objects.filter(role="pm", is_active=True).order_by("username")
    out = []
    for user in pms:
        r = rows.get(str(user.pk), {})
        out.append({"user": user, "events": r.get("events", 0), "last": r.get("last")})
    return sorted(out, key=lambda r: (-r["events"], r["user"].username))


def adoption_view(request):
    require_ops_lead(request.user)
    export = request.GET.get("export", "")
    tools = use_per_tool()
    products = use_per_product()
    if export == "tools":
        return csvexport.csv_response(
            "adoption-tools.csv",
            ["tool", "page_views_30d", "actions_30d", "people_30d", "last_used"],
            ([r["tool"], r["views"], r["actions"], r["people"], r["last"]] for r in tools),
        )
    if export == "products":
        return csvexport.csv_response(
            "adoption-products.csv",
            ["product", "unit", "page_views_30d", "actions_30d", "people_30d"],
            ([r["product"].slug, r["product"].unit.name, r["views"], r["actions"], r["people"]] for r in products),
        )
    pms = active_pms()
    if export == "pms":
        return csvexport.csv_response(
            "adoption-pms.csv",
            ["username", "events_30d", "last_seen"],
            ([r["user"].username, r["events"], r["last"]] for r in pms),
        )
    weekly = weekly_active_pms()
    trend = tool_trend()
    weeks = trend.pop("weeks")
    wap = go.Figure(
        [
            go.Scatter(
                x=[w for w, _, _ in weekly], y=[p for _, p, _ in weekly], name="Active PMs", mode="lines+markers"
            ),
            go.Scatter(
                x=[w for w, _, _ in weekly], y=[n for _, _, n in weekly], name="Active people", mode="lines+markers"
            ),
        ]
    )
    charts.styled(wap, title="Weekly active PMs", x_title="Week starting", y_title="People", time_series=True)
    per_tool = go.Figure([go.Bar(x=weeks, y=values, name=tool) for tool, values in trend.items()])
    per_tool.update_layout(barmode="stack")
    charts.styled(per_tool, title="Page views per tool, weekly", x_title="Week starting", y_title="Page views")
    glance_figures = glance()
    pm_total = len(pms)
    context = {
        "glance": glance_figures,
        "pm_total": pm_total,
        "tools": tools,
        "unused": [r["tool"] for r in tools if r["views"] == 0 and r["actions"] == 0],
        "products": products,
        "templates": template_adoption(),
        "pms": pms,
        "wap_chart": charts.chart_context(
            wap,
            chart_id="wap-chart",
            summary=f"Active PMs last week: {weekly[-1][1] if weekly else 0} of {pm_total}",
        ),
        "tool_chart": charts.chart_context(
            per_tool,
            chart_id="tool-chart",
            summary=", ".join(f"{r['tool']}: {r['views']}" for r in tools),
        ),
    }
    return render(request, "portal/adoption.html", context)
