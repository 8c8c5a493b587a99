"""Global search: dashboards and tracking-plan event definitions (no event payloads)."""

from __future__ import annotations

from analytics.models import Dashboard, EventDefinition
from portal.search import SearchResult, fts, register, url_of


@register("dashboard", "Dashboards")
def dashboards(query: str, user, limit: int) -> list[SearchResult]:
    rows = fts(
        Dashboard.objects.select_related("product"),
        query=query,
        fields=[("name", "A"), ("description", "B"), ("product__name", "C")],
        headline="description",
        limit=limit,
    )
    return [
        SearchResult("Dashboard", d.name, url_of(d, "/analytics/"), d.headline, float(d.rank), d.product.name)
        for d in rows
    ]


@register("event_definition", "Event definitions")
def event_definitions(query: str, user, limit: int) -> list[SearchResult]:
    rows = fts(
        EventDefinition.objects.select_related("product").exclude(status="hidden"),
        query=query,
        fields=[("name", "A"), ("description", "B")],
        headline="description",
        limit=limit,
    )
    return [
        SearchResult("Event definition", e.name, url_of(e, "/analytics/"), e.headline, float(e.rank), e.product.name)
        for e in rows
    ]
