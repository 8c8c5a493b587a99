import time

import pytest
from django.core.cache import cache

from portal.celery import app
from portal.tasks import ping


@pytest.mark.django_db(transaction=True)
def test_task_round_trips_through_redis_to_a_real_worker(celery_worker_thread):
    cache.delete("ping:round-trip")
    ping.delay("round-trip")
    deadline = time.monotonic() + 15
    while cache.get("ping:round-trip") is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert cache.get("ping:round-trip") == "pong"


@pytest.mark.django_db(transaction=True)
def test_health_reports_all_parts_ok_with_a_live_worker(client, celery_worker_thread):
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    assert response.json() == {"database": "ok", "broker": "ok", "worker": "ok"}


def test_health_is_503_naming_the_worker_when_none_runs(client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok" and body["broker"] == "ok"
    assert body["failing"] == ["worker"]


def test_health_is_503_naming_the_broker_when_redis_is_unreachable(client, db, monkeypatch):
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"].startswith("error")
    assert "broker" in body["failing"]


def test_dispatch_with_the_broker_down_does_not_raise(db):
    with app.connection_for_write("redis://127.0.0.1:1/0") as dead:
        assert ping.apply_async(args=["nobody-listens"], connection=dead) is None
