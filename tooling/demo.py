"""Demo data for tooling (seed_demo): standard templates (PRD in two versions), checklist
templates per launch tier, PRDs in every status for every product, roadmaps and launches.

Idempotent: documents, roadmap items and launches are keyed on (product, title/feature).
Deterministic: random.Random(6) drives every choice.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from tooling import services
from tooling.models import (
    ChecklistTemplateItem,
    Document,
    Launch,
    ReviewRequest,
    RoadmapChange,
    RoadmapItem,
    TemplateVersion,
)
from tooling.selectors import quarter_of
from tooling.standard_templates import install

# tier, title, owner role, offset days, required
CHECKLIST = [
    ("PRD approved and linked", "PM", -28, True),
    ("Legal and privacy review", "Legal", -21, True),
    ("Security review", "Engineering", -21, True),
    ("Experiment readout shared", "PM", -14, True),
    ("Support macros and help-centre article", "Support", -14, True),
    ("Sales and CS enablement session", "Marketing", -10, True),
    ("Press release and blog post", "Marketing", -7, True),
    ("Feature flag rollout plan (1% → 100%)", "Engineering", -7, True),
    ("Dashboards and alerts for the launch metrics", "Analytics", -7, True),
    ("Localisation for launch markets", "Engineering", -10, False),
    ("Go/no-go meeting", "PM", -1, True),
    ("Launch-day monitoring rota", "Engineering", 0, True),
    ("Customer email / in-app announcement", "Marketing", 0, False),
    ("Post-launch review of metrics", "PM", 7, True),
    ("Retro written", "PM", 14, False),
]
TIER_ITEMS = {
    "T1": [c[0] for c in CHECKLIST],
    "T2": [
        "PRD approved and linked",
        "Legal and privacy review",
        "Support macros and help-centre article",
        "Feature flag rollout plan (1% → 100%)",
        "Dashboards and alerts for the launch metrics",
        "Go/no-go meeting",
        "Customer email / in-app announcement",
        "Post-launch review of metrics",
    ],
    "T3": [
        "PRD approved and linked",
        "Support macros and help-centre article",
        "Feature flag rollout plan (1% → 100%)",
        "Post-launch review of metrics",
    ],
}

# Per product: roadmap items (title, horizon, status, quarter offset, reach, impact, confidence, effort)
FEATURES = {
    "checkout": [
        ("One-tap checkout with saved wallets", "now", "in_progress", 0, 42000, 2, 80, 4),
        ("Address autocomplete in 12 markets", "now", "planned", 0, 38000, 1, 80, 2),
        ("Guest checkout without account creation", "next", "planned", 1, 25000, 2, 50, 3),
        ("Buy now, pay later at checkout", "next", "idea", 1, 12000, 2, 50, 6),
        ("Order confirmation redesign", "later", "idea", 2, 50000, 0.5, 80, 1),
        ("Cart recovery emails", "now", "shipped", -1, 18000, 1, 100, 2),
        ("Split payments between cards", "later", "dropped", 3, 3000, 1, 20, 5),
    ],
    "storefront": [
        ("Semantic search for the catalogue", "now", "in_progress", 0, 90000, 2, 80, 6),
        ("Product comparison tables", "next", "planned", 1, 30000, 1, 50, 3),
        ("Personalised home page", "next", "idea", 1, 80000, 1, 50, 8),
        ("Faster product pages (Core Web Vitals)", "now", "shipped", -1, 120000, 0.5, 100, 3),
        ("Visual search from photos", "later", "idea", 3, 15000, 2, 20, 9),
        ("Size guide for apparel", "later", "planned", 2, 20000, 1, 80, 1),
    ],
    "payments": [
        ("3-D Secure 2 frictionless flow", "now", "in_progress", 0, 60000, 2, 80, 5),
        ("Real-time fraud scoring v2", "now", "planned", 0, 70000, 3, 50, 8),
        ("Local payment methods in LATAM (Pix, OXXO)", "next", "planned", 1, 20000, 3, 80, 6),
        ("Apple Pay on web", "now", "shipped", -1, 30000, 1, 100, 2),
        ("Network tokenisation", "later", "idea", 2, 80000, 0.5, 50, 6),
        ("Chargeback self-service", "next", "idea", 2, 4000, 1, 50, 3),
    ],
    "billing": [
        ("Usage-based pricing", "now", "in_progress", 0, 2500, 3, 50, 9),
        ("Smart dunning retries", "now", "planned", 0, 4000, 2, 80, 3),
        ("Self-serve plan changes", "next", "planned", 1, 6000, 1, 80, 4),
        ("E-invoicing for EU mandates", "next", "planned", 2, 3000, 2, 100, 6),
        ("Invoice PDF redesign", "later", "idea", 3, 8000, 0.25, 80, 1),
    ],
    "mobile": [
        ("Offline wishlist", "now", "in_progress", 0, 35000, 1, 80, 3),
        ("Push notification preferences centre", "now", "planned", 0, 60000, 0.5, 80, 2),
        ("Android tablet layout", "next", "planned", 1, 12000, 1, 50, 4),
        ("In-app returns", "next", "idea", 2, 22000, 2, 50, 6),
        ("Dark mode", "now", "shipped", -1, 70000, 0.5, 100, 2),
        ("AR try-on", "later", "idea", 3, 8000, 2, 20, 10),
    ],
    "insights": [
        ("Cohort retention dashboard for merchants", "now", "in_progress", 0, 9000, 2, 80, 4),
        ("Scheduled CSV exports", "now", "planned", 0, 12000, 1, 100, 1),
        ("Benchmarks against similar merchants", "next", "idea", 1, 9000, 2, 50, 5),
        ("Anomaly alerts", "next", "planned", 1, 7000, 2, 50, 4),
        ("Natural-language questions", "later", "idea", 3, 10000, 3, 20, 9),
    ],
}

PRD_TEXT = {
    "summary": "We will ship **{feature}** for {product} so that customers {benefit}. We expect it to {metric}.",
    "problem": (
        "Today {product} customers {pain}. In the last quarter's research, 7 of 12 interviewed customers "
        "mentioned it unprompted, and it is the #2 feedback theme for {product}.\n\n"
        "- Affects roughly {reach:,} people per quarter\n- Worst in {market}"
    ),
    "goals": (
        "**Primary:** {metric_short} by {target}% within 8 weeks of full rollout.\n\n"
        "**Guardrails:** refund rate, support contacts per 1,000 orders, p95 page load."
    ),
    "evidence": (
        "- Insight: customers abandon when {pain_short}\n- Feedback theme: “{theme}”\n"
        "- Experiment: the prototype test lifted the primary metric by {lift}% (95% CI 0.4% to 2.9%)"
    ),
    "non_goals": "- A redesign of the whole flow\n- Markets outside {market} in the first release",
    "solution": (
        "1. Entry point where the customer first needs it\n2. Defaults from what we already know\n"
        "3. A clear way back\n\nDesigns: see the Figma file linked in the roadmap item."
    ),
    "rollout": "Behind an experiment at 50/50 for two weeks; launch tier T{tier}; {market} first.",
    "open_questions": "- [ ] Do we need legal review in EMEA?\n- [x] Which metric is primary? (decided: conversion)",
}
BENEFITS = [
    ("finish faster", "raise conversion", "checkout conversion up", "drop off at the last step", "the last step"),
    ("find what they want", "lift search-to-cart", "search-to-cart rate up", "cannot find items", "search fails"),
    ("pay without friction", "cut payment failures", "authorisation rate up", "see cards declined", "cards decline"),
    ("trust their invoices", "reduce billing tickets", "billing tickets down", "dispute invoices", "invoices confuse"),
    ("shop on the go", "lift app retention", "week-4 retention up", "lose their progress", "they go offline"),
]
MARKETS = ["North America", "EMEA", "APAC", "LATAM"]

# status plan per product: (status, template version number, completeness)
DOC_PLAN = ["draft", "in_review", "approved", "shipped", "archived", "in_review", "draft"]


def _fill(document: Document, rng: random.Random, *, complete: bool, ctx: dict) -> dict[str, str]:
    bodies = {}
    for section in document.sections.all():
        text = PRD_TEXT.get(section.key)
        if text is None:
            text = f"{section.title} for {ctx['feature']}: to be agreed with the {ctx['product']} team."
        if not complete and section.required and rng.random() < 0.5:
            continue
        bodies[section.key] = text.format(**ctx)
    return bodies


def _seed_checklists() -> None:
    by_title = {c[0]: c for c in CHECKLIST}
    for tier, titles in TIER_ITEMS.items():
        for order, title in enumerate(titles):
            _, role, offset, required = by_title[title]
            ChecklistTemplateItem.objects.get_or_create(
                tier=tier,
                title=title,
                defaults={"owner_role": role, "offset_days": offset, "required": required, "order": order},
            )


def _backdate(model, pk: int, **fields) -> None:
    model.objects.filter(pk=pk).update(**fields)


@transaction.atomic
def seed(org, *, small: bool = False) -> str:
    rng = random.Random(6)
    ops = org.users.get("ops")
    templates = install(by=ops)
    _seed_checklists()
    prd = templates["prd"]
    prd_v1 = TemplateVersion.objects.get(template=prd, number=1)
    prd_v2 = TemplateVersion.objects.get(template=prd, number=2)
    now = timezone.now()
    today = timezone.localdate()
    # v1 went out months before v2 (update() on purpose: published versions refuse save())
    fresh = TemplateVersion.objects.filter(published_at__gt=now - timedelta(days=2))
    fresh.filter(number=1).update(published_at=now - timedelta(days=240))
    fresh.filter(template=prd, number=2).update(published_at=now - timedelta(days=45))
    product_slugs = list(org.products)[: 2 if small else None]
    reviewers_pool = [u for u in org.pms if u.username not in ("newpm",)] + [ops, org.users.get("ravi")]
    n_docs = n_items = n_launches = 0
    for p_index, slug in enumerate(product_slugs):
        product = org.products[slug]
        owner = product.pm_owner or org.users["pm"]
        team = list(product.members.filter(role="pm").order_by("username")) or [owner]
        features = FEATURES.get(slug, FEATURES["checkout"])[: 3 if small else None]
        benefit = BENEFITS[p_index % len(BENEFITS)]
        items: dict[str, RoadmapItem] = {}
        # roadmap
        for title, horizon, status, q_offset, reach, impact, confidence, effort in features:
            item = RoadmapItem.objects.filter(product=product, title=title).first()
            if item is None:
                quarter = quarter_of(today + timedelta(days=91 * q_offset))
                item = services.roadmap_item_create(
                    product=product,
                    title=title,
                    by=owner,
                    description=f"Why: customers {benefit[3]}. Bet: {title.lower()} will {benefit[1]}.",
                    horizon="next" if horizon == "now" and status != "shipped" else horizon,
                    status="planned" if status == "in_progress" else status,
                    target_quarter=quarter,
                    owner=rng.choice(team),
                    reach=reach,
                    impact=impact,
                    confidence=confidence,
                    effort=effort,
                )
                if horizon == "now" and status != "shipped":
                    # history: it moved from next to now, then started
                    item = services.roadmap_item_update(item=item, by=owner, horizon="now", status=status)
                    RoadmapChange.objects.filter(item=item).update(at=now - timedelta(days=rng.randint(3, 40)))
                _backdate(RoadmapItem, item.pk, created_at=now - timedelta(days=rng.randint(40, 120)))
                n_items += 1
            items[title] = item
        # documents: PRDs in every status, plus other kinds
        for d_index, status in enumerate(DOC_PLAN[: 5 if small else None]):
            feature = features[d_index % len(features)][0]
            title = f"PRD: {feature}" if d_index < len(features) else f"PRD: {feature} (phase 2)"
            if Document.objects.filter(product=product, title=title).exists():
                continue
            version = prd_v1 if d_index in (3, 4, 6) or (d_index == 2 and p_index % 2) else prd_v2
            doc_owner = owner if d_index in (0, 2, 6) else rng.choice(team)
            document = services.document_create(version=version, product=product, owner=doc_owner, title=title)
            ctx = {
                "feature": feature.lower(),
                "product": product.name,
                "benefit": benefit[0],
                "metric": benefit[1],
                "metric_short": benefit[2],
                "pain": benefit[3],
                "pain_short": benefit[4],
                "target": rng.choice([3, 5, 8, 10]),
                "reach": features[d_index % len(features)][4],
                "market": rng.choice(MARKETS),
                "theme": f"{benefit[4]} on {product.name}",
                "lift": rng.choice([1.2, 1.8, 2.4]),
                "tier": rng.choice([1, 2, 2, 3]),
            }
            services.document_update(
                document=document, by=doc_owner, sections=_fill(document, rng, complete=status != "draft", ctx=ctx)
            )
            created = now - timedelta(days=rng.randint(20, 90))
            reviewers = rng.sample([u for u in reviewers_pool if u.pk != doc_owner.pk], 2)
            if status != "draft":
                services.document_request_review(document=document, reviewers=reviewers, by=doc_owner)
                hours = rng.choice([5, 9, 18, 26, 30, 48, 72])
                if status == "in_review":
                    _backdate(Document, document.pk, in_review_since=now - timedelta(hours=hours))
                else:
                    services.document_comment(
                        document=document, author=reviewers[0], body="Clear problem statement; ship it.", approve=True
                    )
                    services.document_comment(
                        document=document,
                        author=reviewers[1],
                        body="Consider the guardrail on refunds in EMEA.",
                    )
                    services.document_update(
                        document=document,
                        by=doc_owner,
                        sections={
                            "goals": PRD_TEXT["goals"].format(**ctx)
                            + "\n\n**EMEA guardrail:** refund rate stays below 2.5% (added after review)."
                        },
                    )
                    document = services.document_transition(document=document, to_status="approved", by=doc_owner)
                    _backdate(Document, document.pk, review_seconds=hours * 3600)
                    if status in ("shipped", "archived"):
                        document = services.document_transition(document=document, to_status="shipped", by=doc_owner)
                    if status == "archived":
                        services.document_transition(document=document, to_status="archived", by=doc_owner)
                asked = now - timedelta(hours=hours) if status == "in_review" else created + timedelta(days=1)
                ReviewRequest.objects.filter(document=document).update(requested_at=asked)
            _backdate(Document, document.pk, created_at=created)
            item = items.get(feature)
            if item is not None:
                services.roadmap_link_add(item=item, kind="document", label=title, document=document, by=doc_owner)
            n_docs += 1
        # other kinds, one each (not in small mode)
        if not small:
            for kind, title in [
                ("one_pager", f"One-pager: {features[-1][0]}"),
                ("experiment_brief", f"Experiment brief: {features[0][0]}"),
                ("retro", f"Retro: {features[0][0]} beta"),
            ]:
                if Document.objects.filter(product=product, title=title).exists():
                    continue
                document = services.document_create_from_template(kind=kind, product=product, owner=owner, title=title)
                first = document.sections.first()
                services.document_update(
                    document=document,
                    by=owner,
                    sections={first.key: f"{first.title} for {title.split(': ', 1)[1].lower()} — draft notes."},
                )
                n_docs += 1
        # launches at different readiness
        plan = [(0, 10, 1.0), (1, 4, 0.4), (2, -20, 1.0)] if not small else [(0, 10, 0.6)]
        for f_index, days, done_share in plan:
            title, *_ = features[f_index % len(features)]
            if Launch.objects.filter(product=product, feature=title).exists():
                continue
            tier = ["T1", "T2", "T3"][(p_index + f_index) % 3]
            launch = services.launch_create(
                product=product,
                feature=title,
                tier=tier,
                launch_date=today + timedelta(days=days + p_index * 3),
                owner=owner,
                roadmap_item=items.get(title),
                document=Document.objects.filter(product=product, title=f"PRD: {title}").first(),
                success_criteria={
                    "1d": "No increase in error rate or support contacts",
                    "1w": f"{benefit[2].capitalize()} by 2% in the launch markets",
                    "1m": f"{benefit[2].capitalize()} by 5%; adoption above 30% of eligible customers",
                },
            )
            checklist = list(launch.checklist.all())
            cutoff = today - timedelta(days=rng.randint(0, 2))
            for item in checklist:
                due_done = item.due_date <= cutoff
                if (done_share >= 1.0 and item.offset_days <= 0) or (due_done and rng.random() < done_share):
                    services.launch_item_set_done(item=item, done=True, by=owner)
            if days < 0:
                services.launch_set_status(launch=launch, status="launched", by=owner)
                follow_up = launch.follow_ups.get(horizon="1d")
                services.launch_follow_up_record(
                    follow_up=follow_up, by=owner, met=True, outcome="Error rate flat; 3 support contacts, all how-to."
                )
            n_launches += 1
    return (
        f"{len(templates)} templates, {ChecklistTemplateItem.objects.count()} checklist template items, "
        f"+{n_docs} documents, +{n_items} roadmap items, +{n_launches} launches"
    )
