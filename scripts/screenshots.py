"""`make screenshots`: README images of the key pages, from the demo data, in docs/img/.

Starts gunicorn on a free port against the same database as `make run` (loading the demo
first if it is empty), logs in as the demo users through a session cookie and saves one
1280x800 screenshot per page with Debian's Chromium.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.common import PROJECT_DIR, Gunicorn, session_cookie, setup_django

OUT = PROJECT_DIR / "docs" / "img"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pages() -> list[tuple[str, str, str]]:
    """(file name, user, path) for each README image; paths found from the demo data."""
    from experiments.models import Experiment

    experiment = (
        Experiment.objects.filter(product__slug="checkout", snapshots__isnull=False).order_by("-started_at").first()
    )
    result = [
        ("home.png", "pm", "/"),
        ("product-health.png", "pm", "/analytics/checkout/d/product-health/"),
        ("signal-dashboard.png", "pm", "/feedback/"),
        ("onboarding-today.png", "newpm", "/onboarding/today/"),
    ]
    if experiment is not None:
        result.insert(2, ("experiment-results.png", "pm", f"/experiments/{experiment.key}/"))
    return result


def main() -> int:
    setup_django()
    subprocess.run([sys.executable, "manage.py", "seed_demo", "--if-empty"], cwd=PROJECT_DIR, check=True)
    from django.conf import settings
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with Gunicorn() as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for filename, username, path in pages():
            cookie_value = session_cookie(username).split("=", 1)[1]
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": cookie_value,
                        "url": f"http://127.0.0.1:{server.port}",
                    }
                ]
            )
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{server.port}{path}")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(800)  # let plotly finish drawing
            target = Path(OUT / filename)
            page.screenshot(path=str(target))
            print(f"{target.relative_to(PROJECT_DIR)}  ({username} {path})")
            context.close()
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
