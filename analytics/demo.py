"""Demo analytics: a tracking plan per product, ~1M events over 90 days written with COPY
(believable funnels, weekly seasonality, a retention curve, some plan violations), rollups,
standard dashboards with cached tiles, a team dashboard and saved insights.

Deterministic (random.Random per product) and idempotent: a product whose demo events are
already loaded is left as it is; switching between small and full reloads its events.
"""

from __future__ import annotations

import io
import json
import random
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from analytics import ingest, rollups, services
from analytics.models import (
    Dashboard,
    DirtyDay,
    Event,
    EventDefinition,
    Insight,
    NamingRule,
    PlanChange,
    PropertyDefinition,
    Source,
    TileResult,
    ViolationType,
)

DAYS = 90
FULL_USERS = 14_000  # per product (scaled by the product's weight) → ~1M events in all
SMALL_USERS = 70

PLATFORMS = ["web", "ios", "android"]
COUNTRIES = ["US", "US", "US", "GB", "DE", "FR", "BR", "MX", "IN", "JP", "SG", "CA"]

# slug: weight, owner usernames by event, funnel [(event, p from previous)], features [(event, p per
# active day)], weekend factor, deprecated event still sent, planned event never sent
PLANS = {
    "checkout": {
        "weight": 1.3,
        "funnel": [
            ("cart_viewed", 1.0),
            ("checkout_started", 0.55),
            ("payment_submitted", 0.72),
            ("order_completed", 0.86),
        ],
        "features": [("coupon_applied", 0.08), ("express_pay_used", 0.12), ("address_autocomplete_used", 0.22)],
        "weekend": 1.25,
        "deprecated": "checkout_step_viewed",
        "planned": "gift_card_redeemed",
        "owners": ["pm", "lucas", "newpm"],
    },
    "storefront": {
        "weight": 1.4,
        "funnel": [("product_list_viewed", 1.0), ("product_viewed", 0.62), ("product_added_to_cart", 0.27)],
        "features": [("search_performed", 0.45), ("filter_applied", 0.22), ("wishlist_added", 0.05)],
        "weekend": 1.35,
        "deprecated": "category_page_viewed",
        "planned": "visual_search_used",
        "owners": ["amara", "sofia", "kwame"],
    },
    "payments": {
        "weight": 0.9,
        "funnel": [("payment_started", 1.0), ("payment_authorized", 0.91), ("payment_captured", 0.96)],
        "features": [("wallet_selected", 0.2), ("three_ds_challenged", 0.1), ("card_saved", 0.06)],
        "weekend": 1.1,
        "deprecated": "payment_retry_clicked",
        "planned": "bank_transfer_started",
        "owners": ["diego", "omar", "hana"],
    },
    "billing": {
        "weight": 0.5,
        "funnel": [("invoice_viewed", 1.0), ("invoice_downloaded", 0.4), ("invoice_paid", 0.7)],
        "features": [("subscription_upgraded", 0.03), ("payment_method_updated", 0.05), ("usage_report_viewed", 0.15)],
        "weekend": 0.35,
        "deprecated": "invoice_printed",
        "planned": "tax_id_validated",
        "owners": ["mei", "liam", "isabel"],
    },
    "mobile": {
        "weight": 1.2,
        "funnel": [
            ("app_opened", 1.0),
            ("product_viewed", 0.7),
            ("product_added_to_cart", 0.3),
            ("order_completed", 0.42),
        ],
        "features": [("push_notification_opened", 0.15), ("barcode_scanned", 0.05), ("dark_mode_enabled", 0.02)],
        "weekend": 1.4,
        "deprecated": "tab_switched",
        "planned": "ar_preview_opened",
        "owners": ["jonas", "zoe", "arjun"],
    },
    "insights": {
        "weight": 0.6,
        "funnel": [("dashboard_viewed", 1.0), ("report_filtered", 0.45), ("report_exported", 0.3)],
        "features": [("alert_created", 0.05), ("dashboard_shared", 0.04), ("scheduled_report_created", 0.02)],
        "weekend": 0.3,
        "deprecated": "legacy_report_opened",
        "planned": "ai_summary_requested",
        "owners": ["priya", "elena", "kwame"],
    },
}

MONEY_EVENTS = {"order_completed", "payment_captured", "invoice_paid", "payment_authorized"}
PII = {
    "checkout_started": ("email", "personal", "Customer email for the receipt"),
    "payment_started": ("card_bin", "sensitive", "First six digits of the card"),
    "invoice_paid": ("billing_address", "personal", "Billing address line"),
    "product_viewed": ("session_id", "pseudonymous", "Browser session identifier"),
}


