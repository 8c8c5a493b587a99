"""Home page under 10 concurrent logged-in clients against gunicorn, beside /healthz
(database + broker + worker round trip, no templates) as the baseline."""

from __future__ import annotations

from bench.common import Gunicorn, load, session_cookie

TARGET_P95_MS = 300.0


def main(seconds: float = 10.0) -> dict:
    cookie = session_cookie("pm")
    with Gunicorn() as server:
        load(server.port, ["/"], cookie=cookie, concurrency=2, seconds=1)  # warm up
        home = load(server.port, ["/"], cookie=cookie, concurrency=10, seconds=seconds)
        health = load(server.port, ["/healthz"], concurrency=10, seconds=seconds, ok_statuses=(200, 503))
    print("== portal: home page, 10 concurrent clients ==")
    print(home.line("GET / (logged in)"))
    print(health.line("GET /healthz (baseline)"))
    ratio = home.rps / health.rps if health.rps else 0
    print(
        f"home throughput is {ratio:.2f}x the health check's; target p95 <= {TARGET_P95_MS:.0f} ms: "
        f"{'MEETS TARGET' if home.p95 <= TARGET_P95_MS and home.errors == 0 else 'MISSES TARGET'}"
    )
    return {"home_rps": home.rps, "home_p95_ms": home.p95, "health_rps": health.rps}


if __name__ == "__main__":
    main()
