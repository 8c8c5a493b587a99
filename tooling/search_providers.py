"""Global search providers: documents, templates and roadmap items (readable by every signed-in person).

Stored, GIN-indexed vectors: a document matches on its title (`Document.search_vector`,
weight A) or on any section body (`DocumentSection.search_vector`, weight B); its rank is
the title's plus its best section's, and its snippet comes from that best section.
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchRank
from django.db.models import F, FloatField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from portal.search import HIGHLIGHT_START, SearchResult, headline_of, query_of, ranked, register
from tooling.models import Document, DocumentSection, RoadmapItem, Template


@register("document", "Documents")
def documents(query: str, user, limit: int) -> list[SearchResult]:
    sq = query_of(query)
    matching_sections = DocumentSection.objects.filter(search_vector=sq)
    best_section = (
        matching_sections.filter(document=OuterRef("pk"))
        .annotate(section_rank=SearchRank(F("search_vector"), sq))
        .order_by("-section_rank", "order")
    )
    rows = list(
        Document.objects.exclude(status=Document.Status.ARCHIVED)
        .filter(Q(search_vector=sq) | Q(pk__in=matching_sections.values("document_id")))
        .defer("search_vector")
        .annotate(
            rank=SearchRank(F("search_vector"), sq)
            + Coalesce(Subquery(best_section.values("section_rank")[:1]), Value(0.0), output_field=FloatField()),
            # A correlated subquery holding ts_headline: PostgreSQL runs it for the rows left
            # after ORDER BY ... LIMIT only.
            snippet=Subquery(best_section.annotate(text=headline_of("body", sq)).values("text")[:1]),
        )
        .select_related("product", "template_version__template")
        .order_by("-rank", "-pk")[:limit]
    )
    return [
        SearchResult(
            kind=doc.template_version.template.get_kind_display(),
            title=doc.title,
            url=doc.get_absolute_url(),
            snippet=_plain(doc.snippet or ""),
            rank=float(doc.rank),
            product=doc.product.name,
        )
        for doc in rows
    ]


def _plain(markdown: str) -> str:
    """Section bodies are markdown: the snippet shows plain text (highlight markers kept)."""
    text = re.sub(r"[*_`#>]+|\[[ x]\]", "", markdown)
    text = re.sub(r"\s+", " ", text).strip()
    return text if HIGHLIGHT_START in text or not text else text[:200]


@register("template", "Templates")
def templates(query: str, user, limit: int) -> list[SearchResult]:
    rows = ranked(Template.objects.exclude(status=Template.Status.DRAFT), query_of(query), limit=limit)
    return [SearchResult("Template", t.name, t.get_absolute_url(), t.description[:200], float(t.rank)) for t in rows]


@register("roadmap_item", "Roadmap items")
def roadmap_items(query: str, user, limit: int) -> list[SearchResult]:
    rows = ranked(RoadmapItem.objects.select_related("product"), query_of(query), limit=limit, headline="description")
    return [
        SearchResult("Roadmap item", i.title, i.get_absolute_url(), i.headline or "", float(i.rank), i.product.name)
        for i in rows
    ]
