"""Global search: experiments by name, hypothesis, decision and what was learned.

Everyone signed in may read experiments (cross-product learning), so no extra filtering; no
personal data is indexed.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector

from experiments.models import Experiment
from portal.search import HIGHLIGHT_START, HIGHLIGHT_STOP, SearchResult, register


@register("experiment", "Experiments")
def experiments(query: str, user, limit: int) -> list[SearchResult]:
    vector = (
        SearchVector("name", weight="A")
        + SearchVector("key", weight="A")
        + SearchVector("hypothesis_change", "hypothesis_impact", "hypothesis_metric", weight="B")
        + SearchVector("learnings", "decision_rationale", weight="B")
    )
    sq = SearchQuery(query, search_type="websearch")
    rows = (
        Experiment.objects.select_related("product")
        .annotate(
            rank=SearchRank(vector, sq),
            snippet=SearchHeadline(
                "learnings",
                sq,
                start_sel=HIGHLIGHT_START,
                stop_sel=HIGHLIGHT_STOP,
                max_words=30,
                min_words=10,
            ),
        )
        .filter(rank__gt=0)
        .order_by("-rank")[:limit]
    )
    results = []
    for e in rows:
        status = e.get_decision_display() if e.decision else e.get_status_display()
        snippet = e.snippet if e.learnings else e.hypothesis
        results.append(
            SearchResult(
                kind="Experiment",
                title=f"{e.name} ({status.lower()})",
                url=e.get_absolute_url(),
                snippet=snippet[:300],
                rank=float(e.rank),
                product=e.product.name,
            )
        )
    return results
