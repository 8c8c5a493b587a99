"""Global search: experiments by name, hypothesis, decision and what was learned.

Everyone signed in may read experiments (cross-product learning), so no extra filtering; no
personal data is indexed. Reads the stored, GIN-indexed `Experiment.search_vector`.
"""

from __future__ import annotations

from experiments.models import Experiment
from portal.search import SearchResult, query_of, ranked, register


@register("experiment", "Experiments")
def experiments(query: str, user, limit: int) -> list[SearchResult]:
    rows = ranked(
        Experiment.objects.select_related("product"), query_of(query), limit=limit, headline="learnings", min_words=10
    )
    results = []
    for e in rows:
        status = e.get_decision_display() if e.decision else e.get_status_display()
        snippet = e.headline if e.learnings else e.hypothesis
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
