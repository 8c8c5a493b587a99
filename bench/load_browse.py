"""50 concurrent logged-in users browsing dashboards, experiment pages and search for 60 s
against gunicorn + a Celery worker, beside a static file under the same load as the baseline (the
floor every request pays: gunicorn, WSGI, whitenoise; no view). Target: 0 errors and p95 <= 300 ms.

Each simulated user has their own session (the demo's people, in turn) and reads each page for
1-3 s before the next, as people browsing do (~25 pages/s offered by 50 users). A second figure
is the saturation throughput: clients firing back to back, what the machine can serve at most.

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


THINK_SECONDS = (1.0, 3.0)
STATIC_PATH = "/static/portal/favicon.svg"


def user_cookies(count: int) -> list[str]:
    """One session per simulated user, cycling through the demo's active people."""
    from portal.models import User

    names = list(User.objects.filter(is_active=True).order_by("username").values_list("username", flat=True))
    return [session_cookie(names[i % len(names)]) for i in range(count)]


def main(users: int = 50, seconds: float = 60.0) -> dict:
    paths = browse_paths()
    cookies = user_cookies(users)
    with Worker(), Gunicorn(workers=4, threads=4) as server:
        load(server.port, paths, cookies=cookies, concurrency=4, seconds=3)  # warm caches and connections
        floor = load(server.port, [STATIC_PATH], concurrency=users, seconds=15, think=THINK_SECONDS)
        pages = load(server.port, paths, cookies=cookies, concurrency=users, seconds=seconds, think=THINK_SECONDS)
        saturation = load(server.port, paths, cookies=cookies, concurrency=8, seconds=15)
    print(
        f"== reliability: {users} concurrent users (own sessions, {THINK_SECONDS[0]:.0f}-{THINK_SECONDS[1]:.0f} s "
        f"reading each page) browsing {len(paths)} pages for {seconds:.0f} s =="
    )
    print(pages.line("dashboards, experiments, search"))
    print(floor.line(f"GET {STATIC_PATH} (baseline)"))
    print(saturation.line("saturation: 8 clients, no pauses"))
    slowdown = pages.p95 / floor.p95 if floor.p95 else float("nan")
    ok = pages.p95 <= TARGET_P95_MS and pages.errors == 0
    print(
        f"page p95 {pages.p95:.0f} ms is {slowdown:.1f}x the static file's p95; "
        f"target p95 <= {TARGET_P95_MS:.0f} ms and 0 errors: {verdict(ok)}"
    )
    return {
        "p95_ms": pages.p95,
        "errors": pages.errors,
        "rps": pages.rps,
        "static_p95_ms": floor.p95,
        "saturation_rps": saturation.rps,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    main(users=args.users, seconds=args.seconds)
