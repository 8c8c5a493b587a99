"""Experiments Celery tasks: thin, idempotent, ids in (see portal/celery.py)."""

from __future__ import annotations

from celery import shared_task

from portal.celery import schedule

REFRESH_EVERY_SECONDS = 60 * 60
# Longer than any computation takes, shorter than anyone waits for a refresh.
STALE_SNAPSHOT_SECONDS = 10 * 60


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


@shared_task(name="experiments.requeue_stale_snapshots")
def requeue_stale_snapshots(older_than_seconds: int = STALE_SNAPSHOT_SECONDS) -> int:
    """Sweeper: a snapshot queued while the broker was down (or whose worker died) is
    dispatched again; refresh_results skips READY ones, so running twice is harmless."""
    from datetime import timedelta

    from django.utils import timezone

    from experiments.models import ResultSnapshot

    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stale = ResultSnapshot.objects.filter(
        status__in=[ResultSnapshot.Status.QUEUED, ResultSnapshot.Status.COMPUTING], created_at__lt=cutoff
    ).values_list("pk", flat=True)
    ids = list(stale[:1000])
    for pk in ids:
        refresh_results.delay(pk)
    return len(ids)


schedule("experiments.refresh_running", "experiments.refresh_running", REFRESH_EVERY_SECONDS)
schedule("experiments.requeue_stale_snapshots", "experiments.requeue_stale_snapshots", 5 * 60)
