"""Global search: documents, templates and roadmap items."""

from __future__ import annotations

from portal.search import SearchResult, fts, register, url_of
from tooling.models import Document, RoadmapItem, Template


@register("document", "Documents")
def documents(query: str, user, limit: int) -> list[SearchResult]:
    rows = fts(
        Document.objects.select_related("product").exclude(status="archived"),
        query=query,
        fields=[("title", "A"), ("product__name", "C")],
        headline="title",
        limit=limit,
    )
    return [
        SearchResult("Document", d.title, url_of(d, "/tooling/"), d.headline, float(d.rank), d.product.name)
        for d in rows
    ]


@register("template", "Templates")
def templates(query: str, user, limit: int) -> list[SearchResult]:
    qs = Template.objects.all() if user.is_ops_lead else Template.objects.exclude(status="draft")
    rows = fts(qs, query=query, fields=[("name", "A"), ("description", "B")], headline="description", limit=limit)
    return [SearchResult("Template", t.name, url_of(t, "/tooling/"), t.headline, float(t.rank), "") for t in rows]


@register("roadmap_item", "Roadmap items")
def roadmap_items(query: str, user, limit: int) -> list[SearchResult]:
    rows = fts(
        RoadmapItem.objects.select_related("product"),
        query=query,
        fields=[("title", "A"), ("description", "B")],
        headline="description",
        limit=limit,
    )
    return [
        SearchResult("Roadmap item", r.title, url_of(r, "/tooling/"), r.headline, float(r.rank), r.product.name)
        for r in rows
    ]
