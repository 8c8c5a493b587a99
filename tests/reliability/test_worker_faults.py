"""SIGKILL a real Celery worker process in the middle of a task; a new worker finishes
the work exactly once.

The worker is `tests/reliability/fault_worker.py` (a real `celery worker`, solo pool,
against the test database and the test's own Redis queues) frozen at a known point in
the middle of the computation; the test kills its whole process group with SIGKILL,
starts a fresh worker, and checks the outcome: one result row, correct values, no
duplicates. The message is redelivered because tasks are acks_late: the killed worker
never acknowledged it, so Redis hands it out again once its visibility timeout has
passed (lowered to a few seconds for the test; 1 h in production, see
docs/operations.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from tests.reliability import procs

VISIBILITY_S = 3
pytestmark = pytest.mark.django_db(transaction=True)


def _worker_env(**extra) -> dict:
    url = urlparse(os.environ["DATABASE_URL"])
    test_db = connection.settings_dict["NAME"]
    env = dict(
        os.environ,
        DATABASE_URL=urlunparse(url._replace(path=f"/{test_db}")),
        PORTAL_TESTING="1",  # same queue/key prefix as this test process
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_S),
        CONN_MAX_AGE="0",
        **extra,
    )
    return env


def _purge_queues() -> None:
    """Drop every queue and unacked key of this test run's prefix (left-overs of earlier runs)."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    keys = list(client.scan_iter(f"{settings.REDIS_KEY_PREFIX}*"))
    if keys:
        client.delete(*keys)


