"""`make bench`: run every bench/<area>_<name>.py main() in turn (or those named on the
command line, e.g. `make bench ARGS=analytics`)."""

from __future__ import annotations

import importlib
import sys
import time
import traceback
from pathlib import Path


def modules(selected: list[str]) -> list[str]:
    names = sorted(p.stem for p in Path(__file__).parent.glob("*_*.py") if not p.stem.startswith("_"))
    if selected:
        names = [n for n in names if any(n.startswith(s) for s in selected)]
    return names


def main(argv: list[str]) -> int:
    from bench.common import setup_django

    setup_django()
    failures = 0
    for name in modules(argv):
        print(f"\n##### bench/{name}.py", flush=True)
        started = time.monotonic()
        try:
            importlib.import_module(f"bench.{name}").main()
        except Exception:  # noqa: BLE001 - one failing benchmark must not hide the others
            failures += 1
            traceback.print_exc()
        print(f"(took {time.monotonic() - started:.1f} s)", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
