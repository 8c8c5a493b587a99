"""`make run` and `make test` in one place.

run:  embedded (or configured) PostgreSQL + Redis -> migrate -> demo data once ->
      gunicorn + Celery worker + Celery beat; Ctrl-C / SIGTERM stops all of them and the
      embedded servers (data stays in .data/ for next time).
test: the same services, then ruff and pytest; servers this command started are
      stopped afterwards, servers a running `make run` owns are left alone.
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from portal import embedded

PROJECT_DIR = embedded.PROJECT_DIR
PYTHON = sys.executable
BIN = Path(PYTHON).parent

DEMO_LOGINS = [
    ("pm", "a PM who owns Checkout"),
    ("ops", "an ops lead (admin access to shared standards)"),
    ("newpm", "a new PM three weeks into onboarding"),
    ("researcher", "the research ops lead"),
    ("viewer", "a stakeholder with read-only access"),
    ("admin", "superuser"),
]


def say(message: str) -> None:
    print(f"[portal] {message}", flush=True)


def fail(message: str) -> None:
    print(f"[portal] ERROR: {message}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _lock_data_dir():
    lock_path = embedded.data_dir() / "launcher.lock"
    handle = open(lock_path, "a+")  # noqa: SIM115 - held for the life of the process
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "unknown"
        fail(
            f"another `make run` (pid {owner}) is already using {embedded.data_dir()}. "
            "Stop it first (Ctrl-C in its terminal), or set PORTAL_DATA_DIR to another folder."
        )
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _services_env() -> tuple[dict[str, str], bool]:
    """Environment for child processes; True when embedded servers are in use."""
    env = dict(os.environ)
    use_embedded = False
    try:
        if not env.get("DATABASE_URL"):
            say("DATABASE_URL not set: starting embedded PostgreSQL in .data/postgres")
            env["DATABASE_URL"] = embedded.postgres_url()
            use_embedded = True
        if not env.get("REDIS_URL"):
            say("REDIS_URL not set: starting embedded Redis in .data/redis")
            env["REDIS_URL"] = embedded.redis_url()
            use_embedded = True
    except embedded.EmbeddedServiceError as exc:
        fail(str(exc))
    return env, use_embedded


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=PROJECT_DIR, env=env, check=True)


def run() -> int:
    port = int(os.environ.get("PORT", "8000"))
    if not _port_free(port):
        fail(f"port {port} is already in use on 127.0.0.1. Stop whatever uses it, or run: PORT=8001 make run")
    _lock = _lock_data_dir()  # noqa: F841 - kept open to hold the lock
    env, use_embedded = _services_env()
    children: list[subprocess.Popen] = []
    background: list[subprocess.Popen] = []

    def shutdown(*_args) -> None:
        say("stopping web, worker and beat…")
        for child in children + background:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.time() + 20
        for child in children + background:
            try:
                child.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        if use_embedded:
            say("stopping embedded PostgreSQL and Redis (data kept in .data/)")
            embedded.stop()
        say("stopped.")

    signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        say("applying migrations…")
        _manage(env, "migrate", "--noinput")
        say("creating the demo company and logins (first run only)…")
        _manage(env, "seed_demo", "--if-empty", "--org-only")
        beat_schedule = str(embedded.data_dir() / "celerybeat-schedule")
        commands = {
            "web": [
                str(BIN / "gunicorn"),
                "portal.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "3",
                "--threads",
                "4",
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "10",
            ],
            "worker": [
                str(BIN / "celery"),
                "-A",
                "portal",
                "worker",
                "-l",
                "info",
                "--concurrency",
                "2",
                "-n",
                f"worker-{port}@%h",
            ],
            "beat": [str(BIN / "celery"), "-A", "portal", "beat", "-l", "info", "-s", beat_schedule],
        }
        for name, argv in commands.items():
            children.append(subprocess.Popen(argv, cwd=PROJECT_DIR, env=env, start_new_session=True))
            say(f"started {name} (pid {children[-1].pid})")
        # The apps' demo data (about a million analytics events among it) loads while the
        # portal already serves: pages show their empty states until it lands.
        seeder = subprocess.Popen(
            [PYTHON, "manage.py", "seed_demo", "--if-empty"], cwd=PROJECT_DIR, env=env, start_new_session=True
        )
        background.append(seeder)
        say(f"Product Ops Portal is up: http://127.0.0.1:{port}/   (health: /healthz, API docs: /api/docs/)")
        say("demo logins (password for all: demo):")
        for username, who in DEMO_LOGINS:
            say(f"  {username:<11} {who}")
        say("demo data is loading in the background (a minute or two on first run)…")
        say("press Ctrl-C to stop.")
        while all(child.poll() is None for child in children):
            if seeder.returncode is None and seeder.poll() is not None:
                say("demo data ready." if seeder.returncode == 0 else f"demo data failed (exit {seeder.returncode}).")
            time.sleep(0.5)
        dead = [c for c in children if c.poll() is not None]
        say(f"a process exited unexpectedly (pid {dead[0].pid}, code {dead[0].returncode}); stopping.")
        return 1
    except KeyboardInterrupt:
        return 0
    except subprocess.CalledProcessError as exc:
        say(f"set-up step failed: {' '.join(exc.cmd[1:])}")
        return 1
    finally:
        shutdown()


def test(pytest_args: list[str]) -> int:
    pg_was_running = (embedded.data_dir() / "postgres" / "postmaster.pid").exists()
    redis_was_running = embedded._pid_alive(embedded.data_dir() / "redis" / "redis.pid")
    env, use_embedded = _services_env()
    env["PORTAL_TESTING"] = "1"
    try:
        say("ruff check")
        lint = subprocess.run([str(BIN / "ruff"), "check", "."], cwd=PROJECT_DIR, env=env)
        if lint.returncode != 0:
            say("lint failed: fix the findings above (ruff check --fix fixes many).")
            return lint.returncode
        say("pytest " + " ".join(pytest_args))
        result = subprocess.run([PYTHON, "-m", "pytest", *pytest_args], cwd=PROJECT_DIR, env=env)
        return result.returncode
    finally:
        if use_embedded:
            if not redis_was_running:
                embedded.redis_stop()
            if not pg_was_running:
                embedded.postgres_stop()


def main(argv: list[str]) -> int:
    os.chdir(PROJECT_DIR)
    if not argv or argv[0] not in {"run", "test"}:
        print("usage: python -m portal.launcher run | test [pytest args]", file=sys.stderr)
        return 2
    if argv[0] == "run":
        return run()
    return test(argv[1:])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