def seed(org, *, small: bool = False) -> str:
    started = timezone.now()
    _naming_rules()
    services.dashboard_templates_ensure_defaults()
    total = 0
    for slug, plan in PLANS.items():
        product = org.products.get(slug)
        if product is None:
            continue
        _plan(product, plan, org)
        total += _events(product, plan, org, small=small)
    services.dashboards_ensure_standard(products=list(org.products.values()))
    _team_content(org)
    _warm_tiles(org, small=small)
    seconds = (timezone.now() - started).total_seconds()
    return (
        f"{Event.objects.count():,} events ({total:,} written now), "
        f"{Dashboard.objects.count()} dashboards in {seconds:.1f} s"
    )


def _naming_rules() -> None:
    NamingRule.objects.get_or_create(
        name="snake_case object_action",
        defaults={
            "applies_to": NamingRule.AppliesTo.EVENT,
            "pattern": r"[a-z][a-z0-9]*(_[a-z0-9]+)+",
            "description": "lower snake_case, object then past-tense action, e.g. order_completed",
        },
    )
    NamingRule.objects.get_or_create(
        name="snake_case properties",
        defaults={
            "applies_to": NamingRule.AppliesTo.PROPERTY,
            "pattern": r"[a-z][a-z0-9_]*",
            "description": "lower snake_case, e.g. payment_method",
        },
    )


@transaction.atomic
def _plan(product, plan: dict, org) -> None:
    """The product's tracking plan, in bulk (the names follow the naming rules)."""
    if EventDefinition.objects.filter(product=product).exists():
        return
    owners = [org.users[u] for u in plan["owners"] if u in org.users]
    names = [e for e, _p in plan["funnel"]] + [e for e, _p in plan["features"]]
    definitions = []
    for i, name in enumerate(names):
        definitions.append(
            EventDefinition(
                product=product,
                name=name,
                description=f"Sent when the user {name.replace('_', ' ').split(' ', 1)[-1]} ({name.split('_')[0]}).",
                owner=owners[i % len(owners)],
                status=EventDefinition.Status.ACTIVE,
                tags=[f"funnel:{i + 1}"] if i < len(plan["funnel"]) else ["feature"],
                verified=i % 3 != 2,
            )
        )
    definitions.append(
        EventDefinition(
            product=product,
            name=plan["deprecated"],
            description="Replaced by the funnel events; kept until the old clients are gone.",
            owner=owners[0],
            status=EventDefinition.Status.DEPRECATED,
        )
    )
    definitions.append(
        EventDefinition(
            product=product,
            name=plan["planned"],
            description="Planned for next quarter's launch.",
            owner=owners[-1],
            status=EventDefinition.Status.PLANNED,
            tags=["feature"],
        )
    )
    EventDefinition.objects.bulk_create(definitions)
    props = []
    for definition in definitions[: len(names)]:
        name = definition.name
        props.append(
            PropertyDefinition(
                event=definition,
                name="platform",
                type=PropertyDefinition.Type.ENUM,
                enum_values=PLATFORMS,
                required=True,
                description="Client platform",
            )
        )
        props.append(PropertyDefinition(event=definition, name="country", description="ISO country code"))
        if name in MONEY_EVENTS:
            props.append(
                PropertyDefinition(event=definition, name="amount", type=PropertyDefinition.Type.NUMBER, required=True)
            )
            props.append(
                PropertyDefinition(
                    event=definition,
                    name="currency",
                    type=PropertyDefinition.Type.ENUM,
                    enum_values=["USD", "EUR", "GBP", "BRL", "INR"],
                    required=True,
                )
            )
        if name in PII:
            prop, pii, description = PII[name]
            props.append(PropertyDefinition(event=definition, name=prop, pii=pii, description=description))
    PropertyDefinition.objects.bulk_create(props)
    PlanChange.objects.create(
        product=product,
        actor=org.users.get("ravi"),
        action="plan.import",
        target=product.slug,
        changes={"events_created": len(definitions), "properties_created": len(props)},
    )


def _events(product, plan: dict, org, *, small: bool) -> int:
    mode = "small" if small else "full"
    source, _ = _demo_source(product, mode)
    if Event.objects.filter(product=product, source=source).exists():
        return 0
    with transaction.atomic():
        Event.objects.filter(product=product).delete()  # the other demo size, or stray test data
        ViolationType.objects.filter(product=product).delete()
        rows, violations = _generate(product, plan, source, small=small)
        buffer = io.StringIO("".join(rows))
        with connection.cursor() as cursor:
            cursor.copy_expert(
                "COPY analytics_event (product_id, source_id, event, distinct_id, timestamp, received_at, "
                "properties, status, reasons) FROM STDIN",
                buffer,
            )
        today = timezone.now().date()
        rollups.rollup_range(product_id=product.pk, first=today - timedelta(days=DAYS), last=today)
        rollups.definitions_refresh_stats(product_id=product.pk)
        DirtyDay.objects.filter(product=product).delete()
        ViolationType.objects.bulk_create(
            ViolationType(
                product=product,
                event=event,
                code=code,
                property=prop,
                example=example,
                first_seen=first,
                last_seen=last,
                count=count,
            )
            for (event, code, prop), (count, example, first, last) in violations.items()
        )
        TileResult.objects.filter(tile__dashboard__product=product).delete()
    return len(rows)


