"""50 concurrent logged-in users browsing dashboards, experiment pages and search for 60 s
against gunicorn + a Celery worker, beside /healthz (database + broker + worker round trip,
no templates) as the baseline. Target: 0 errors and p95 <= 300 ms.

    python -m bench.load_browse [--users 50] [--seconds 60]

Needs the demo data (`manage.py seed_demo`); pages are picked from what is in the database.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time

from bench.common import PROJECT_DIR, Gunicorn, load, session_cookie, setup_django, verdict

TARGET_P95_MS = 300.0


def browse_paths() -> list[str]:
    setup_django()
    from django.urls import NoReverseMatch, reverse

    from analytics.models import EventDefinition
    from experiments.models import Experiment

    paths = ["/", "/analytics/", "/experiments/", "/search/?q=checkout", "/search/?q=conversion"]
    for name in ("analytics:dashboards", "analytics:dashboard-list"):
        with contextlib.suppress(NoReverseMatch):
            paths.append(reverse(name))
    try:
        from analytics.models import Dashboard

        for dashboard in Dashboard.objects.order_by("pk")[:6]:
            if hasattr(dashboard, "get_absolute_url"):
                paths.append(dashboard.get_absolute_url())
    except (ImportError, NoReverseMatch):
        pass
    for key in Experiment.objects.order_by("pk").values_list("key", flat=True)[:8]:
        paths.append(reverse("experiments:detail", args=[key]))
    for definition in EventDefinition.objects.select_related("product").order_by("pk")[:4]:
        paths.append(reverse("analytics:event-detail", args=[definition.product.slug, definition.name]))
    return paths


class Worker:
    """`celery worker` for the life of a `with` block (pages dispatch refreshes to it)."""

    def __enter__(self) -> Worker:
        celery = os.path.join(os.path.dirname(sys.executable), "celery")
        self.proc = subprocess.Popen(
            [celery, "-A", "portal", "worker", "-c", "2", "--loglevel", "WARNING"],
            cwd=PROJECT_DIR,
            env=dict(os.environ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(3)
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def main(users: int = 50, seconds: float = 60.0) -> dict:
    paths = browse_paths()
    cookie = session_cookie("pm")
    with Worker(), Gunicorn(workers=4, threads=4) as server:
        load(server.port, paths, cookie=cookie, concurrency=4, seconds=3)  # warm caches and connections
        health = load(server.port, ["/healthz"], concurrency=users, seconds=10, ok_statuses=(200, 503))
        pages = load(server.port, paths, cookie=cookie, concurrency=users, seconds=seconds)
    print(f"== reliability: {users} concurrent users browsing {len(paths)} pages for {seconds:.0f} s ==")
    print(pages.line("dashboards, experiments, search"))
    print(health.line("GET /healthz (baseline)"))
    slowdown = pages.p95 / health.p95 if health.p95 else float("nan")
    ok = pages.p95 <= TARGET_P95_MS and pages.errors == 0
    print(
        f"page p95 {pages.p95:.0f} ms is {slowdown:.1f}x the health check's p95; "
        f"target p95 <= {TARGET_P95_MS:.0f} ms and 0 errors: {verdict(ok)}"
    )
    return {"p95_ms": pages.p95, "errors": pages.errors, "rps": pages.rps, "health_p95_ms": health.p95}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    main(users=args.users, seconds=args.seconds)
