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
    assert shipped.snapshots.filter(status="ready").exists()
