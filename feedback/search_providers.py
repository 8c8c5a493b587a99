"""Global search: feedback themes (labels only: never customer text, names or emails)."""

from __future__ import annotations

from feedback.models import Theme
from portal.search import SearchResult, fts, register, url_of


@register("theme", "Feedback themes")
def themes(query: str, user, limit: int) -> list[SearchResult]:
    rows = fts(
        Theme.objects.select_related("product").filter(merged_into__isnull=True),
        query=query,
        fields=[("label", "A")],
        headline="label",
        limit=limit,
    )
    return [
        SearchResult(
            "Feedback theme",
            t.label,
            url_of(t, "/feedback/"),
            f"{t.headline} · {t.size} items",
            float(t.rank),
            t.product.name if t.product else "",
        )
        for t in rows
    ]