def _demo_source(product, mode: str) -> tuple[Source, bool]:
    name = f"Demo SDK ({mode})"
    existing = Source.objects.filter(product=product, name=name).first()
    if existing:
        return existing, False
    source, _key = services.source_create(product=product, name=name, enforcement=Source.Enforcement.ALLOW)
    if not Source.objects.filter(product=product, name="iOS app").exists():
        services.source_create(product=product, name="iOS app", enforcement=Source.Enforcement.QUARANTINE)
    return source, True


def _generate(product, plan: dict, source: Source, *, small: bool):
    rng = random.Random(f"analytics-demo-{product.slug}-{'small' if small else 'full'}")
    snapshot = services.plan_snapshot(product)
    users = int((SMALL_USERS if small else FULL_USERS) * plan["weight"])
    now = timezone.now().replace(microsecond=0)
    today = now.date()
    first_day = today - timedelta(days=DAYS - 1)
    received = now.strftime("%Y-%m-%d %H:%M:%S+00")
    pid, sid = product.pk, source.pk
    funnel, features = plan["funnel"], plan["features"]
    deprecated = plan["deprecated"]
    prefix = product.slug[:3]
    rows: list[str] = []
    violations: dict[tuple, list] = {}
    day_strings = [(first_day + timedelta(days=d)).isoformat() for d in range(DAYS)]
    weekend = [(first_day + timedelta(days=d)).weekday() >= 5 for d in range(DAYS)]
    # Growth: later signups are more likely (a product that is growing ~40% over the quarter).
    signup_weights = [1.0 + 0.4 * d / DAYS for d in range(DAYS)]
    signups = rng.choices(range(DAYS), weights=signup_weights, k=users)

    def add(event: str, user: str, day: int, second: int, props: dict, body: str, platform: str) -> None:
        """Append one COPY row; `body` is props already serialised (the common, conforming case)."""
        if day == DAYS - 1 and second > now_second:
            return  # not in the future
        hh, rem = divmod(second, 3600)
        ts = f"{day_strings[day]} {hh:02d}:{rem // 60:02d}:{rem % 60:02d}+00"
        corrupt = rng.random()
        if corrupt >= 0.03 and event != deprecated and event != "btnClick":
            rows.append(f"{pid}\t{sid}\t{event}\t{user}\t{ts}\t{received}\t{body}\taccepted\t[]\n")
            return
        props = dict(props)
        if corrupt < 0.012 and "amount" in props:
            props.pop("amount")  # an old Android build forgets the amount
        elif corrupt < 0.02 and "currency" in props:
            props["currency"] = props["currency"].lower()
        elif corrupt < 0.024 and platform == "android":
            props["platform"] = "Android"
        elif corrupt < 0.03 and "country" in props:
            props["country"] = 0  # a client sends the numeric country id
        status, reasons = "accepted", "[]"
        checked = ingest.check(0, {"event": event, "distinct_id": user, "properties": props}, snapshot, now)
        if checked.violations:
            reasons = json.dumps(checked.violations).replace("\\", "\\\\")
            if platform == "ios" and rng.random() < 0.5:
                status = "quarantined"
            stamp = datetime.fromisoformat(ts.replace("+00", "+00:00"))
            for r in checked.violations:
                key = (event, r["code"], r.get("property", ""))
                entry = violations.setdefault(key, [0, r["message"], stamp, stamp])
                entry[0] += 1
                entry[2], entry[3] = min(entry[2], stamp), max(entry[3], stamp)
        body = json.dumps(props, separators=(",", ":")).replace("\\", "\\\\")
        rows.append(f"{pid}\t{sid}\t{event}\t{user}\t{ts}\t{received}\t{body}\t{status}\t{reasons}\n")

    now_second = now.hour * 3600 + now.minute * 60
    plan_events = {e for e, _p in funnel} | {e for e, _p in features}
    product_pii = {e: v for e, v in PII.items() if e in plan_events}
    decay = [(age + 1) ** -0.45 for age in range(DAYS + 1)]
    weekend_factor = plan["weekend"]
    dumps = json.dumps
    for n in range(users):
        user = f"{prefix}-{n:06d}"
        signup = signups[n]
        platform = rng.choices(PLATFORMS, weights=[5, 3, 2])[0]
        country = rng.choice(COUNTRIES)
        base = {"platform": platform, "country": country}
        base_body = dumps(base, separators=(",", ":"))
        currency = "EUR" if country in ("DE", "FR") else "USD"
        pii_body = {
            event: dumps(
                {**base, prop: f"{user}@example.com" if kind == "personal" else f"{n % 900000 + 100000}"},
                separators=(",", ":"),
            )
            for event, (prop, kind, _d) in product_pii.items()
        }
        engagement = rng.betavariate(1.2, 3.0)  # most users are light, a few are heavy
        keep = 0.08 + 0.9 * engagement
        step_boost = 0.9 + 0.2 * engagement
        feature_boost = 0.5 + engagement
        for day in range(signup, DAYS):
            age = day - signup
            if age:
                p = keep * decay[age]
                if weekend[day]:
                    p *= weekend_factor
                if rng.random() > p:
                    continue
            second = rng.randint(7 * 3600, 22 * 3600)
            for step, (event, prob) in enumerate(funnel):
                if step and rng.random() > prob * step_boost:
                    break
                if event in MONEY_EVENTS:
                    props = {**base, "amount": round(rng.lognormvariate(3.6, 0.7), 2), "currency": currency}
                    add(event, user, day, second, props, dumps(props, separators=(",", ":")), platform)
                elif event in pii_body:
                    add(event, user, day, second, base, pii_body[event], platform)
                else:
                    add(event, user, day, second, base, base_body, platform)
                second = min(second + rng.randint(20, 600), 86399)
            for event, prob in features:
                if rng.random() < prob * feature_boost:
                    add(event, user, day, min(second + rng.randint(5, 900), 86399), base, base_body, platform)
            if platform != "web" and rng.random() < 0.03:
                add(deprecated, user, day, second, base, base_body, platform)
            if rng.random() < 0.004:
                add("btnClick", user, day, second, {"platform": platform}, "{}", platform)
    return rows, violations


