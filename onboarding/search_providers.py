"""Global search: onboarding tracks and knowledge-base articles (stored, GIN-indexed vectors)."""

from __future__ import annotations

from onboarding.models import Article, Track
from portal.search import SearchResult, query_of, ranked, register


@register("track", "Onboarding tracks")
def tracks(query: str, user, limit: int) -> list[SearchResult]:
    qs = Track.objects.all() if user.is_ops_lead else Track.objects.filter(status=Track.Status.PUBLISHED)
    rows = ranked(qs, query_of(query), limit=limit)
    return [
        SearchResult("Track", t.title, t.get_absolute_url(), t.description[:200], float(t.rank) + 0.05, "")
        for t in rows
    ]


@register("article", "Knowledge articles")
def articles(query: str, user, limit: int) -> list[SearchResult]:
    rows = ranked(Article.objects.all(), query_of(query), limit=limit, headline="body")
    return [SearchResult("Article", a.title, a.get_absolute_url(), a.headline, float(a.rank), "") for a in rows]
