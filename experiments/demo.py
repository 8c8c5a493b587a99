"""Demo data for experiments (seed_demo): templates, the best-practice guide, metrics, and
experiments in every state with simulated traffic — a clear winner, a flat result, an SRM case —
whose results are computed by the engine synchronously (with history for the cumulative chart).

Idempotent: everything is keyed on natural keys; an experiment that exists is left alone.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from experiments import services
from experiments.models import BestPractice, Experiment, ExperimentTemplate, Metric
from experiments.simulate import Effect, simulate

GUIDE = [
    (
        "Pick one primary metric before you start",
        "metric",
        "Decide **the one metric** the decision hangs on, and write it in the brief. Secondary metrics explain "
        "the result; they do not decide it. Looking at twenty metrics and shipping on the one that moved is how "
        "false wins get shipped (we show Holm-adjusted p-values for that reason).",
    ),
    (
        "Compute the sample size",
        "sample_size",
        "Use the power calculator with your baseline, the **smallest effect worth shipping** (MDE), alpha 0.05 "
        "and power 0.8. If the product needs more than 6 weeks of traffic, test a bolder change or a "
        "higher-traffic metric instead.",
    ),
    (
        "Choose guardrails",
        "guardrails",
        "Add metrics that must not get worse: refunds, payment errors, latency, unsubscribes. A guardrail "
        "regression is flagged on the experiment page even when the primary metric wins.",
    ),
    (
        "Plan at least one full week",
        "duration",
        "Behaviour differs between weekdays and weekends. Run whole weeks, and do not stop the moment a "
        "result looks significant unless you use the default sequential analysis (safe to peek).",
    ),
    (
        "Trust the health checks",
        "",
        "A **sample ratio mismatch** (the split is not what you planned) means assignment or logging is broken: "
        "fix it before reading any result. Units that saw several variants are excluded automatically.",
    ),
    (
        "Write down what you learned",
        "",
        "Every decision — shipped, rolled back or inconclusive — goes in the library with a sentence of "
        "learning. Inconclusive results are results: they stop the next team from testing the same idea.",
    ),
]

TEMPLATES = [
    (
        "Conversion funnel change",
        "A change to a step of a purchase or sign-up funnel, judged on conversion with revenue guardrails.",
        "change a step of the funnel",
        "everyone who reaches that step",
        "rise by at least 3%",
        0.03,
        14,
    ),
    (
        "Pricing and packaging",
        "Price points, plan names or discounts. Longer duration: purchase decisions take time.",
        "change the price or packaging",
        "new visitors to the pricing page",
        "raise revenue per visitor without hurting conversion",
        0.05,
        28,
    ),
    (
        "Onboarding flow",
        "First-run experience of a product; judged on activation within a week.",
        "change the first-run flow",
        "new sign-ups",
        "raise week-one activation",
        0.05,
        21,
    ),
]

# product slug -> [(key, name, kind, event, value_property, window_hours, direction)]
METRICS = {
    "checkout": [
        ("order_conversion", "Checkout conversion", "conversion", "order_completed", "", 168, "higher"),
        ("revenue_per_user", "Revenue per user", "mean", "order_completed", "amount", 168, "higher"),
        ("refund_rate", "Refund rate", "conversion", "refund_requested", "", 336, "lower"),
    ],
    "storefront": [
        ("add_to_cart", "Add-to-cart rate", "conversion", "cart_item_added", "", 72, "higher"),
        ("product_views", "Product views per user", "mean", "product_viewed", "", 72, "higher"),
    ],
    "payments": [
        ("payment_success", "Payment success rate", "conversion", "payment_succeeded", "", 24, "higher"),
        ("payment_errors", "Payment error rate", "conversion", "payment_failed", "", 24, "lower"),
    ],
    "mobile": [
        ("push_opt_in", "Push opt-in rate", "conversion", "push_opt_in", "", 168, "higher"),
        ("app_sessions", "Sessions per user", "mean", "app_opened", "", 168, "higher"),
    ],
    "billing": [("annual_upgrade", "Annual plan upgrades", "conversion", "plan_upgraded", "", 336, "higher")],
    "insights": [
        ("dashboard_created", "Dashboard creation rate", "conversion", "dashboard_created", "", 168, "higher")
    ],
}


def _standards(org) -> dict[str, Metric]:
    for order, (title, key, body) in enumerate(GUIDE):
        BestPractice.objects.get_or_create(title=title, defaults={"checklist_key": key, "body": body, "order": order})
    metrics: dict[str, Metric] = {}
    for slug, rows in METRICS.items():
        product = org.products[slug]
        for key, name, kind, event, prop, window, direction in rows:
            metrics[key], _ = Metric.objects.get_or_create(
                product=product,
                key=key,
                defaults={
                    "name": name,
                    "kind": kind,
                    "event": event,
                    "value_property": prop,
                    "window_hours": window,
                    "direction": direction,
                },
            )
    metrics["revenue_per_order"], _ = Metric.objects.get_or_create(
        product=org.products["checkout"],
        key="revenue_per_order",
        defaults={
            "name": "Revenue per order",
            "kind": Metric.Kind.RATIO,
            "event": "order_completed",
            "value_property": "amount",
            "denominator_event": "order_completed",
            "window_hours": 168,
            "direction": Metric.Direction.HIGHER,
            "description": "Average order value: revenue over orders, across all units of a variant.",
        },
    )
    for name, description, change, audience, impact, mde, days in TEMPLATES:
        template, created = ExperimentTemplate.objects.get_or_create(
            name=name,
            defaults={
                "description": description,
                "hypothesis_change": change,
                "hypothesis_audience": audience,
                "hypothesis_impact": impact,
                "default_mde": mde,
                "default_duration_days": days,
            },
        )
        if created and name == "Conversion funnel change":
            template.suggested_guardrails.set([metrics["refund_rate"]])
    return metrics


def _experiment(org, spec: dict, metrics: dict[str, Metric]) -> Experiment | None:
    if Experiment.objects.filter(key=spec["key"]).exists():
        return None
    owner = org.users[spec["owner"]]
    product = org.products[spec["product"]]
    return services.experiment_create(
        by=owner,
        product=product,
        key=spec["key"],
        name=spec["name"],
        hypothesis_change=spec["change"],
        hypothesis_audience=spec["audience"],
        hypothesis_metric=spec.get("metric_text", ""),
        hypothesis_impact=spec["impact"],
        primary_metric=metrics[spec["primary"]],
        secondary_metrics=[metrics[k] for k in spec.get("secondary", [])],
        guardrail_metrics=[metrics[k] for k in spec.get("guardrails", [])],
        variants=spec.get("variants"),
        mde=spec.get("mde", 0.05),
        tags=spec.get("tags", []),
        planned_start=(timezone.now() - timedelta(days=spec.get("days_ago", 0))).date()
        if spec.get("planned", True)
        else None,
        planned_end=(timezone.now() + timedelta(days=spec.get("days_left", 7))).date()
        if spec.get("planned", True)
        else None,
        create_brief=True,
    )


def _run(exp: Experiment, spec: dict, *, units: int, history: bool) -> None:
    now = timezone.now()
    owner = exp.owner
    exp = services.experiment_start(experiment=exp, by=owner)
    started = now - timedelta(days=spec["days_ago"])
    Experiment.objects.filter(pk=exp.pk).update(started_at=started)
    exp.refresh_from_db()
    days = spec["days_ago"] - spec.get("stopped_days_ago", 0)
    simulate(
        exp,
        units=units,
        start=started,
        days=max(1, days),
        effects=spec["effects"],
        seed=sum(map(ord, exp.key)),
        drop_exposures=spec.get("drop"),
        pre_period=spec.get("pre_period", False),
    )
    if history:
        step = max(2, days // 4)
        for day in range(step, days, step):
            services.results_compute(experiment=exp, as_of=started + timedelta(days=day))
    final = spec.get("final")
    if final in ("stopped", "decided", "archived"):
        Experiment.objects.filter(pk=exp.pk).update(
            status=Experiment.Status.STOPPED,
            stopped_at=now - timedelta(days=spec.get("stopped_days_ago", 0)),
            stop_reason=spec.get("stop_reason", "Reached the planned sample size."),
        )
        exp.refresh_from_db()
    services.results_compute(experiment=exp, as_of=exp.stopped_at if exp.stopped_at else None)
    if final in ("decided", "archived"):
        services.experiment_decide(
            experiment=exp,
            by=owner,
            decision=spec["decision"],
            rationale=spec["rationale"],
            learnings=spec["learnings"],
        )
    if final == "archived":
        services.experiment_archive(experiment=Experiment.objects.get(pk=exp.pk), by=owner)


def _specs() -> list[dict]:
    checkout_base = {"order_completed": 0.20, "refund_requested": 0.02}
    amount = {"order_completed": ("amount", 62.0, 25.0)}
    return [
        {
            "key": "express-checkout",
            "name": "Express checkout for returning buyers",
            "product": "checkout",
            "owner": "pm",
            "change": "offer one-tap express checkout with the saved card",
            "audience": "returning buyers with a saved payment method",
            "metric_text": "checkout conversion",
            "impact": "rise by at least 3%",
            "primary": "order_conversion",
            "secondary": ["revenue_per_user", "revenue_per_order"],
            "guardrails": ["refund_rate"],
            "mde": 0.2,
            "tags": ["checkout", "payments", "returning-users"],
            "days_ago": 40,
            "stopped_days_ago": 19,
            "effects": {
                "control": Effect(rates=checkout_base, values=amount),
                "treatment": Effect(rates={"order_completed": 0.25, "refund_requested": 0.02}, values=amount),
            },
            "final": "decided",
            "decision": "shipped",
            "rationale": "Conversion rose clearly with no change in refunds; rolled out to 100% of returning buyers.",
            "learnings": "Removing the card form for buyers with a saved card is the biggest single lever we have "
            "found in checkout. **Mobile web gained most.** Storefront could apply the same idea to "
            "one-tap add-to-cart.",
            "units": 5000,
        },
        {
            "key": "one-page-checkout",
            "name": "One-page checkout",
            "product": "checkout",
            "owner": "pm",
            "change": "merge shipping, payment and review into a single page",
            "audience": "all desktop buyers",
            "metric_text": "checkout conversion",
            "impact": "rise by 5%",
            "primary": "order_conversion",
            "secondary": ["revenue_per_user", "revenue_per_order"],
            "guardrails": ["refund_rate"],
            "tags": ["checkout", "desktop"],
            "mde": 0.2,
            "days_ago": 12,
            "days_left": 9,
            "effects": {
                "control": Effect(rates=checkout_base, values=amount),
                "treatment": Effect(rates={"order_completed": 0.25, "refund_requested": 0.021}, values=amount),
            },
            "history": True,
            "units": 6000,
            "pre_period": True,
        },
        {
            "key": "search-autocomplete-v2",
            "name": "Search autocomplete v2",
            "product": "storefront",
            "owner": "amara",
            "change": "rank autocomplete suggestions by popularity instead of alphabetically",
            "audience": "visitors who use search",
            "metric_text": "add-to-cart rate",
            "impact": "rise by 2%",
            "primary": "add_to_cart",
            "secondary": ["product_views"],
            "tags": ["search", "discovery"],
            "days_ago": 15,
            "days_left": 6,
            "effects": {
                "control": Effect(rates={"cart_item_added": 0.14, "product_viewed": 0.45}),
                "treatment": Effect(rates={"cart_item_added": 0.141, "product_viewed": 0.45}),
            },
            "history": True,
            "units": 4000,
        },
        {
            "key": "wallet-first-payment",
            "name": "Wallets first on the payment step",
            "product": "payments",
            "owner": "diego",
            "change": "show Apple Pay and Google Pay above the card form",
            "audience": "mobile web payers",
            "metric_text": "payment success rate",
            "impact": "rise by 2%",
            "primary": "payment_success",
            "guardrails": ["payment_errors"],
            "tags": ["wallets", "mobile"],
            "days_ago": 9,
            "days_left": 12,
            "effects": {
                "control": Effect(rates={"payment_succeeded": 0.62, "payment_failed": 0.05}),
                "treatment": Effect(rates={"payment_succeeded": 0.63, "payment_failed": 0.05}),
            },
            "drop": {"treatment": 0.14},  # the wallet button's exposure logging fails on some browsers
            "units": 5000,
        },
        {
            "key": "push-prompt-timing",
            "name": "Ask for push permission after the first order",
            "product": "mobile",
            "owner": "jonas",
            "change": "ask for push permission after the first order instead of on first launch",
            "audience": "new app installs",
            "metric_text": "push opt-in rate",
            "impact": "rise by 10%",
            "primary": "push_opt_in",
            "secondary": ["app_sessions"],
            "tags": ["mobile", "notifications", "onboarding"],
            "days_ago": 30,
            "stopped_days_ago": 2,
            "effects": {
                "control": Effect(rates={"push_opt_in": 0.41, "app_opened": 0.6}),
                "treatment": Effect(rates={"push_opt_in": 0.415, "app_opened": 0.6}),
            },
            "final": "stopped",
            "stop_reason": "Ran the planned four weeks; waiting for the iOS cohort analysis before deciding.",
            "units": 3000,
        },
        {
            "key": "free-shipping-banner",
            "name": "Free-shipping threshold banner",
            "product": "checkout",
            "owner": "lucas",
            "change": "show how much more to spend for free shipping in the cart",
            "audience": "carts under the free-shipping threshold",
            "metric_text": "revenue per user",
            "impact": "rise by 4%",
            "primary": "revenue_per_user",
            "guardrails": ["refund_rate"],
            "tags": ["checkout", "pricing"],
            "mde": 0.15,
            "days_ago": 70,
            "stopped_days_ago": 50,
            "effects": {
                "control": Effect(rates=checkout_base, values=amount),
                "treatment": Effect(rates={"order_completed": 0.205, "refund_requested": 0.07}, values=amount),
            },
            "final": "decided",
            "decision": "rolled_back",
            "rationale": "Refunds rose (guardrail) while revenue per user did not move.",
            "learnings": "Nudging buyers to add items to reach free shipping brought returns, not revenue: people "
            "added filler items and sent them back.",
            "units": 3000,
        },
        {
            "key": "dashboard-starter-templates",
            "name": "Starter dashboard templates",
            "product": "insights",
            "owner": "priya",
            "change": "offer three starter dashboards on the empty state",
            "audience": "merchants in their first week",
            "metric_text": "dashboard creation rate",
            "impact": "rise by 10%",
            "primary": "dashboard_created",
            "tags": ["onboarding", "empty-states"],
            "days_ago": 100,
            "stopped_days_ago": 75,
            "effects": {
                "control": Effect(rates={"dashboard_created": 0.30}),
                "treatment": Effect(rates={"dashboard_created": 0.305}),
            },
            "final": "archived",
            "decision": "inconclusive",
            "rationale": "No detectable change after the planned three weeks.",
            "learnings": "Templates on the empty state did not change how many merchants build a dashboard; "
            "research suggests the blocker is connecting data, not a blank canvas.",
            "units": 2000,
        },
        {
            "key": "annual-plan-nudge",
            "name": "Annual plan nudge at renewal",
            "product": "billing",
            "owner": "mei",
            "change": "show the annual-plan saving in the renewal email",
            "audience": "monthly business customers a week before renewal",
            "metric_text": "annual plan upgrades",
            "impact": "double",
            "primary": "annual_upgrade",
            "tags": ["pricing", "email"],
            "planned": False,
        },
    ]


def seed(org, *, small: bool = False) -> str:
    metrics = _standards(org)
    created = 0
    specs = _specs()
    if small:
        specs = [s for s in specs if s["key"] in {"express-checkout", "wallet-first-payment", "annual-plan-nudge"}]
    for spec in specs:
        exp = _experiment(org, spec, metrics)
        if exp is None:
            continue
        created += 1
        if "effects" in spec:
            units = spec["units"] // 10 if small else spec["units"]
            _run(exp, spec, units=units, history=spec.get("history", False) and not small)
    return f"{created} experiments ({Experiment.objects.count()} in total), {Metric.objects.count()} metrics"
