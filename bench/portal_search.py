"""Global search over every type on the demo data (`manage.py seed_demo` first), in process:
p50/p95 per query across all providers, beside a one-provider search (products) as the baseline."""

from __future__ import annotations

import statistics
import time

from bench.common import setup_django

TARGET_P95_MS = 200.0
QUERIES = ["checkout", "conversion", "onboarding", "delivery fee", "payment", "dashboard", "pricing", "retention"]


def _timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main(repeat: int = 15) -> dict:
    setup_django()
    from portal.models import User
    from portal.search import PROVIDERS, _load_providers, search

    user = User.objects.filter(username="pm").first() or User.objects.filter(role="pm").first()
    if user is None:
        print("== portal: global search == no demo data: run `manage.py seed_demo` first")
        return {}
    _load_providers()
    for q in QUERIES:  # warm up connections and plans
        search(q, user)
    full, base, kinds_found = [], [], set()
    for q in QUERIES:
        full += _timed(lambda q=q: search(q, user), repeat)
        base += _timed(lambda q=q: search(q, user, kinds=["product"]), repeat)
        kinds_found |= {r.kind for r in search(q, user)}
    p50, p95 = statistics.median(full), statistics.quantiles(full, n=20)[18]
    b50 = statistics.median(base)
    print(f"== portal: global search, {len(PROVIDERS)} providers, {len(QUERIES)} queries x {repeat} ==")
    print(f"all types: p50 {p50:.1f} ms, p95 {p95:.1f} ms; types with hits: {', '.join(sorted(kinds_found))}")
    print(f"baseline (products only): p50 {b50:.1f} ms; all-type search costs {p50 / b50:.1f}x the baseline")
    print(f"target p95 <= {TARGET_P95_MS:.0f} ms: {'MEETS TARGET' if p95 <= TARGET_P95_MS else 'MISSES TARGET'}")
    return {"search_p50_ms": p50, "search_p95_ms": p95, "baseline_p50_ms": b50, "types": sorted(kinds_found)}


if __name__ == "__main__":
    main()
