"""UX quality: key pages fit a laptop-width window without horizontal scrolling, and keyboard
focus is visible."""

from pathlib import Path

import pytest

from tests.factories import ProductFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

KEY_PAGES = [
    "/",
    "/analytics/",
    "/experiments/",
    "/experiments/new/",
    "/feedback/",
    "/onboarding/",
    "/research/",
    "/research/insights/",
    "/tooling/",
    "/tooling/documents/",
    "/search/?q=checkout",
]

OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.right <= width + 1) return false;
    // content inside a horizontally scrollable container (wide tables) is fine
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') return false;
    }
    return true;
  });
  return {scroll: document.documentElement.scrollWidth, width,
          culprits: wide.slice(0, 3).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
            + (typeof e.className === 'string' && e.className ? '.' + e.className.split(' ').join('.') : ''))};
}"""

TOPBAR_CLIPPED = """() => {
  const bar = document.querySelector('.topbar').getBoundingClientRect();
  const menu = document.querySelector('.usermenu').getBoundingClientRect();
  return menu.bottom > bar.bottom + 1 || menu.right > bar.right + 1;
}"""


@pytest.fixture
def pm_user(db):
    product = ProductFactory(name="Checkout", slug="checkout", description="Cart and checkout flow")
    user = UserFactory(username="paula", first_name="Paula", last_name="Martins", role="pm")
    product.members.add(user)
    return user


@pytest.mark.parametrize("width", [1280, 1024])
def test_key_pages_have_no_horizontal_overflow(journey, pm_user, width):
    journey.page.set_viewport_size({"width": width, "height": 800})
    journey.login("paula")
    problems = []
    for path in KEY_PAGES:
        journey.goto(path)
        journey.page.wait_for_load_state("networkidle")
        result = journey.page.evaluate(OVERFLOW)
        # the top bar may wrap on narrow windows, but nothing in it may slip under the page below it
        if journey.page.evaluate(TOPBAR_CLIPPED):
            problems.append(f"{path}: the top bar's user menu is cut off at {width}px")
        if result["scroll"] > result["width"] + 1:
            problems.append(f"{path}: {result['scroll']}px wide in a {result['width']}px window {result['culprits']}")
    assert problems == []
    journey.assert_no_console_errors()


def test_keyboard_focus_is_visible(journey, pm_user):
    journey.login("paula")
    page = journey.page
    seen = []
    for _ in range(6):
        page.keyboard.press("Tab")
        style = page.evaluate(
            """() => { const e = document.activeElement; const s = getComputedStyle(e);
                 return {tag: e.tagName, text: (e.innerText || e.value || '').slice(0, 30),
                         outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0,
                         shadow: s.boxShadow !== 'none'}; }"""
        )
        seen.append(style)
    invisible = [s for s in seen if not (s["outline"] or s["shadow"])]
    assert seen[0]["text"].startswith("Skip to content")
    assert invisible == [], f"focused elements without a visible focus ring: {invisible}"


def test_every_table_has_a_csv_download_of_the_whole_list(journey, pm_user):
    """The link portal.js adds under a table downloads that table as CSV (all pages of it)."""
    from tests.experiments.factories import make_experiment

    product = pm_user.products.get()
    for i in range(27):  # more than one page of the library (25)
        make_experiment(by=pm_user, product=product, key=f"e2e-csv-{i}", name=f"Download check {i:02d}")
    journey.login("paula")
    journey.goto("/experiments/")
    link = journey.page.locator("main .table-tools a.table-csv")
    assert link.count() == journey.page.locator("main table").count() >= 1
    with journey.page.expect_download() as info:
        link.first.click()
    download = info.value
    assert download.suggested_filename == "experiments.csv"
    lines = Path(download.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("Experiment,Product,Status")
    assert sum("Download check" in line for line in lines) == 27
    journey.assert_no_console_errors()
