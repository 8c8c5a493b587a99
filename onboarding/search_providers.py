"""Global search: onboarding tracks and knowledge-base articles."""

from __future__ import annotations

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db.models import F

from onboarding.models import Article, Track
from portal.search import HIGHLIGHT_START, HIGHLIGHT_STOP, SearchResult, register


@register("track", "Onboarding tracks")
def tracks(query: str, user, limit: int) -> list[SearchResult]:
    sq = SearchQuery(query, search_type="websearch", config="english")
    vector = SearchVector("title", weight="A", config="english") + SearchVector(
        "description", weight="B", config="english"
    )
    qs = Track.objects.all() if user.is_ops_lead else Track.objects.filter(status=Track.Status.PUBLISHED)
    rows = qs.annotate(rank=SearchRank(vector, sq)).filter(rank__gt=0).order_by("-rank")[:limit]
    return [
        SearchResult("Track", t.title, t.get_absolute_url(), t.description[:200], float(t.rank) + 0.05, "")
        for t in rows
    ]


@register("article", "Knowledge articles")
def articles(query: str, user, limit: int) -> list[SearchResult]:
    sq = SearchQuery(query, search_type="websearch", config="english")
    rows = (
        Article.objects.filter(search_vector=sq)
        .annotate(
            rank=SearchRank(F("search_vector"), sq),
            headline=SearchHeadline(
                "body", sq, config="english", start_sel=HIGHLIGHT_START, stop_sel=HIGHLIGHT_STOP, max_words=30
            ),
        )
        .order_by("-rank")[:limit]
    )
    return [SearchResult("Article", a.title, a.get_absolute_url(), a.headline, float(a.rank), "") for a in rows]
