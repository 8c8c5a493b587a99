"""Deterministic demo company: 3 business units, 4 markets, 6 products, 23 people.

Every function app extends the demo with its own `<app>/demo.py: seed(org)`; seed_demo
calls them in PORTAL_APPS order, tooling before experiments (see seed_order). Everything is
keyed on natural keys, so running it twice changes nothing. Demo logins (password "demo") are only ever created here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction

from portal.models import BusinessUnit, Market, Product, Role, User
from portal.services import user_set_role
from portal.usage import portal_product_ensure

DEMO_PASSWORD = "demo"

MARKETS = [
    ("NA", "North America", "USD"),
    ("EMEA", "Europe, Middle East & Africa", "EUR"),
    ("APAC", "Asia Pacific", "USD"),
    ("LATAM", "Latin America", "USD"),
]

UNITS = [
    ("commerce", "Commerce", "Everything between a visit and a paid order."),
    ("payments", "Payments & Finance", "Money movement, billing and invoicing."),
    ("platform", "Platform & Growth", "Mobile apps and the customer-facing insights product."),
]

# slug, name, unit, owner, markets, description
PRODUCTS = [
    (
        "checkout",
        "Checkout",
        "commerce",
        "pm",
        ["NA", "EMEA", "APAC", "LATAM"],
        "Cart, checkout flow and order confirmation for web and mobile web.",
    ),
    (
        "storefront",
        "Storefront",
        "commerce",
        "amara",
        ["NA", "EMEA", "LATAM"],
        "Catalogue browsing, search and product pages.",
    ),
    (
        "payments",
        "Payments",
        "payments",
        "diego",
        ["NA", "EMEA", "APAC", "LATAM"],
        "Card, wallet and bank payments with fraud checks.",
    ),
    (
        "billing",
        "Billing",
        "payments",
        "mei",
        ["NA", "EMEA"],
        "Subscriptions, invoices and dunning for business customers.",
    ),
    ("mobile", "Mobile App", "platform", "jonas", ["NA", "EMEA", "APAC"], "The iOS and Android shopping app."),
    (
        "insights",
        "Merchant Insights",
        "platform",
        "priya",
        ["NA", "EMEA", "APAC"],
        "Analytics dashboards we sell to merchants.",
    ),
]

# username, first, last, role, title, timezone, products they work on
PEOPLE = [
    ("pm", "Paula", "Martins", Role.PM, "Senior PM, Checkout", "America/New_York", ["checkout"]),
    ("newpm", "Noah", "Park", Role.PM, "PM, Checkout (new)", "America/Los_Angeles", ["checkout"]),
    ("amara", "Amara", "Okafor", Role.PM, "Group PM, Storefront", "Europe/London", ["storefront"]),
    ("diego", "Diego", "Ruiz", Role.PM, "Senior PM, Payments", "America/Mexico_City", ["payments"]),
    ("mei", "Mei", "Chen", Role.PM, "PM, Billing", "Asia/Singapore", ["billing"]),
    ("jonas", "Jonas", "Weber", Role.PM, "Group PM, Mobile", "Europe/Berlin", ["mobile"]),
    ("priya", "Priya", "Nair", Role.PM, "Senior PM, Merchant Insights", "Asia/Kolkata", ["insights"]),
    ("lucas", "Lucas", "Silva", Role.PM, "PM, Checkout", "America/Sao_Paulo", ["checkout"]),
    ("sofia", "Sofia", "Rossi", Role.PM, "PM, Storefront search", "Europe/Rome", ["storefront"]),
    ("omar", "Omar", "Haddad", Role.PM, "PM, Fraud", "Europe/Paris", ["payments"]),
    ("hana", "Hana", "Kim", Role.PM, "PM, Wallets", "Asia/Seoul", ["payments"]),
    ("liam", "Liam", "O'Brien", Role.PM, "PM, Invoicing", "Europe/Dublin", ["billing"]),
    ("zoe", "Zoe", "Martin", Role.PM, "PM, iOS", "America/Chicago", ["mobile"]),
    ("arjun", "Arjun", "Mehta", Role.PM, "PM, Android", "Asia/Kolkata", ["mobile"]),
    ("elena", "Elena", "Popescu", Role.PM, "PM, Dashboards", "Europe/Bucharest", ["insights"]),
    ("kwame", "Kwame", "Mensah", Role.PM, "PM, Merchant onboarding", "Africa/Accra", ["insights", "storefront"]),
    ("isabel", "Isabel", "García", Role.PM, "PM, Payouts", "Europe/Madrid", ["payments", "billing"]),
    ("tom", "Tom", "Baker", Role.PM, "PM, Growth", "America/Denver", ["mobile", "checkout"]),
    ("ops", "Olivia", "Stone", Role.OPS_LEAD, "Head of Product Ops", "Europe/London", []),
    ("ravi", "Ravi", "Kapoor", Role.OPS_LEAD, "Product Ops Lead, Analytics", "America/New_York", []),
    ("researcher", "Rosa", "Lindqvist", Role.RESEARCHER, "Research Ops Lead", "Europe/Stockholm", []),
    ("viewer", "Victor", "Hale", Role.VIEWER, "VP Finance (stakeholder)", "America/New_York", []),
    ("cfo", "Grace", "Adeyemi", Role.VIEWER, "CFO office", "Europe/London", []),
]


@dataclass
class DemoOrg:
    units: dict[str, BusinessUnit] = field(default_factory=dict)
    markets: dict[str, Market] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    portal_product: Product | None = None  # internal: kept out of `products`

    @property
    def pms(self) -> list[User]:
        return [u for u in self.users.values() if u.role == Role.PM]


_DEMO_HASH: list[str] = []


def _user(username: str, **fields) -> User:
    """Demo people share one password hash: hashing "demo" 24 times would cost ~10 s."""
    if not _DEMO_HASH:
        _DEMO_HASH.append(make_password(DEMO_PASSWORD))
    user, created = User.objects.get_or_create(username=username, defaults=fields)
    if created:
        user.password = _DEMO_HASH[0]
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def seed_org() -> DemoOrg:
    org = DemoOrg()
    for code, name, currency in MARKETS:
        org.markets[code], _ = Market.objects.get_or_create(code=code, defaults={"name": name, "currency": currency})
    for slug, name, description in UNITS:
        org.units[slug], _ = BusinessUnit.objects.get_or_create(
            slug=slug, defaults={"name": name, "description": description}
        )
    for username, first, last, role, title, tz, _products in PEOPLE:
        user = _user(
            username,
            first_name=first,
            last_name=last,
            role=role,
            title=title,
            timezone=tz,
            email=f"{username}@example.com",
        )
        if user.role != role or not user.groups.exists():
            user_set_role(user=user, role=role, by=None)
        org.users[username] = user
    admin = _user(
        "admin",
        first_name="Ada",
        last_name="Admin",
        role=Role.OPS_LEAD,
        title="Portal admin",
        email="admin@example.com",
        is_superuser=True,
        is_staff=True,
    )
    org.users["admin"] = admin
    org.users["newpm"].manager = org.users["pm"]
    org.users["newpm"].save(update_fields=["manager"])
    for slug, name, unit, owner, markets, description in PRODUCTS:
        product, _ = Product.objects.get_or_create(
            slug=slug,
            defaults={"name": name, "unit": org.units[unit], "pm_owner": org.users[owner], "description": description},
        )
        product.markets.set([org.markets[m] for m in markets])
        org.products[slug] = product
    for username, *_rest, product_slugs in PEOPLE:
        for slug in product_slugs:
            org.products[slug].members.add(org.users[username])
    org.portal_product = portal_product_ensure()
    for unit in org.units.values():
        lead = {"commerce": "amara", "payments": "diego", "platform": "jonas"}[unit.slug]
        if unit.lead_id is None:
            unit.lead = org.users[lead]
            unit.save(update_fields=["lead"])
    return org


def load_org() -> DemoOrg:
    """The demo org as it is in the database (for app seeds run on their own)."""
    org = DemoOrg()
    org.markets = {m.code: m for m in Market.objects.all()}
    org.units = {u.slug: u for u in BusinessUnit.objects.all()}
    org.products = {p.slug: p for p in Product.objects.filter(is_internal=False)}
    org.portal_product = Product.objects.filter(is_internal=True, slug="portal").first()
    org.users = {u.username: u for u in User.objects.all()}
    return org
