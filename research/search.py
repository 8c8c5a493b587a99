"""Repository search: PostgreSQL full-text search over studies, session notes, highlights and
insights, ranked, with filters by product, tag, method and date. Results never carry personal
data: participants appear as their pseudonym only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import F, Q, QuerySet
from django.urls import reverse

from portal.search import HIGHLIGHT_START, HIGHLIGHT_STOP
from research.models import SEARCH_CONFIG, Highlight, Insight, Session, Study, pseudonym_for
from research.selectors import insights_visible

KINDS = {"insight": "Insights", "highlight": "Highlights", "note": "Session notes", "study": "Studies"}
HEADLINE_OPTIONS = {"start_sel": HIGHLIGHT_START, "stop_sel": HIGHLIGHT_STOP, "max_words": 30, "min_words": 12}


@dataclass
class Hit:
    kind: str
    title: str
    url: str
    snippet: str
    rank: float
    when: datetime | date | None
    product: str = ""
    meta: str = ""


@dataclass
class Filters:
    product: str = ""
    tag: str = ""
    method: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _dates(qs: QuerySet, field: str, f: Filters) -> QuerySet:
    if f.date_from:
        qs = qs.filter(**{f"{field}__date__gte": f.date_from})
    if f.date_to:
        qs = qs.filter(**{f"{field}__date__lte": f.date_to})
    return qs


def _ranked(qs: QuerySet, query: SearchQuery, text_field: str, limit: int) -> QuerySet:
    # No DISTINCT: filters below use id subqueries, so joins never duplicate rows.
    return (
        qs.defer("search_vector")
        .filter(search_vector=query)
        .annotate(
            rank=SearchRank(F("search_vector"), query),
            headline=SearchHeadline(text_field, query, config=SEARCH_CONFIG, **HEADLINE_OPTIONS),
        )
        .order_by("-rank", "-pk")[:limit]
    )


def _studies_of(product_slug: str) -> QuerySet:
    return Study.products.through.objects.filter(product__slug=product_slug).values("study_id")


def _products_label(products) -> str:
    return ", ".join(p.name for p in products)


def search(
    query: str, *, user, filters: Filters | None = None, kinds: list[str] | None = None, limit: int = 20
) -> list[Hit]:
    query = (query or "").strip()[:200]
    if not query:
        return []
    f = filters or Filters()
    sq = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
    kinds = [k for k in (kinds or KINDS) if k in KINDS]
    hits: list[Hit] = []

    if "insight" in kinds:
        qs = insights_visible(user).prefetch_related("products")
        if f.product:
            qs = qs.filter(pk__in=Insight.products.through.objects.filter(product__slug=f.product).values("insight_id"))
        if f.tag:
            qs = qs.filter(pk__in=Insight.tags.through.objects.filter(tag__slug=f.tag).values("insight_id"))
        if f.method:
            qs = qs.filter(study__method=f.method)
        qs = _dates(qs, "created_at", f)
        for i in _ranked(qs, sq, "statement", limit):
            hits.append(
                Hit(
                    "Insight",
                    i.statement,
                    i.get_absolute_url(),
                    i.details[:200] if not i.headline else i.headline,
                    float(i.rank) * 1.2,
                    i.published_at or i.created_at,
                    _products_label(i.products.all()),
                    f"{i.get_confidence_display()} confidence · {i.get_status_display()}",
                )
            )
    if "highlight" in kinds:
        qs = Highlight.objects.select_related("study").prefetch_related("study__products")
        if f.product:
            qs = qs.filter(study_id__in=_studies_of(f.product))
        if f.tag:
            qs = qs.filter(pk__in=Highlight.tags.through.objects.filter(tag__slug=f.tag).values("highlight_id"))
        if f.method:
            qs = qs.filter(study__method=f.method)
        qs = _dates(qs, "created_at", f)
        for h in _ranked(qs, sq, "excerpt", limit):
            hits.append(
                Hit(
                    "Highlight",
                    h.excerpt[:120],
                    h.get_absolute_url(),
                    h.headline,
                    float(h.rank),
                    h.created_at,
                    _products_label(h.study.products.all()),
                    f"{h.participant_pseudonym} · {h.study.title}",
                )
            )
    if "note" in kinds:
        qs = Session.objects.select_related("study").prefetch_related("study__products")
        if f.product:
            qs = qs.filter(study_id__in=_studies_of(f.product))
        if f.tag:
            qs = qs.filter(pk__in=Highlight.objects.filter(tags__slug=f.tag).values("session_id"))
        if f.method:
            qs = qs.filter(study__method=f.method)
        qs = _dates(qs, "scheduled_at", f)
        for s in _ranked(qs, sq, "notes", limit):
            hits.append(
                Hit(
                    "Session notes",
                    f"{s.study.title} — session with {pseudonym_for(s.participant_id)}",
                    s.get_absolute_url(),
                    s.headline,
                    float(s.rank) * 0.8,
                    s.scheduled_at,
                    _products_label(s.study.products.all()),
                    s.get_status_display(),
                )
            )
    if "study" in kinds:
        qs = Study.objects.prefetch_related("products")
        if f.product:
            qs = qs.filter(pk__in=_studies_of(f.product))
        if f.tag:
            qs = qs.filter(
                Q(pk__in=Highlight.objects.filter(tags__slug=f.tag).values("study_id"))
                | Q(pk__in=Insight.objects.filter(tags__slug=f.tag).values("study_id"))
            )
        if f.method:
            qs = qs.filter(method=f.method)
        qs = _dates(qs, "created_at", f)
        for s in _ranked(qs, sq, "research_questions", limit):
            hits.append(
                Hit(
                    "Study",
                    s.title,
                    s.get_absolute_url(),
                    s.headline,
                    float(s.rank),
                    s.created_at,
                    _products_label(s.products.all()),
                    f"{s.get_method_display()} · {s.get_status_display()}",
                )
            )
    hits.sort(key=lambda h: h.rank, reverse=True)
    return hits[:limit]


def search_url(query: str) -> str:
    return reverse("research:search") + "?q=" + query
