"""Shared helpers for benchmarks: Django set-up, a gunicorn server, a load generator.

Benchmarks are scripts, not tests: each prints its figure, its target and a baseline
measured in the same run, as a ratio. They use the same database as `make run`.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn serving the portal on a free port for the life of a `with` block."""

    def __init__(self, workers: int = 3, threads: int = 4):
        self.port = free_port()
        self.workers = workers
        self.threads = threads
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        setup_django()  # resolves DATABASE_URL/REDIS_URL (embedded if unset) into the env
        env = dict(os.environ, DEBUG=os.environ.get("BENCH_DEBUG", "1"))
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        argv = [
            gunicorn,
            "portal.wsgi",
            "-b",
            f"127.0.0.1:{self.port}",
            "-w",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--log-level",
            "warning",
        ]
        self.proc = subprocess.Popen(argv, cwd=PROJECT_DIR, env=env, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)


def session_cookie(username: str) -> str:
    """A logged-in session for `username`, made directly (no password round trip)."""
    setup_django()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from portal.models import User

    user = User.objects.get(username=username)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    error_kinds: dict[str, int] = field(default_factory=dict)  # "503 /path" or exception name -> count

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p95(self) -> float:
        return self.pct(0.95)

    def line(self, label: str) -> str:
        kinds = sorted(self.error_kinds.items(), key=lambda kv: -kv[1])[:4]
        detail = f"  ({', '.join(f'{k}: {n}' for k, n in kinds)})" if kinds else ""
        return (
            f"{label:<34} {self.rps:8.1f} req/s   p50 {self.p50:7.1f} ms   p95 {self.p95:7.1f} ms   "
            f"errors {self.errors}/{self.requests}{detail}"
        )


def load(
    port: int,
    paths: list[str],
    *,
    cookie: str = "",
    concurrency: int = 10,
    seconds: float = 10.0,
    ok_statuses: tuple[int, ...] = (200,),
    cookies: list[str] | None = None,
    think: tuple[float, float] | None = None,
) -> LoadResult:
    """`concurrency` keep-alive clients cycling through `paths` for `seconds`. Client n sends
    `cookies[n % len(cookies)]` when given (one session per user), else `cookie`. With `think`
    (min, max seconds) each client pauses a random time between pages, as a person reading it
    does; without it clients fire back to back (a saturation test)."""
    import random

    latencies: list[float] = []
    errors = 0
    count = 0
    kinds: dict[str, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(offset: int) -> None:
        nonlocal errors, count
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = cookies[offset % len(cookies)] if cookies else cookie
        headers = {"Cookie": mine} if mine else {}
        pause = random.Random(offset)
        if think:  # users arrive spread over the first think period, not all in the same instant
            time.sleep(pause.uniform(0, think[1]))
        i = offset
        while time.monotonic() < stop_at:
            path = paths[i % len(paths)]
            i += 1
            started = time.perf_counter()
            for _attempt in (1, 2):
                try:
                    conn.request("GET", path, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    ok = response.status in ok_statuses
                    kind = f"{response.status} {path.split('?')[0]}"
                    break
                except (OSError, http.client.HTTPException) as exc:
                    ok = False
                    kind = exc.__class__.__name__
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    # The server closes idle keep-alive connections (gunicorn: after 2 s); a
                    # browser then resends on a new connection, and so do we, once.
                    if not isinstance(exc, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError):
                        break
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                count += 1
                latencies.append(elapsed)
                if not ok:
                    errors += 1
                    kinds[kind] = kinds.get(kind, 0) + 1
            if think:
                time.sleep(min(pause.uniform(*think), max(0.0, stop_at - time.monotonic())))

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return LoadResult(count, errors, time.monotonic() - started, latencies, kinds)


def verdict(ok: bool) -> str:
    return "MEETS TARGET" if ok else "MISSES TARGET"
