"""Global search providers: documents, templates and roadmap items (readable by every signed-in person)."""

from __future__ import annotations

import re

from django.contrib.postgres.aggregates import StringAgg
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db.models import F

from portal.search import HIGHLIGHT_START, HIGHLIGHT_STOP, SearchResult, register
from tooling.models import Document, RoadmapItem, Template


def _query(text: str) -> SearchQuery:
    return SearchQuery(text, search_type="websearch", config="english")


@register("document", "Documents")
def documents(query: str, user, limit: int) -> list[SearchResult]:
    sq = _query(query)
    vector = SearchVector("title", weight="A", config="english") + SearchVector(
        StringAgg("sections__body", delimiter="\n", default=""), weight="B", config="english"
    )
    rows = (
        Document.objects.exclude(status=Document.Status.ARCHIVED)
        .annotate(rank=SearchRank(vector, sq), text=StringAgg("sections__body", delimiter=" ", default=""))
        .filter(rank__gt=0)
        .select_related("product", "template_version__template")
        .order_by("-rank")[:limit]
    )
    results = []
    for doc in rows:
        snippet = _headline(doc.text, query)
        results.append(
            SearchResult(
                kind=doc.template_version.template.get_kind_display(),
                title=doc.title,
                url=doc.get_absolute_url(),
                snippet=snippet,
                rank=float(doc.rank),
                product=doc.product.name,
            )
        )
    return results


def _headline(text: str, query: str) -> str:
    """A short plain-text excerpt around the first hit, marked like SearchHeadline's output."""
    text = re.sub(r"[*_`#>]+|\[[ x]\]", "", text)  # plain text: drop markdown markers
    text = re.sub(r"\s+", " ", text).strip()
    words = [w.lower() for w in query.split() if len(w) > 2]
    lower = text.lower()
    hit = min((lower.find(w) for w in words if lower.find(w) >= 0), default=-1)
    if hit < 0:
        return text[:200]
    start = max(0, hit - 80)
    excerpt = text[start : start + 220]
    for w in words:
        index = excerpt.lower().find(w)
        if index >= 0:
            excerpt = (
                excerpt[:index]
                + HIGHLIGHT_START
                + excerpt[index : index + len(w)]
                + HIGHLIGHT_STOP
                + excerpt[index + len(w) :]
            )
            break
    return ("…" if start else "") + excerpt


@register("template", "Templates")
def templates(query: str, user, limit: int) -> list[SearchResult]:
    sq = _query(query)
    vector = SearchVector("name", weight="A", config="english") + SearchVector(
        "description", weight="B", config="english"
    )
    rows = (
        Template.objects.exclude(status=Template.Status.DRAFT)
        .annotate(rank=SearchRank(vector, sq))
        .filter(rank__gt=0)
        .order_by("-rank")[:limit]
    )
    return [SearchResult("Template", t.name, t.get_absolute_url(), t.description[:200], float(t.rank)) for t in rows]


@register("roadmap_item", "Roadmap items")
def roadmap_items(query: str, user, limit: int) -> list[SearchResult]:
    sq = _query(query)
    vector = SearchVector("title", weight="A", config="english") + SearchVector(
        "description", weight="B", config="english"
    )
    rows = (
        RoadmapItem.objects.annotate(
            rank=SearchRank(vector, sq),
            headline=SearchHeadline(
                F("description"), sq, config="english", start_sel=HIGHLIGHT_START, stop_sel=HIGHLIGHT_STOP
            ),
        )
        .filter(rank__gt=0)
        .select_related("product")
        .order_by("-rank")[:limit]
    )
    return [
        SearchResult("Roadmap item", i.title, i.get_absolute_url(), i.headline or "", float(i.rank), i.product.name)
        for i in rows
    ]
