"""Demo feedback: a seeded generator with recurring themes, a spike and NPS/CSAT responses.

`generate()` is pure (also used by bench/feedback_aggregation.py); `seed()` stores the
items through items_ingest and processes them synchronously (no worker needed).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

# product -> theme key -> phrasings ({x} filled from the theme's fillers)
THEMES: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "checkout": {
        "apple_pay": (
            [
                "Apple Pay button {x} at checkout",
                "Can't pay with Apple Pay: the button {x}",
                "Apple Pay {x} on the payment step, had to type my card",
                "Please fix Apple Pay, it {x} since the update",
            ],
            ["is missing", "does nothing", "disappears", "spins forever", "fails on iPhone"],
        ),
        "promo_codes": (
            ["Promo code field {x}", "Discount code {x} at checkout", "Our customers say the coupon code {x}"],
            ["rejects valid codes", "is hard to find", "doesn't stack with sale prices", "clears when I go back"],
        ),
        "guest_checkout": (
            [
                "Forcing account creation before checkout {x}",
                "Need guest checkout, signup wall {x}",
                "Guest checkout please, mandatory registration {x}",
            ],
            ["loses us orders", "is annoying", "kills conversion", "makes people abandon the cart"],
        ),
        "address_form": (
            ["Address form {x}", "Shipping address autocomplete {x}", "Postcode validation {x}"],
            ["rejects Irish addresses", "is slow on mobile", "picks the wrong street", "breaks for PO boxes"],
        ),
    },
    "storefront": {
        "search_relevance": (
            ["Search results {x}", "Product search {x}", "Searching for exact product names {x}"],
            ["are irrelevant", "ignore typos", "show out of stock items first", "don't find SKUs"],
        ),
        "filters": (
            ["Size filter {x}", "Filters on category pages {x}", "Colour and price filters {x}"],
            ["reset when scrolling", "are missing for shoes", "are slow to apply", "show wrong counts"],
        ),
        "page_speed": (
            ["Product pages {x}", "Category page images {x}", "Storefront {x} on 4G"],
            ["load slowly", "take 8 seconds to load", "are heavy and slow", "time out"],
        ),
    },
    "payments": {
        "card_declines": (
            ["Cards {x} for our international buyers", "Legit card payments {x}", "Visa cards {x} with no reason"],
            ["get declined", "are declined by fraud checks", "fail 3DS", "are declined twice"],
        ),
        "payouts": (
            ["Payouts {x}", "Merchant payout schedule {x}", "Our payout to the bank {x}"],
            ["arrive late", "are delayed by three days", "are missing a reconciliation report", "failed silently"],
        ),
        "refunds": (
            ["Refunds {x}", "Partial refund {x}", "Refund status {x}"],
            ["take two weeks", "are stuck in pending", "cannot be issued from the dashboard", "is unclear"],
        ),
    },
    "billing": {
        "invoice_format": (
            ["Invoices {x}", "Invoice PDF {x}", "VAT invoices {x}"],
            ["miss our PO number", "need a VAT breakdown", "cannot be customised", "show the wrong address"],
        ),
        "dunning": (
            ["Dunning emails {x}", "Failed payment retries {x}", "Payment reminder emails {x}"],
            ["are too aggressive", "go to the wrong contact", "cancel accounts too fast", "are confusing"],
        ),
        "proration": (
            ["Proration on plan upgrades {x}", "Proration of mid-cycle seat changes {x}", "Upgrade charges {x}"],
            ["are confusing", "double charge us", "are not explained on the invoice", "are calculated wrong"],
        ),
    },
    "mobile": {
        "crashes": (
            ["App crashes {x}", "The Android app crashes {x}", "iOS app freezes and crashes {x}"],
            ["on launch", "when opening the cart", "after the latest update", "when switching tabs"],
        ),
        "login": (
            ["Login {x}", "Face ID login {x}", "I get logged out {x}"],
            ["fails every morning", "keeps asking for my password", "all the time", "after every update"],
        ),
        "dark_mode": (
            ["Please add dark mode {x}", "Dark mode {x}", "Need a dark theme {x}"],
            ["for night shopping", "would be great", "is the one thing missing", "to save battery"],
        ),
        "notifications": (
            ["Push notifications {x}", "Too many push notifications {x}", "Order notifications {x}"],
            ["are spammy", "arrive hours late", "cannot be turned off per type", "are duplicated"],
        ),
    },
    "insights": {
        "export": (
            ["Export to CSV {x}", "Dashboard export {x}", "Scheduled report export {x}"],
            ["is missing", "times out on big ranges", "drops columns", "should support Excel"],
        ),
        "data_freshness": (
            ["Dashboard data {x}", "Sales numbers {x}", "Revenue charts {x}"],
            ["are a day behind", "lag by hours", "don't match our orders", "update too slowly"],
        ),
        "custom_metrics": (
            ["Custom metrics {x}", "We need custom KPIs {x}", "Building our own metrics {x}"],
            ["are too limited", "for margin", "is impossible", "with formulas"],
        ),
    },
}
PRAISE = [
    "Love the new design, great job",
    "Works well for us, thanks team",
    "Support was quick and helpful",
    "Very happy with the product overall",
    "Easy to use and reliable",
]
OPENERS = ["", "Hi team, ", "Honestly ", "FYI: ", "Again: ", "", "Quick note - ", ""]
CLOSERS = ["", " Please fix.", " This is really frustrating.", " Thanks!", " Costing us sales.", "", " :(", ""]
SPIKE = ("checkout", "apple_pay")

SEGMENTS = [("enterprise", 0.12, (150_000, 900_000)), ("mid_market", 0.3, (30_000, 150_000)),
            ("smb", 0.58, (2_000, 30_000))]  # fmt: skip
NAME_A = ["Acme", "Northwind", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent",
          "Cyberdyne", "Tyrell", "Wonka", "Gringotts", "Oscorp", "Aperture", "Black Mesa", "Blue Sun", "Monarch",
          "Pied Piper", "Dunder", "Prestige", "Sterling", "Bluth", "Krusty", "Duff", "Nakatomi", "Massive"]  # fmt: skip
NAME_B = ["Retail", "Outfitters", "Foods", "Supply", "Goods", "Market", "Home", "Sports", "Labs", "Trading"]
FIRST = ["Alex", "Sam", "Jordan", "Maria", "Chen", "Priya", "Lars", "Fatima", "Tom", "Aiko", "Luca", "Noor"]
LAST = ["Smith", "Garcia", "Nguyen", "Müller", "Rossi", "Khan", "Okoro", "Silva", "Tanaka", "Dubois"]

SOURCES = [
    ("zendesk", "Zendesk support", "support"),
    ("intercom", "Intercom chats", "support"),
    ("nps-survey", "Quarterly NPS survey", "nps"),
    ("csat-survey", "Post-ticket CSAT", "csat"),
    ("interviews", "Customer interviews", "interview"),
    ("app-store", "App Store & Google Play reviews", "app_review"),
    ("sales-notes", "Sales call notes", "sales"),
]

AREAS = {
    "checkout": [("Payment step", "apple pay, card, payment"), ("Promotions", "promo, coupon, discount"),
                 ("Account & guest", "guest, signup, registration, account creation"),
                 ("Address", "address, postcode, shipping")],
    "storefront": [("Search", "search, searching"), ("Browse & filters", "filter, filters, category"),
                   ("Performance", "slow, load, speed")],
    "payments": [("Authorisation", "declined, decline, 3ds"), ("Payouts", "payout, payouts"),
                 ("Refunds", "refund, refunds")],
    "billing": [("Invoices", "invoice, invoices, vat"), ("Collections", "dunning, reminder, retries"),
                ("Plans", "proration, upgrade, seat")],
    "mobile": [("Stability", "crash, crashes, freezes"), ("Sign-in", "login, face id, logged out"),
               ("Notifications", "notification, notifications")],
    "insights": [("Reporting", "export, report, csv"), ("Data pipeline", "data, numbers, lag"),
                 ("Metrics", "metric, metrics, kpi")],
}  # fmt: skip


def accounts(rng: random.Random, n: int) -> list[dict]:
    out, seen = [], set()
    while len(out) < n:
        name = f"{rng.choice(NAME_A)} {rng.choice(NAME_B)}"
        if len(seen) >= len(NAME_A) * len(NAME_B) // 2:  # keep drawing unique names quickly
            name = f"{name} {len(out) + 1}"
        if name in seen:
            continue
        seen.add(name)
        segment, _share, (lo, hi) = rng.choices(SEGMENTS, weights=[share for _s, share, _r in SEGMENTS])[0]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        slug = name.lower().replace(" ", "")
        out.append({
            "name": name, "segment": segment, "arr": round(rng.uniform(lo, hi), -2),
            "contacts": [{"name": f"{first} {last}", "email": f"{first.lower()}.{last.lower()}@{slug}.example"}],
        })  # fmt: skip
    return out


def _sentence(rng: random.Random, product: str, theme: str) -> str:
    phrasings, fillers = THEMES[product][theme]
    text = rng.choice(phrasings).format(x=rng.choice(fillers))
    return f"{rng.choice(OPENERS)}{text}.{rng.choice(CLOSERS)}".strip()


def generate(n: int, *, seed: int = 7, today: datetime | None = None, weeks: int = 16, n_accounts: int = 150):
    """n believable feedback items over `weeks` weeks, with a spike in the last week."""
    return [item for item, _theme in generate_labelled(n, seed=seed, today=today, weeks=weeks, n_accounts=n_accounts)]


def generate_labelled(
    n: int, *, seed: int = 7, today: datetime | None = None, weeks: int = 16, n_accounts: int = 150
) -> list[tuple[dict, tuple[str, str] | None]]:
    """`generate`'s items, each with the (product, theme key) it was written for, or None for
    praise (no theme): the ground truth for checking the clustering."""
    rng = random.Random(seed)
    today = today or datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    accts = accounts(rng, n_accounts)
    products = list(THEMES)
    # a theme's popularity differs by product and drifts over time
    weights = {(p, t): rng.uniform(0.5, 2.0) for p in products for t in THEMES[p]}
    spike_count = max(8, n // 60)
    items = []
    for i in range(n):
        spike = i < spike_count
        if spike:
            product, theme = SPIKE
            days_ago = rng.uniform(0, 5)
        else:
            product = rng.choice(products)
            themes = list(THEMES[product])
            theme = rng.choices(themes, weights=[weights[(product, t)] for t in themes])[0]
            days_ago = rng.uniform(0, weeks * 7)
        source, _name, kind = rng.choices(SOURCES, weights=[30, 15, 20, 12, 4, 12, 7])[0]
        if product != "mobile" and source == "app-store":
            source, kind = "zendesk", "support"
        account = rng.choice(accts)
        text = _sentence(rng, product, theme)
        truth: tuple[str, str] | None = (product, theme)
        rating = None
        if kind == "nps":
            base = {"enterprise": 9, "mid_market": 8.5, "smb": 7.5}[account["segment"]]
            rating = max(0, min(10, round(rng.gauss(base - (2 if spike else 0), 2.2))))
            if rating >= 9 and rng.random() < 0.6:
                text, truth = rng.choice(PRAISE), None
        elif kind == "csat":
            rating = max(1, min(5, round(rng.gauss(3.9, 1.1))))
            if rating >= 4 and rng.random() < 0.5:
                text, truth = rng.choice(PRAISE), None
        elif kind == "app_review":
            rating = max(1, min(5, round(rng.gauss(3.0, 1.3))))
        created = today - timedelta(days=days_ago, minutes=rng.randint(0, 600))
        item = {
            "source": source,
            "external_id": f"{source}-{seed}-{i:06d}",
            "text": text,
            "rating": rating,
            "account": {"name": account["name"], "segment": account["segment"], "arr": account["arr"],
                        "contacts": account["contacts"]},
            "product": product,
            "created_at": created.isoformat(),
        }  # fmt: skip
        if rng.random() < 0.01 and items:  # the same ticket forwarded twice
            dup = dict(items[-1][0], external_id=f"{source}-{seed}-{i:06d}-fw")
            dup["source"] = source
            item, truth = dup, items[-1][1]
        items.append((item, truth))
    return items


def seed(org, *, small: bool = False) -> str:
    from django.db import transaction

    from feedback import services
    from feedback.models import FeedbackItem, FeedbackSource, ItemState, ProductArea

    with transaction.atomic():
        for slug, name, kind in SOURCES:
            FeedbackSource.objects.get_or_create(slug=slug, defaults={"name": name, "kind": kind})
        for product_slug, areas in AREAS.items():
            product = org.products.get(product_slug)
            if product is None:
                continue
            for priority, (name, keywords) in enumerate(areas, start=1):
                ProductArea.objects.get_or_create(
                    product=product, name=name, defaults={"keywords": keywords, "priority": priority * 10}
                )
    # the clock is fixed to "today at noon" so reseeding the same day changes nothing
    items = generate(300 if small else 3000, seed=7)
    for start in range(0, len(items), services.MAX_ITEMS_PER_REQUEST):
        services.items_ingest(items=items[start : start + services.MAX_ITEMS_PER_REQUEST])
    pending = list(FeedbackItem.objects.exclude(state=ItemState.PROCESSED).values_list("id", flat=True))
    services.items_process(item_ids=pending)
    for product in [None, *org.products.values()]:
        services.themes_recluster(product=product)
    # second pass: items that arrived before their product had themes join them now
    services.items_process(item_ids=list(FeedbackItem.objects.filter(theme__isnull=True).values_list("id", flat=True)))
    services.signals_refresh(all_products=True)
    links = _seed_loop(org)
    return f"{FeedbackItem.objects.count():,} feedback items, {len(SOURCES)} sources, {links} roadmap links"


# roadmap items that answer demo themes: (product, title, status, owner, theme keyword)
LOOP = [
    ("checkout", "Apple Pay button reliability fix", "shipped", "pm", "apple"),
    ("checkout", "Guest checkout", "in_progress", "newpm", "guest"),
    ("mobile", "Dark mode", "planned", "zoe", "dark"),
    ("insights", "CSV and Excel export", "shipped", "elena", "export"),
]


def _seed_loop(org) -> int:
    """Link demo themes to roadmap items (made through tooling's service), as a PM would."""
    from feedback import services
    from feedback.models import RoadmapLink, Theme

    try:
        from tooling.models import RoadmapItem
        from tooling.services import roadmap_item_create
    except ImportError:  # tooling not installed
        return 0
    for slug, title, status, owner, keyword in LOOP:
        product = org.products.get(slug)
        if product is None:
            continue
        user = org.users.get(owner) or product.pm_owner
        roadmap_item = RoadmapItem.objects.filter(product=product, title=title).first()
        if roadmap_item is None:
            roadmap_item = roadmap_item_create(
                product=product, title=title, by=user, status=status, owner=user, horizon="now"
            )
        themes = [t for t in Theme.objects.filter(product=product) if any(keyword in term for term in t.top_terms[:3])]
        theme = max(themes, key=lambda t: t.size, default=None)
        if theme is not None:
            services.roadmap_link_create(roadmap_item=roadmap_item, theme=theme, by=org.users["ops"])
    services.shipped_loops_notify()
    return RoadmapLink.objects.count()
