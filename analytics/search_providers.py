"""Global search: dashboards and tracking-plan event definitions (no personal data).
Both read their stored, GIN-indexed `search_vector` (see portal.search.ranked)."""

from __future__ import annotations

from analytics.models import Dashboard, EventDefinition
from portal.search import SearchResult, query_of, ranked, register


@register("dashboard", "Dashboards")
def dashboards(query: str, user, limit: int) -> list[SearchResult]:
    rows = ranked(Dashboard.objects.select_related("product"), query_of(query), limit=limit, headline="description")
    return [
        SearchResult("Dashboard", d.name, d.get_absolute_url(), d.headline or "", float(d.rank), d.product.name)
        for d in rows
    ]


@register("event_definition", "Tracking plan events")
def event_definitions(query: str, user, limit: int) -> list[SearchResult]:
    # Event names are indexed as words ("order completed" finds order_completed), so a
    # snake_case query is searched as words too.
    rows = ranked(
        EventDefinition.objects.select_related("product").exclude(status=EventDefinition.Status.HIDDEN),
        query_of(query.replace("_", " ")),
        limit=limit,
        headline="description",
    )
    return [
        SearchResult(
            "Event",
            f"{d.name} ({d.product.name})",
            d.get_absolute_url(),
            d.headline or "",
            float(d.rank),
            d.product.name,
        )
        for d in rows
    ]
