"""Redis and PostgreSQL outages against a real gunicorn, with their own throw-away servers.

Redis down: pages render from stored results, ingestion (analytics events, feedback items)
still accepts and stores, experiment refreshes are stored as queued; once Redis is back,
the sweepers re-queue what was stored but never queued and a fresh worker finishes it.

PostgreSQL restart: a gunicorn whose database is a private embedded PostgreSQL in a temp
dir keeps serving; /healthz reports the database as failing while it is down and ok
again after the restart, without restarting gunicorn (CONN_HEALTH_CHECKS).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tests.reliability import procs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world_for_outage():
    from analytics import services as analytics_services
    from experiments import services as experiment_services
    from portal import tokens
    from tests.experiments.factories import make_experiment
    from tests.factories import ProductFactory, UserFactory
    from tests.feedback.factories import SourceFactory

    pm = UserFactory(role="pm", username="outage-pm")
    product = ProductFactory(slug="outage", name="Outage")
    product.members.add(pm)
    exp = make_experiment(by=pm, product=product, key="outage-exp")
    exp = experiment_services.experiment_start(experiment=exp, by=pm)
    experiment_services.results_compute(experiment=exp)  # a stored result pages can show
    write_key = analytics_services.source_create(product=product, name="web")[1]
    SourceFactory(slug="outage-desk", default_product=product)
    token = tokens.api_token_create(user=pm, name="outage")[1]
    return {"pm": pm, "product": product, "exp": exp, "write_key": write_key, "token": token}


def test_redis_outage_keeps_pages_and_ingestion_up_and_sweepers_catch_up(world_for_outage, tmp_path):
    from analytics.models import Event
    from experiments.models import ResultSnapshot
    from feedback.models import FeedbackItem, ItemState

    w = world_for_outage
    redis = procs.Redis(tmp_path).start()
    env = procs.child_env(DATABASE_URL=procs.test_database_url(), REDIS_URL=redis.url, CONN_MAX_AGE="0")
    web = procs.Gunicorn(env, tmp_path / "gunicorn.log")
    worker = None
    try:
        cookie = procs.session_cookie(w["pm"])
        assert web.request("GET", "/", headers=cookie)[0] == 200

        redis.stop()  # ---- outage ----
        status, body = web.request("GET", "/healthz")
        assert status == 503 and json.loads(body)["broker"].startswith("error"), body
        for path in ["/", f"/experiments/{w['exp'].key}/", "/analytics/", "/feedback/", "/tooling/"]:
            status, body = web.request("GET", path, headers=cookie)
            assert status == 200, f"{path} -> {status} while Redis is down\n{body[:500]!r}\n{web.tail()}"

        batch = {"batch": [{"event": "order_completed", "distinct_id": f"u{i}", "uuid": None} for i in range(5)]}
        for event in batch["batch"]:
            event.pop("uuid")
        started = time.monotonic()
        status, body = web.request(
            "POST", "/api/v1/events/batch", body=batch, headers={"Authorization": f"Bearer {w['write_key']}"}
        )
        assert status == 200, body
        assert time.monotonic() - started < 10, "ingestion must not hang on the broker"
        assert Event.objects.filter(product=w["product"]).count() == 5

        items = {
            "items": [{"source": "outage-desk", "external_id": f"o{i}", "text": "Checkout froze"} for i in range(3)]
        }
        status, body = web.request(
            "POST", "/api/v1/feedback/items", body=items, headers={"Authorization": f"Bearer {w['token']}"}
        )
        assert status == 200, body
        assert FeedbackItem.objects.filter(source__slug="outage-desk", state=ItemState.PENDING).count() == 3

        status, body = web.request(
            "POST",
            f"/api/v1/experiments/{w['exp'].key}/results/refresh",
            body={},
            headers={"Authorization": f"Bearer {w['token']}"},
        )
        assert status in (200, 202), body
        queued = ResultSnapshot.objects.filter(experiment=w["exp"], status=ResultSnapshot.Status.QUEUED)
        assert queued.count() == 1

        redis.start()  # ---- back ----
        status, body = procs.wait_until(
            lambda: (r := web.request("GET", "/healthz"))[0] in (200, 503) and b'"broker": "ok"' in r[1] and r,
            30,
            "healthz to see the broker again",
        )
        # The sweepers (beat runs them every few minutes) find stored-but-unqueued work. Age
        # the rows past their grace period instead of waiting ten minutes.
        FeedbackItem.objects.filter(source__slug="outage-desk").update(updated_at=timezone.now() - timedelta(hours=1))
        ResultSnapshot.objects.filter(pk=queued.get().pk).update(created_at=timezone.now() - timedelta(hours=1))
        out = procs.run_python(
            "from feedback.tasks import retry_failed\n"
            "from experiments.tasks import requeue_stale_snapshots\n"
            "print(retry_failed(), requeue_stale_snapshots())\n",
            env,
        )
        feedback_requeued, snapshots_requeued = map(int, out.split()[-2:])
        assert feedback_requeued >= 3 and snapshots_requeued == 1

        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.fault_worker"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        procs.wait_until(
            lambda: (
                not FeedbackItem.objects.filter(source__slug="outage-desk").exclude(state=ItemState.PROCESSED).exists()
            ),
            90,
            "the worker to process the feedback stored during the outage",
        )
        procs.wait_until(
            lambda: not ResultSnapshot.objects.filter(experiment=w["exp"]).exclude(status="ready").exists(),
            90,
            "the worker to compute the refresh requested during the outage",
        )
        assert ResultSnapshot.objects.filter(experiment=w["exp"]).count() == 2  # the old one and the new one
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=20)
        web.stop()
        redis.stop()


def test_postgres_restart_is_reported_by_healthz_and_survived(tmp_path):
    pg = procs.Postgres(tmp_path / "pg").start()
    redis = procs.Redis(tmp_path).start()
    env = procs.child_env(DATABASE_URL=pg.uri, REDIS_URL=redis.url, CONN_MAX_AGE="60")
    web = procs.Gunicorn(env, tmp_path / "gunicorn.log", threads=1)
    try:
        status, body = web.request("GET", "/healthz")
        assert json.loads(body)["database"] == "ok", body  # (503 overall: no worker runs here)
        pid = web.proc.pid

        pg.stop()  # ---- outage ----
        started = time.monotonic()
        status, body = web.request("GET", "/healthz")
        report = json.loads(body)
        assert status == 503 and report["database"].startswith("error") and "database" in report["failing"], body
        assert time.monotonic() - started < 15, "healthz must answer quickly during an outage"

        pg.restart()  # ---- back ----
        procs.wait_until(
            lambda: json.loads(web.request("GET", "/healthz")[1])["database"] == "ok",
            30,
            "the same gunicorn to reconnect",
        )
        assert web.proc.pid == pid and web.proc.poll() is None
    finally:
        web.stop()
        redis.stop()
        with contextlib.suppress(Exception):  # already down
            pg.stop()
