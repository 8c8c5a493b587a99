"""Experiments Celery tasks: thin, idempotent, ids in (see portal/celery.py)."""

from __future__ import annotations

from celery import shared_task

from portal.celery import schedule

REFRESH_EVERY_SECONDS = 60 * 60


@shared_task(name="experiments.refresh_results", autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=3)
def refresh_results(snapshot_id: int) -> str:
    """Compute one queued snapshot. A snapshot that is gone or already computed is left alone."""
    from experiments.models import ResultSnapshot
    from experiments.services import results_compute

    snapshot = ResultSnapshot.objects.select_related("experiment").filter(pk=snapshot_id).first()
    if snapshot is None or snapshot.status == ResultSnapshot.Status.READY:
        return "skipped"
    results_compute(experiment=snapshot.experiment, snapshot=snapshot)
    return "ready"


@shared_task(name="experiments.refresh_running")
def refresh_running() -> int:
    """Beat: queue a refresh for every running experiment (one pending refresh each at most)."""
    from experiments.models import Experiment
    from experiments.services import results_request

    count = 0
    for experiment in Experiment.objects.filter(status=Experiment.Status.RUNNING):
        results_request(experiment=experiment)
        count += 1
    return count


schedule("experiments.refresh_running", "experiments.refresh_running", REFRESH_EVERY_SECONDS)
