"""Home page under 10 concurrent logged-in clients firing back to back against gunicorn, beside a
static file under the same load as the baseline (the floor every request pays)."""

from __future__ import annotations

from bench.common import Gunicorn, load, session_cookie

TARGET_P95_MS = 300.0
STATIC_PATH = "/static/portal/favicon.svg"


def main(seconds: float = 10.0) -> dict:
    cookie = session_cookie("pm")
    with Gunicorn() as server:
        # warm up every worker: each imports the URLconf (every app's views) on its first request
        load(server.port, ["/"], cookie=cookie, concurrency=12, seconds=3)
        home = load(server.port, ["/"], cookie=cookie, concurrency=10, seconds=seconds)
        floor = load(server.port, [STATIC_PATH], concurrency=10, seconds=seconds)
    print("== portal: home page, 10 concurrent clients ==")
    print(home.line("GET / (logged in)"))
    print(floor.line(f"GET {STATIC_PATH} (baseline)"))
    ratio = home.rps / floor.rps if floor.rps else 0
    print(
        f"home throughput is {ratio:.2f}x the static file's; target p95 <= {TARGET_P95_MS:.0f} ms: "
        f"{'MEETS TARGET' if home.p95 <= TARGET_P95_MS and home.errors == 0 else 'MISSES TARGET'}"
    )
    return {"home_rps": home.rps, "home_p95_ms": home.p95, "static_rps": floor.rps}


if __name__ == "__main__":
    main()
