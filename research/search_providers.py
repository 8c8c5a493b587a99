"""Global search providers: insights, highlights, studies (no personal data in results)."""

from __future__ import annotations

from portal.search import SearchResult, register
from research import search as repo


def _provider(kind: str, label: str):
    def provide(query: str, user, limit: int) -> list[SearchResult]:
        return [
            SearchResult(hit.kind, hit.title, hit.url, hit.snippet, hit.rank, hit.product)
            for hit in repo.search(query, user=user, kinds=[kind], limit=limit)
        ]

    register(f"research_{kind}", label)(provide)
    return provide


insights = _provider("insight", "Research insights")
highlights = _provider("highlight", "Research highlights")
studies = _provider("study", "Research studies")