class Worker:
    def __init__(self, tmp_path: Path, pause: str | None = None, on_call: int = 1):
        self.marker = tmp_path / f"paused-{time.monotonic_ns()}"
        extra = (
            {"PAUSE_TARGET": pause, "PAUSE_MARKER": str(self.marker), "PAUSE_ON_CALL": str(on_call)} if pause else {}
        )
        self.log = open(tmp_path / f"worker-{time.monotonic_ns()}.log", "w+")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.fault_worker"],
            cwd=settings.BASE_DIR,
            env=_worker_env(**extra),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_paused(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.marker.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                raise AssertionError(f"worker never reached the pause point:\n{self.log.read()[-3000:]}")
            time.sleep(0.1)

    def sigkill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        assert self.proc.returncode == -signal.SIGKILL

    def stop(self) -> None:
        procs.stop_process_group(self.proc)
        self.log.close()


@pytest.fixture
def workers(tmp_path):
    _purge_queues()
    started: list[Worker] = []

    def start(**kwargs) -> Worker:
        worker = Worker(tmp_path, **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    _purge_queues()


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# --- experiments: results computation ------------------------------------------------------


def _running_experiment_with_data():
    from analytics.services import events_ingest
    from experiments import services
    from experiments.models import Experiment
    from tests.experiments.factories import make_experiment
    from tests.factories import ProductFactory, UserFactory

    pm = UserFactory(role="pm")
    product = ProductFactory()
    product.members.add(pm)
    exp = make_experiment(by=pm, product=product, key="fault-exp")
    exp = services.experiment_start(experiment=exp, by=pm)
    Experiment.objects.filter(pk=exp.pk).update(started_at=timezone.now() - timedelta(days=3))
    exp.refresh_from_db()
    t0 = exp.started_at + timedelta(hours=1)
    events = []
    for i in range(40):
        variant = "control" if i % 2 else "treatment"
        unit = f"u{i}"
        events.append(
            {
                "event": "$exposure",
                "distinct_id": unit,
                "timestamp": t0.isoformat(),
                "properties": {"experiment": "fault-exp", "variant": variant},
            }
        )
        if i % 3 == 0 or (variant == "treatment" and i % 4 == 0):
            events.append(
                {"event": "order_completed", "distinct_id": unit, "timestamp": (t0 + timedelta(hours=2)).isoformat()}
            )
    events_ingest(product=product, events=events)
    return exp


def test_experiment_results_survive_a_sigkilled_worker_exactly_once(workers):
    from experiments import engine, services
    from experiments.models import ResultSnapshot

    exp = _running_experiment_with_data()
    first = workers(pause="experiments.engine:compute")
    snapshot = services.results_request(experiment=exp)  # dispatched on commit (autocommit here)
    first.wait_paused()
    snapshot.refresh_from_db()
    assert snapshot.status == ResultSnapshot.Status.COMPUTING  # killed mid-way, not before it started
    first.sigkill()
    # Past its visibility timeout, the unacked task is restored when the next worker starts;
    # a worker started earlier only restores it at kombu's next periodic sweep (~100 s).
    time.sleep(VISIBILITY_S + 1)

    workers()  # a fresh worker: picks the unacknowledged task up again
    _wait_for(
        lambda: ResultSnapshot.objects.filter(pk=snapshot.pk, status=ResultSnapshot.Status.READY).exists(),
        timeout=180,
        what="the snapshot to be computed by the second worker",
    )
    assert ResultSnapshot.objects.filter(experiment=exp).count() == 1  # no duplicate snapshot
    snapshot.refresh_from_db()
    expected = engine.compute(exp, as_of=snapshot.as_of)
    assert snapshot.units == expected.units == 40
    assert {v["key"]: v["units"] for v in snapshot.variants} == {"control": 20, "treatment": 20}
    assert snapshot.results == expected.results
    # a second request while one is READY makes a new one; the old READY one is never recomputed
    assert services.results_request(experiment=exp).pk != snapshot.pk


# --- feedback: signal aggregation --------------------------------------------------------------


def _feedback_with_themes():
    from feedback.models import ItemState, ThemeStatus
    from tests.factories import ProductFactory
    from tests.feedback.factories import AccountFactory, ItemFactory, ThemeFactory

    product = ProductFactory()
    themes = [ThemeFactory(product=product, status=ThemeStatus.ACTIVE) for _ in range(3)]
    now = timezone.now()
    for t_index, theme in enumerate(themes):
        for i in range(10 + 5 * t_index):
            ItemFactory(
                theme=theme,
                product=product,
                account=AccountFactory(),
                state=ItemState.PROCESSED,
                sentiment=-0.5,
                created_at=now - timedelta(days=i * 3),
            )
    return product, themes


def test_feedback_aggregation_survives_a_sigkilled_worker_exactly_once(workers):
    from feedback import services
    from feedback.models import Theme, ThemeWeek
    from feedback.tasks import refresh_signals

    product, themes = _feedback_with_themes()
    first = workers(pause="feedback.signals:with_trends", on_call=2)  # frozen after the first theme
    refresh_signals.delay(product.pk)
    first.wait_paused()
    first.sigkill()
    assert ThemeWeek.objects.filter(theme__product=product).count() == 0  # nothing half-written
    time.sleep(VISIBILITY_S + 1)  # past its visibility timeout: restored when the next worker starts

    workers()
    _wait_for(
        lambda: ThemeWeek.objects.filter(theme__product=product).values("theme").distinct().count() == 3,
        timeout=180,
        what="the second worker to aggregate every theme",
    )
    time.sleep(1)  # a duplicate run (if any) would land now
    stored = sorted(ThemeWeek.objects.filter(theme__product=product).values_list("theme_id", "week", "volume"))
    assert len(stored) == len({(t, w) for t, w, _v in stored})  # one row per theme and week
    sizes = {t.pk: t.size for t in Theme.objects.filter(product=product)}
    assert sizes == {themes[0].pk: 10, themes[1].pk: 15, themes[2].pk: 20}
    services.signals_refresh(product=product)  # recomputing in-process gives the very same rows
    again = sorted(ThemeWeek.objects.filter(theme__product=product).values_list("theme_id", "week", "volume"))
    assert again == stored
