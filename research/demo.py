"""Research demo data: a panel with varied contact history, studies in every status, session
notes, highlights and published insights linked to evidence. Idempotent (natural keys:
participant email, study title, session study+participant, highlight session+excerpt,
insight statement) and deterministic (random.Random(5))."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from research.models import (
    ConsentRecord,
    ContactLog,
    EligibilityRule,
    Highlight,
    Incentive,
    Insight,
    InsightEvidence,
    Participant,
    Session,
    SessionStatus,
    Study,
    Tag,
)
from research.services import participant_stats_refresh

FIRST = [
    "Ana",
    "Ben",
    "Chloe",
    "Dev",
    "Emma",
    "Felix",
    "Grace",
    "Hugo",
    "Ines",
    "Jack",
    "Kira",
    "Leo",
    "Maya",
    "Nils",
    "Olga",
    "Pablo",
    "Quinn",
    "Rita",
    "Sam",
    "Tara",
    "Umar",
    "Vera",
    "Wes",
    "Xena",
    "Yuki",
    "Zane",
    "Lina",
    "Marco",
    "Nora",
    "Otto",
]
LAST = [
    "Almeida",
    "Brandt",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "Gupta",
    "Hall",
    "Ito",
    "Jensen",
    "Khan",
    "Lopez",
    "Moreau",
    "Novak",
    "Olsen",
    "Patel",
    "Quist",
    "Rossi",
    "Sato",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weiss",
    "Young",
    "Zhou",
]
COMPANIES = [
    "Northwind Outfitters",
    "Bluebird Bakery",
    "Helix Labs",
    "Orchard & Co",
    "Pine Street Books",
    "Quanta Freight",
    "Riverbend Clinics",
    "Summit Gear",
    "Tidewater Foods",
    "Umbra Studio",
    "Vantage Retail",
    "Willow Home",
    "Yardstick Tools",
    "Zephyr Travel",
    "Atlas Florals",
]
ROLES = ["Store owner", "Finance manager", "Operations lead", "Shopper", "Marketing manager", "Developer", "CFO"]
COUNTRIES = [
    ("US", "America/New_York"),
    ("GB", "Europe/London"),
    ("DE", "Europe/Berlin"),
    ("FR", "Europe/Paris"),
    ("BR", "America/Sao_Paulo"),
    ("IN", "Asia/Kolkata"),
    ("JP", "Asia/Tokyo"),
    ("MX", "America/Mexico_City"),
    ("NL", "Europe/Amsterdam"),
    ("SG", "Asia/Singapore"),
    ("AU", "Australia/Sydney"),
]
SOURCES = ["csv import", "in-app intercept", "support referral", "newsletter signup", "sales referral"]

GLOBAL_TAGS = [
    ("pricing", "Pricing & fees"),
    ("trust", "Trust & security"),
    ("speed", "Speed"),
    ("navigation", "Navigation"),
    ("payment-methods", "Payment methods"),
    ("delivery", "Delivery"),
    ("onboarding", "Onboarding"),
    ("accessibility", "Accessibility"),
    ("error-messages", "Error messages"),
    ("invoicing", "Invoicing"),
]

# title, products, method, status, questions, team, quotes as (text, tags)
STUDIES = [
    (
        "Checkout abandonment interviews",
        ["checkout"],
        "interview",
        "shared",
        "Why do shoppers leave at the payment step?\nWhich costs surprise them?",
        ["pm", "lucas"],
        [
            ("I only saw the delivery fee on the very last page and closed the tab", ["delivery", "pricing"]),
            ("Typing my card number on the phone is painful, I wanted Apple Pay", ["payment-methods"]),
            ("The coupon field made me go look for a code and I never came back", ["pricing"]),
            ("I was not sure the site was legit, there were no security badges", ["trust"]),
            ("The page froze after I pressed pay and I did not know if I was charged", ["speed", "error-messages"]),
        ],
    ),
    (
        "Guest checkout usability test",
        ["checkout"],
        "usability_test",
        "synthesis",
        "Can new shoppers check out without an account?",
        ["pm", "newpm"],
        [
            ("I could not find how to continue without creating an account", ["navigation", "onboarding"]),
            ("The error said invalid input but not which field was wrong", ["error-messages"]),
            ("Address autocomplete saved me a lot of typing", ["speed"]),
        ],
    ),
    (
        "Wallet adoption diary study",
        ["payments"],
        "diary",
        "fieldwork",
        "When do people choose a wallet over a card?",
        ["diego", "hana"],
        [
            ("I use the wallet when I am on the bus, cards when I am at my desk", ["payment-methods"]),
            ("I worry about what happens if I lose my phone with the wallet on it", ["trust"]),
        ],
    ),
    (
        "Invoice clarity interviews",
        ["billing"],
        "interview",
        "shared",
        "Can finance teams reconcile our invoices without contacting support?",
        ["mei", "liam"],
        [
            ("Our accountant cannot match the invoice lines to the purchase orders", ["invoicing"]),
            ("I did not understand the proration line and assumed we were overcharged", ["pricing", "invoicing"]),
            ("Downloading all invoices for the year took me an afternoon", ["invoicing", "speed"]),
            ("Surprise fees on the invoice make me question whether I can trust the vendor", ["pricing", "trust"]),
        ],
    ),
    (
        "Mobile search concept test",
        ["mobile", "storefront"],
        "concept_test",
        "recruiting",
        "Does visual search help shoppers find products faster?",
        ["jonas", "sofia"],
        [],
    ),
    (
        "Merchant dashboard needs",
        ["insights"],
        "interview",
        "planning",
        "Which numbers do merchants check every morning?",
        ["priya", "elena"],
        [],
    ),
    (
        "Fraud check friction survey",
        ["payments"],
        "survey",
        "archived",
        "How often do legitimate customers fail the fraud check?",
        ["omar"],
        [
            ("The extra verification step felt like the shop did not trust me", ["trust", "error-messages"]),
            ("I got a code by SMS but it expired before I could type it", ["speed", "error-messages"]),
        ],
    ),
    (
        "Product page trust signals",
        ["storefront"],
        "usability_test",
        "shared",
        "Which signals make shoppers trust a product page?",
        ["amara", "kwame"],
        [
            ("Reviews with photos convinced me more than the star rating", ["trust"]),
            ("I looked for the return policy before adding to cart", ["trust", "delivery"]),
            ("Shipping cost shown on the product page helped me decide", ["delivery", "pricing"]),
        ],
    ),
]

# statement, study title, confidence, tags, evidence [(kind, label, ref, url)], details
INSIGHTS = [
    (
        "Unexpected delivery fees at the last step are the top reason shoppers abandon checkout",
        "Checkout abandonment interviews",
        "high",
        ["pricing", "delivery"],
        [
            ("feedback_theme", "Feedback theme: shipping costs", "feedback.Theme:shipping-costs", ""),
            (
                "experiment",
                "Experiment: show shipping on cart page (+3.1% conversion)",
                "experiments:show-shipping-early",
                "",
            ),
        ],
        "Seven of eight participants mentioned **delivery fees** appearing late. Show total cost early.",
    ),
    (
        "Shoppers need visible security cues before entering card details",
        "Checkout abandonment interviews",
        "medium",
        ["trust", "payment-methods"],
        [("link", "Baymard: checkout trust seals", "", "https://baymard.com/blog/perceived-security-of-payment-form")],
        "Participants who doubted legitimacy paused at the card form.",
    ),
    (
        "Finance teams cannot reconcile invoices without purchase-order references",
        "Invoice clarity interviews",
        "high",
        ["invoicing"],
        [("feedback_theme", "Feedback theme: invoice matching", "feedback.Theme:invoice-matching", "")],
        "Add PO numbers per invoice line and a bulk export.",
    ),
    (
        "Surprise fees erode trust in the vendor, not just the purchase",
        "Invoice clarity interviews",
        "medium",
        ["pricing", "trust"],
        [],
        "Echoes what Checkout heard from shoppers: hidden costs hurt trust across products.",
    ),
    (
        "Return policy and photo reviews are the strongest trust signals on product pages",
        "Product page trust signals",
        "high",
        ["trust"],
        [("experiment", "Experiment: reviews with photos above the fold", "experiments:photo-reviews", "")],
        "",
    ),
    (
        "Verification steps read as distrust of the customer",
        "Fraud check friction survey",
        "low",
        ["trust", "error-messages"],
        [],
        "Word the step as protecting the buyer.",
    ),
    (
        "Field-level error messages are missing from guest checkout",
        "Guest checkout usability test",
        "medium",
        ["error-messages"],
        [],
        "Draft: waiting for two more sessions.",
    ),
]


def _rules() -> None:
    EligibilityRule.objects.get_or_create(
        name="Standard panel rules",
        defaults={
            "is_default": True,
            "description": "Protects the panel from over-contact.",
            "cooldown_days": 30,
            "max_sessions": 3,
            "window_days": 180,
            "no_show_limit": 2,
        },
    )
    EligibilityRule.objects.get_or_create(
        name="B2B customers (strict)",
        defaults={
            "description": "Account managers asked for a long cool-down.",
            "cooldown_days": 90,
            "max_sessions": 2,
            "window_days": 365,
            "no_show_limit": 1,
        },
    )


def _panel(rng: random.Random, size: int) -> list[Participant]:
    now = timezone.now()
    existing = set(Participant.objects.values_list("email", flat=True))
    new = []
    for i in range(size):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
        email = f"{first.lower()}.{last.lower()}{i}@customers.example.com"
        if email in existing:
            continue
        country, tz = COUNTRIES[rng.randrange(len(COUNTRIES))]
        new.append(
            Participant(
                name=f"{first} {last}",
                email=email,
                company=rng.choice(COMPANIES),
                role=rng.choice(ROLES),
                country=country,
                timezone=tz,
                source=rng.choice(SOURCES),
                opted_out=rng.random() < 0.04,
                attributes={
                    "plan": rng.choice(["free", "pro", "pro", "enterprise"]),
                    "platform": rng.choice(["web", "ios", "android"]),
                    "segment": rng.choice(["shopper", "shopper", "merchant"]),
                    "tenure_months": str(rng.randint(1, 60)),
                },
            )
        )
    Participant.objects.bulk_create(new)
    created = Participant.objects.filter(email__in=[p.email for p in new])
    consents, contacts = [], []
    for p in created:
        roll = rng.random()
        if roll < 0.85:
            consents.append(
                ConsentRecord(
                    participant=p,
                    scope="research",
                    granted=True,
                    granted_at=now - timedelta(days=rng.randint(10, 500)),
                    expires_at=now + timedelta(days=rng.randint(30, 700)),
                )
            )
        elif roll < 0.92:
            consents.append(
                ConsentRecord(
                    participant=p,
                    scope="research",
                    granted=True,
                    granted_at=now - timedelta(days=800),
                    expires_at=now - timedelta(days=30),
                )
            )
        else:
            consents.append(
                ConsentRecord(
                    participant=p,
                    scope="research",
                    granted=True,
                    granted_at=now - timedelta(days=300),
                    withdrawn_at=now - timedelta(days=rng.randint(1, 100)),
                )
            )
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 5])):
            at = now - timedelta(days=rng.randint(1, 400), hours=rng.randint(0, 23))
            kind = rng.choice(["invited", "invited", "scheduled", "attended", "attended", "no_show", "declined"])
            contacts.append(ContactLog(participant=p, kind=kind, at=at, note="earlier study"))
    ConsentRecord.objects.bulk_create(consents)
    ContactLog.objects.bulk_create(contacts)
    participant_stats_refresh(participant_ids=[p.pk for p in created])
    return list(Participant.objects.filter(erased_at__isnull=True).order_by("pk"))


NOTES_INTRO = "## Context\nRemote session, screen shared. Warm-up about how they shop online.\n\n## Observations\n"


def _study(rng, org, spec, panel, tags, quotes_per_session: int) -> Study:
    title, product_slugs, method, status, questions, team, quotes = spec
    now = timezone.now()
    researcher = org.users["researcher"]
    study, created = Study.objects.get_or_create(
        title=title,
        defaults={
            "method": method,
            "status": status,
            "research_questions": questions,
            "owner": researcher,
            "status_changed_at": now - timedelta(days=rng.randint(1, 40)),
            "screener": [{"attribute": "segment", "op": "eq", "value": "merchant"}]
            if product_slugs[0] in ("billing", "insights")
            else [],
        },
    )
    if not created:
        return study
    study.products.set([org.products[s] for s in product_slugs])
    study.team.set([org.users[u] for u in team if u in org.users])
    if not quotes:
        return study
    people = rng.sample(panel, min(len(panel), max(3, len(quotes) + 1)))
    base = now - timedelta(days=rng.randint(20, 120))
    for n, person in enumerate(people):
        at = base + timedelta(days=n * 2, hours=rng.randint(9, 16))
        ContactLog.objects.create(
            participant=person, study=study, kind="invited", at=at - timedelta(days=7), by=researcher
        )
        ContactLog.objects.create(
            participant=person, study=study, kind="scheduled", at=at - timedelta(days=5), by=researcher
        )
        done = status != "fieldwork" or n < len(people) - 1
        no_show = done and n == 1 and len(people) > 3
        session_status = (
            SessionStatus.NO_SHOW if no_show else SessionStatus.COMPLETED if done else SessionStatus.SCHEDULED
        )
        picked = (
            [quotes[(n + k) % len(quotes)] for k in range(min(quotes_per_session, len(quotes)))]
            if session_status == "completed"
            else []
        )
        notes = NOTES_INTRO + "".join(f"- {q}.\n" for q, _ in picked) if picked else ""
        session = Session.objects.create(
            study=study,
            participant=person,
            status=session_status,
            scheduled_at=at if done else now + timedelta(days=3),
            notes=notes,
            moderator=researcher,
            duration_minutes=rng.choice([30, 45, 60]),
        )
        if session_status != SessionStatus.SCHEDULED:
            ContactLog.objects.create(
                participant=person,
                study=study,
                at=at,
                by=researcher,
                kind="attended" if session_status == "completed" else "no_show",
            )
        if session_status == SessionStatus.COMPLETED:
            Incentive.objects.create(
                session=session,
                amount=Decimal(rng.choice([25, 50, 75])),
                currency="EUR" if person.country in ("DE", "FR", "NL") else "USD",
                status="paid" if status in ("shared", "archived") else "owed",
                paid_at=at + timedelta(days=3) if status in ("shared", "archived") else None,
            )
        for quote, tag_slugs in picked:
            h = Highlight.objects.create(
                session=session,
                study=study,
                participant=person,
                excerpt=quote,
                created_by=researcher,
                created_at=at + timedelta(hours=2),
            )
            h.tags.set([tags[t] for t in tag_slugs])
    return study


@transaction.atomic
def seed(org, *, small: bool = False) -> str:
    rng = random.Random(5)
    _rules()
    tags = {}
    for slug, name in GLOBAL_TAGS:
        tags[slug], _ = Tag.objects.get_or_create(slug=slug, study=None, defaults={"name": name})
    panel = _panel(rng, 60 if small else 400)
    studies = {spec[0]: _study(rng, org, spec, panel, tags, 2 if small else 3) for spec in STUDIES}
    researcher = org.users["researcher"]
    now = timezone.now()
    for statement, study_title, confidence, tag_slugs, evidence, details in INSIGHTS:
        if Insight.objects.filter(statement=statement).exists():
            continue
        study = studies[study_title]
        draft = study.status in ("synthesis",)
        insight = Insight.objects.create(
            statement=statement,
            details=details,
            study=study,
            confidence=confidence,
            created_by=researcher,
            status="draft" if draft else "published",
            published_at=None if draft else now - timedelta(days=rng.randint(1, 60)),
        )
        insight.products.set(list(study.products.all()))
        insight.tags.set([tags[t] for t in tag_slugs])
        matching = Highlight.objects.filter(study=study, tags__slug__in=tag_slugs).distinct()[:4]
        insight.highlights.set(list(matching))
        for kind, label, ref, url in evidence:
            InsightEvidence.objects.create(insight=insight, kind=kind, label=label, ref=ref, url=url)
    participant_stats_refresh(
        participant_ids=Participant.objects.filter(contacts__study__isnull=False)
        .values_list("pk", flat=True)
        .distinct()
    )
    return (
        f"{Participant.objects.count()} participants, {Study.objects.count()} studies, "
        f"{Session.objects.count()} sessions, {Highlight.objects.count()} highlights, "
        f"{Insight.objects.count()} insights"
    )
