"""Template adoption figures (ops page and portal scorecard) over every document, timed
against a plain COUNT(*) of documents as the baseline in the same run."""

from __future__ import annotations

import statistics
import time

from bench.common import setup_django, verdict

TARGET_MS = 250.0


def _time(fn, repeat: int = 15) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def main() -> dict:
    setup_django()
    from tooling import selectors
    from tooling.models import Document

    n = Document.objects.count()
    adoption = _time(selectors.template_adoption_summary)
    baseline = _time(lambda: Document.objects.count())
    print(f"== tooling: template adoption summary over {n:,} documents ==")
    print(f"template_adoption_summary()   median {adoption:7.1f} ms")
    print(f"COUNT(*) documents (baseline) median {baseline:7.1f} ms")
    ratio = adoption / baseline if baseline else 0
    print(f"adoption costs {ratio:.1f}x a count; target <= {TARGET_MS:.0f} ms: {verdict(adoption <= TARGET_MS)}")
    return {"adoption_ms": adoption, "count_ms": baseline, "documents": n}


if __name__ == "__main__":
    main()
