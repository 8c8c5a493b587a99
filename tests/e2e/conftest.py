"""Browser journeys: Playwright driving Debian's Chromium against a live server.

The browser must start: if it cannot, the run fails with the reason (nothing is skipped
silently). Each journey saves a screenshot of its key page in test-artifacts/e2e/; a failure
also saves the page's HTML and console errors there. Console errors fail the test.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium package.")
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        except Exception as exc:  # noqa: BLE001 - fail loudly with the reason
            pytest.fail(f"Chromium did not start: {exc}")
        yield browser
        browser.close()


class Journey:
    """A logged-in browser page that records console errors and failed requests."""

    def __init__(self, page, base_url: str, name: str):
        self.page = page
        self.base_url = base_url
        self.name = name
        self.console_errors: list[str] = []
        page.on("console", lambda msg: msg.type == "error" and self.console_errors.append(msg.text))
        page.on("pageerror", lambda exc: self.console_errors.append(str(exc)))

    def goto(self, path: str):
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.status < 400, f"{path} answered {response and response.status}"
        return response

    def login(self, username: str, password: str = "pw"):
        self.page.goto(self.base_url + "/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state("networkidle")

    def screenshot(self, label: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{re.sub(r'[^a-z0-9]+', '-', label.lower())}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def wait_for_charts(self, timeout: float = 10_000):
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('[data-chart]')].every(e => e.getAttribute('data-drawn'))",
            timeout=timeout,
        )

    def axe_violations(self, impacts=("serious", "critical")) -> list[dict]:
        if not AXE_JS.exists():
            pytest.fail(f"axe-core not found at {AXE_JS}: `make test` installs it from npm.")
        # evaluate() runs through the DevTools protocol, so the page's CSP (no inline
        # scripts) stays enforced for the page itself.
        self.page.evaluate(AXE_JS.read_text() + "\n;void 0")
        result = self.page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [
            {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:3]]}
            for v in result["violations"]
            if v["impact"] in impacts
        ]

    def assert_accessible(self):
        violations = self.axe_violations()
        assert violations == [], f"axe found serious/critical issues on {self.page.url}: {violations}"

    def assert_no_console_errors(self):
        assert self.console_errors == [], f"JavaScript console errors: {self.console_errors}"


@pytest.fixture
def journey(request, browser, live_server):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, timezone_id="Europe/London")
    page = context.new_page()
    page.set_default_timeout(30_000)
    j = Journey(page, live_server.url, request.node.name)
    yield j
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / f"{j.name}-failure.html").write_text(page.content())
        (ARTIFACTS / f"{j.name}-console.txt").write_text("\n".join(j.console_errors))
        page.screenshot(path=str(ARTIFACTS / f"{j.name}-failure.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
