"""Global search: feedback themes (labels and top terms). No customer PII in results:
account names, contacts and item texts are never searched or shown here."""

from __future__ import annotations

from feedback.models import Theme, ThemeStatus
from portal.search import SearchResult, query_of, ranked, register


@register("feedback_theme", "Feedback themes")
def themes(query: str, user, limit: int) -> list[SearchResult]:
    rows = ranked(
        Theme.objects.filter(status__in=[ThemeStatus.ACTIVE, ThemeStatus.PROPOSED]).select_related("product"),
        query_of(query),
        limit=limit,
        then="-score",
    )
    results = [
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
    return sorted(results, key=lambda r: r.rank, reverse=True)
