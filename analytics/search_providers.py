"""Global search: dashboards and tracking-plan event definitions (no personal data)."""

from __future__ import annotations

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector

from analytics.models import Dashboard, EventDefinition
from portal.search import HIGHLIGHT_START, HIGHLIGHT_STOP, SearchResult, register


def _headline(field: str, query: SearchQuery) -> SearchHeadline:
    return SearchHeadline(field, query, start_sel=HIGHLIGHT_START, stop_sel=HIGHLIGHT_STOP, max_words=30)


@register("dashboard", "Dashboards")
def dashboards(query: str, user, limit: int) -> list[SearchResult]:
    sq = SearchQuery(query, search_type="websearch")
    vector = SearchVector("name", weight="A") + SearchVector("description", weight="B")
    rows = (
        Dashboard.objects.select_related("product")
        .annotate(rank=SearchRank(vector, sq), snippet=_headline("description", sq))
        .filter(rank__gt=0)
        .order_by("-rank")[:limit]
    )
    return [
        SearchResult("Dashboard", d.name, d.get_absolute_url(), d.snippet or "", float(d.rank), d.product.name)
        for d in rows
    ]


@register("event_definition", "Tracking plan events")
def event_definitions(query: str, user, limit: int) -> list[SearchResult]:
    sq = SearchQuery(query.replace("_", " "), search_type="websearch")
    # Event names are snake_case: index their words too, so "order completed" finds order_completed.
    from django.db.models import Func, Value

    words = Func("name", Value("_"), Value(" "), function="replace")
    vector = SearchVector(words, weight="A") + SearchVector("description", weight="B")
    rows = (
        EventDefinition.objects.select_related("product")
        .exclude(status=EventDefinition.Status.HIDDEN)
        .annotate(rank=SearchRank(vector, sq), snippet=_headline("description", sq))
        .filter(rank__gt=0)
        .order_by("-rank")[:limit]
    )
    return [
        SearchResult(
            "Event",
            f"{d.name} ({d.product.name})",
            d.get_absolute_url(),
            d.snippet or "",
            float(d.rank),
            d.product.name,
        )
        for d in rows
    ]
