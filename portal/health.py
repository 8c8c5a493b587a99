"""/healthz: database, broker and a live worker, each answering within a short timeout."""

from __future__ import annotations

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


def check_database() -> str:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        connection.close_if_unusable_or_obsolete()
        return f"error: {exc.__class__.__name__}"


def check_broker() -> str:
    from portal.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
            conn.default_channel.client.ping()
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"


def check_worker(timeout: float = 1.0) -> str:
    from portal.celery import app

    try:
        # limit=1: answer as soon as one worker replies; without it ping always waits the full
        # timeout collecting replies, and a flood of health checks ties up every web thread.
        replies = app.control.ping(timeout=timeout, limit=1)
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"
    return "ok" if replies else "error: no worker answered"


@never_cache
def healthz(request):
    result = {"database": check_database(), "broker": check_broker()}
    result["worker"] = check_worker() if result["broker"] == "ok" else "error: broker unreachable"
    healthy = all(value == "ok" for value in result.values())
    if not healthy:
        result["failing"] = [name for name, value in result.items() if value != "ok"]
    return JsonResponse(result, status=200 if healthy else 503)