def _team_content(org) -> None:
    checkout = org.products.get("checkout")
    pm = org.users.get("pm")
    if checkout is None or pm is None:
        return
    if not Dashboard.objects.filter(product=checkout, name="Checkout conversion deep-dive").exists():
        dashboard = services.dashboard_create(
            product=checkout,
            name="Checkout conversion deep-dive",
            description="Where web and mobile-web buyers drop out, and what they spend.",
            by=pm,
        )
        services.tile_add(
            dashboard=dashboard,
            title="Revenue per day (sum of amount)",
            spec={
                "type": "trends",
                "events": [{"event": "order_completed", "math": "sum", "property": "amount"}],
                "interval": "day",
            },
            width=2,
            by=pm,
        )
        services.tile_add(
            dashboard=dashboard,
            title="Orders by platform (weekly)",
            spec={"type": "trends", "events": ["order_completed"], "interval": "week", "breakdown": "platform"},
            by=pm,
        )
        services.tile_add(
            dashboard=dashboard,
            title="Checkout funnel (1-day window)",
            spec={
                "type": "funnel",
                "steps": ["checkout_started", "payment_submitted", "order_completed"],
                "window_days": 1,
            },
            by=pm,
        )
    for product_slug, name, spec in [
        (
            "checkout",
            "Coupon usage, weekly users",
            {
                "type": "trends",
                "events": [{"event": "coupon_applied", "math": "uniques"}],
                "interval": "week",
                "date_from": "-84d",
            },
        ),
        (
            "checkout",
            "Average order value",
            {
                "type": "trends",
                "events": [{"event": "order_completed", "math": "avg", "property": "amount"}],
                "interval": "week",
                "date_from": "-84d",
            },
        ),
        (
            "storefront",
            "Search to cart",
            {
                "type": "funnel",
                "steps": ["search_performed", "product_viewed", "product_added_to_cart"],
                "window_days": 1,
            },
        ),
        (
            "mobile",
            "Weekly retention (all activity)",
            {"type": "retention", "period": "week", "periods": 10, "date_from": "-77d"},
        ),
    ]:
        product = org.products.get(product_slug)
        if product and not Insight.objects.filter(product=product, name=name).exists():
            services.insight_create(product=product, name=name, spec=spec, by=product.pm_owner)


def _warm_tiles(org, *, small: bool) -> None:
    """Compute the dashboards' saved views now, so the demo opens on real charts (in small
    mode only Checkout's; the worker and beat fill in the rest)."""
    products = [org.products["checkout"]] if small and "checkout" in org.products else list(org.products.values())
    for dashboard in Dashboard.objects.filter(product__in=products).prefetch_related("tiles"):
        effective = services.effective_filters(dashboard=dashboard)
        key = services.filters_key(effective)
        for tile in dashboard.tiles.all():
            result, _ = TileResult.objects.get_or_create(tile=tile, filters_key=key, defaults={"filters": effective})
            if result.status != TileResult.Status.READY:
                services.tile_result_compute(result_id=result.pk)
