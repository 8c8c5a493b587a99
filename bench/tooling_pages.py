"""Tooling's busiest pages (documents list, a document, the roadmap portfolio, launches)
under 10 concurrent logged-in clients against gunicorn, beside the portal home page as the
baseline measured in the same run. Needs the demo (`manage.py seed_demo`)."""

from __future__ import annotations

from bench.common import Gunicorn, load, session_cookie, setup_django, verdict

TARGET_P95_MS = 400.0


def main(seconds: float = 8.0) -> dict:
    setup_django()
    from tooling.models import Document

    document = Document.objects.order_by("id").first()
    if document is None:
        print("tooling bench: no documents; run `manage.py seed_demo` first")
        return {}
    cookie = session_cookie("pm")
    pages = [
        "/tooling/documents/",
        document.get_absolute_url(),
        "/tooling/roadmap/",
        "/tooling/launches/",
        "/tooling/adoption/",
    ]
    with Gunicorn() as server:
        # warm up every worker: each imports the URLconf (every app's views) on its first request
        load(server.port, pages + ["/"], cookie=cookie, concurrency=12, seconds=3)
        tooling = load(server.port, pages, cookie=cookie, concurrency=10, seconds=seconds)
        home = load(server.port, ["/"], cookie=cookie, concurrency=10, seconds=seconds)
    print("== tooling: documents, document, roadmap portfolio, launches, adoption; 10 concurrent clients ==")
    print(tooling.line("tooling pages (mixed)"))
    print(home.line("GET / (baseline)"))
    ratio = tooling.rps / home.rps if home.rps else 0
    ok = tooling.p95 <= TARGET_P95_MS and tooling.errors == 0
    print(f"tooling throughput is {ratio:.2f}x the home page's; target p95 <= {TARGET_P95_MS:.0f} ms: {verdict(ok)}")
    return {"tooling_rps": tooling.rps, "tooling_p95_ms": tooling.p95, "home_rps": home.rps}


if __name__ == "__main__":
    main()
