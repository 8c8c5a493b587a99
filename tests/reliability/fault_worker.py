"""A real Celery worker process for fault tests, optionally frozen mid-task.

    PAUSE_TARGET=experiments.engine:compute PAUSE_MARKER=/tmp/x python -m tests.reliability.fault_worker

With PAUSE_TARGET set, the Nth call (PAUSE_ON_CALL, default 1) of that module function
writes PAUSE_MARKER and then blocks, so the test can SIGKILL the worker at a known point
in the middle of the work. Without it, this is a plain `celery worker` (solo pool, so the
task runs in this very process and a SIGKILL takes it down mid-task).
"""

from __future__ import annotations

import functools
import importlib
import os
import time
from pathlib import Path


def _install_pause() -> None:
    target = os.environ.get("PAUSE_TARGET")
    if not target:
        return
    module_name, attr = target.split(":")
    module = importlib.import_module(module_name)
    original = getattr(module, attr)
    on_call = int(os.environ.get("PAUSE_ON_CALL", "1"))
    marker = Path(os.environ["PAUSE_MARKER"])
    calls = {"n": 0}

    @functools.wraps(original)
    def paused(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == on_call:
            marker.write_text(str(os.getpid()))
            time.sleep(600)  # the test kills us here
        return original(*args, **kwargs)

    setattr(module, attr, paused)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    _install_pause()
    from portal.celery import app

    app.worker_main(
        [
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            f"--hostname=fault-{os.getpid()}@%h",
        ]
    )


if __name__ == "__main__":
    main()
