"""Global search: experiments (hypothesis, decision and learnings; never assignment data)."""

from __future__ import annotations

from experiments.models import Experiment
from portal.search import SearchResult, fts, register, url_of


@register("experiment", "Experiments")
def experiments(query: str, user, limit: int) -> list[SearchResult]:
    rows = fts(
        Experiment.objects.select_related("product").exclude(status="archived"),
        query=query,
        fields=[
            ("name", "A"),
            ("key", "A"),
            ("hypothesis_change", "B"),
            ("hypothesis_impact", "B"),
            ("learnings", "C"),
            ("decision_rationale", "C"),
        ],
        headline="hypothesis_change",
        limit=limit,
    )
    return [
        SearchResult("Experiment", e.name, url_of(e, "/experiments/"), e.headline, float(e.rank), e.product.name)
        for e in rows
    ]
