from __future__ import annotations

from experiments import demo
from experiments.models import BestPractice, Experiment, ExperimentTemplate, Metric, ResultSnapshot
from portal.demo import seed_org


def _counts():
    return (
        Experiment.objects.count(),
        Metric.objects.count(),
        ExperimentTemplate.objects.count(),
        BestPractice.objects.count(),
        ResultSnapshot.objects.count(),
    )


def test_seed_small_is_idempotent_and_covers_states(db):
    org = seed_org()
    demo.seed(org, small=True)
    first = _counts()
    demo.seed(org, small=True)
    assert _counts() == first
    statuses = set(Experiment.objects.values_list("status", flat=True))
    assert {"draft", "running", "decided"} <= statuses
    shipped = Experiment.objects.get(key="express-checkout")
    assert shipped.decision == "shipped" and shipped.learnings
    snapshot = shipped.snapshots.filter(status="ready").latest("computed_at")
    ratio = next(r for r in snapshot.results if r["metric"] == "revenue_per_order")
    assert ratio["kind"] == "ratio" and ratio["enough_data"] is True
    assert 40 < ratio["control_mean"] < 90  # average order value around the simulated 62
