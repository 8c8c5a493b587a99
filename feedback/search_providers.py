"""Global search: feedback themes (labels and top terms). No customer PII in results:
account names, contacts and item texts are never searched or shown here."""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

from feedback.models import Theme, ThemeStatus
from portal.search import SearchResult, register


@register("feedback_theme", "Feedback themes")
def themes(query: str, user, limit: int) -> list[SearchResult]:
    vector = SearchVector("label", weight="A", config="english")
    sq = SearchQuery(query, search_type="websearch", config="english")
    rows = (
        Theme.objects.filter(status__in=[ThemeStatus.ACTIVE, ThemeStatus.PROPOSED])
        .select_related("product")
        .annotate(rank=SearchRank(vector, sq))
        .filter(rank__gt=0)
        .order_by("-rank", "-score")[:limit]
    )
    return [
        SearchResult(
            kind="Feedback theme",
            title=t.label,
            url=t.get_absolute_url(),
            snippet=f"{t.size:,} items · top terms: {', '.join(t.top_terms[:6])}",
            rank=float(t.rank) + min(t.score, 1000) / 10_000,
            product=t.product.name if t.product else "",
        )
        for t in rows
    ]
