"""The portal measures itself: page views by tool, key actions and searches become
analytics events of the internal product "Product Ops Portal", through the same
ingestion path as every other product (`analytics.services.events_ingest`).

Cost on the request path: one RPUSH to Redis (no database write). A beat task
(`portal.usage_flush`) drains the buffer in batches into `events_ingest`. Every event
carries a uuid, so a batch re-delivered after a crash is stored once. Nothing here may
break a request: every failure is logged and swallowed.
"""

from __future__ import annotations

import json
import logging
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger("portal.usage")

PORTAL_SLUG = "portal"
PORTAL_NAME = "Product Ops Portal"
PORTAL_UNIT = ("platform", "Platform & Growth")
FLUSH_BATCH = 500

# The portal's own tracking plan: event → (description, [(property, type, required, description)]).
TRACKING_PLAN: dict[str, tuple[str, list[tuple[str, str, bool, str]]]] = {
    "page_viewed": (
        "A signed-in person opened a portal page.",
        [
            (
                "tool",
                "string",
                True,
                "App namespace: analytics, experiments, research, tooling, feedback, onboarding, portal, admin",
            ),
            ("page", "string", False, "URL name of the page"),
            ("path", "string", False, "Path of the page (no query string)"),
            ("product", "string", False, "Product slug the page is about, if any"),
            ("role", "string", True, "Role of the person: pm, ops_lead, researcher, viewer"),
        ],
    ),
    "search_performed": (
        "A global search was run; `found` tells whether it returned anything.",
        [
            ("results", "number", True, "Number of results returned"),
            ("found", "boolean", True, "At least one result"),
            ("types", "string", False, "Type filters, comma-separated"),
            ("role", "string", True, "Role of the person"),
        ],
    ),
    "action_performed": (
        "A key action recorded in the audit log (document.create, experiment.start, …).",
        [
            ("action", "string", True, "Audit action name"),
            ("tool", "string", True, "App the action belongs to"),
            ("product", "string", False, "Product slug of the target, when known"),
            ("role", "string", True, "Role of the person"),
        ],
    ),
}

# Audit action prefix → tool (app) it belongs to.
ACTION_TOOLS = {
    "document": "tooling",
    "template": "tooling",
    "roadmap": "tooling",
    "launch": "tooling",
    "review": "tooling",
    "experiment": "experiments",
    "insight": "research",
    "study": "research",
    "participant": "research",
    "dashboard": "analytics",
    "event": "analytics",
    "plan": "analytics",
    "tracking_plan": "analytics",
    "source": "analytics",
    "track": "onboarding",
    "enrollment": "onboarding",
    "article": "onboarding",
    "theme": "feedback",
    "feedback": "feedback",
}

TOOLS = ["analytics", "experiments", "research", "tooling", "feedback", "onboarding", "portal"]

_portal_product_id: int | None = None

# Set while a web or API request is handled: only people's actions count as usage, not
# seeding scripts, migrations or background jobs acting on someone's behalf.
_in_request: ContextVar[bool] = ContextVar("portal_usage_in_request", default=False)


@contextmanager
def request_scope():
    token = _in_request.set(True)
    try:
        yield
    finally:
        _in_request.reset(token)


def buffer_key() -> str:
    return f"{settings.REDIS_KEY_PREFIX}:usage:buffer"


def _redis():
    from django.core.cache import cache

    return cache._cache.get_client(None, write=True)


@transaction.atomic
def portal_product_ensure():
    """The internal product the portal's usage is recorded under, with its tracking plan."""
    from analytics.models import EventDefinition
    from analytics.services import event_definition_create, property_definition_create
    from portal.models import BusinessUnit, Product

    unit, _ = BusinessUnit.objects.get_or_create(slug=PORTAL_UNIT[0], defaults={"name": PORTAL_UNIT[1]})
    product, _ = Product.objects.get_or_create(
        slug=PORTAL_SLUG,
        defaults={
            "name": PORTAL_NAME,
            "unit": unit,
            "is_internal": True,
            "description": "The portal itself: its usage, measured through its own analytics.",
        },
    )
    existing = set(EventDefinition.objects.filter(product=product).values_list("name", flat=True))
    for name, (description, props) in TRACKING_PLAN.items():
        if name in existing:
            continue
        definition = event_definition_create(
            product=product, name=name, description=description, status="active", verified=True, tags=["portal"]
        )
        for prop, type_, required, prop_description in props:
            property_definition_create(
                event=definition, name=prop, type=type_, required=required, description=prop_description
            )
    return product


def portal_product():
    """The internal product, created (with its plan) on first use."""
    global _portal_product_id
    from portal.models import Product

    if _portal_product_id is not None:
        product = Product.objects.filter(pk=_portal_product_id).first()
        if product is not None:
            return product
    product = Product.objects.filter(slug=PORTAL_SLUG, is_internal=True).first() or portal_product_ensure()
    _portal_product_id = product.pk
    return product


def _event(name: str, user, properties: dict[str, Any], *, at=None, event_uuid: str | None = None) -> dict[str, Any]:
    return {
        "event": name,
        "distinct_id": str(user.pk),
        "timestamp": (at or timezone.now()).isoformat(),
        "uuid": event_uuid or str(uuid.uuid4()),
        "properties": {"role": "admin" if user.is_superuser else user.role, **properties},
    }


def track_at(name: str, user, *, at, event_uuid: str, **properties: Any) -> None:
    """Buffer one usage event that happened at `at` (demo history: portal.demo.seed_usage).
    Same buffer, flush and ingestion as live usage; a fixed uuid keeps a re-run from doubling it."""
    _redis().rpush(buffer_key(), json.dumps(_event(name, user, properties, at=at, event_uuid=event_uuid), default=str))


def track(name: str, user, **properties: Any) -> None:
    """Buffer one usage event. Never raises."""
    try:
        if user is None or not getattr(user, "is_authenticated", False):
            return
        _redis().rpush(buffer_key(), json.dumps(_event(name, user, properties), default=str))
    except Exception as exc:  # noqa: BLE001 - usage tracking must never break a request
        logger.warning("usage event %s not buffered: %s", name, exc)


def track_action(*, user, action: str, target=None) -> None:
    """A key action (called from audit_record); buffered after the transaction commits."""
    if user is None or not getattr(user, "pk", None) or not _in_request.get():
        return
    # product_id only (no query here); the slug is resolved when the buffer is flushed.
    product_id = getattr(target, "product_id", None) if target is not None else None
    if target is not None and target._meta.label_lower == "portal.product":
        product_id = target.pk
    tool = ACTION_TOOLS.get(action.split(".", 1)[0], "portal")
    props = {"action": action, "tool": tool, "_product_id": product_id}
    transaction.on_commit(lambda: track("action_performed", user, **props))


def flush(*, limit: int = FLUSH_BATCH) -> int:
    """Move up to `limit` buffered events into analytics; returns how many were ingested."""
    from analytics.services import events_ingest

    client = _redis()
    key = buffer_key()
    pipe = client.pipeline()
    pipe.lrange(key, 0, limit - 1)
    pipe.ltrim(key, limit, -1)
    raw, _ = pipe.execute()
    if not raw:
        return 0
    events = []
    for item in raw:
        try:
            events.append(json.loads(item))
        except (TypeError, ValueError):
            logger.warning("dropping unreadable usage event %r", item[:100])
    _resolve_products(events)
    try:
        result = events_ingest(product=portal_product(), events=events)
    except Exception:
        # Put them back so the next run retries (uuids make the retry idempotent).
        client.rpush(key, *raw)
        raise
    return result.accepted + result.quarantined


def flush_all() -> int:
    total = 0
    while True:
        n = flush()
        total += n
        if n == 0 or n < FLUSH_BATCH:
            return total


def _product_candidates(request) -> list[str]:
    """Values in the URL that may be a product slug; checked against products at flush time
    (so the request itself never queries the database for usage tracking)."""
    match = request.resolver_match
    kwargs = match.kwargs if match else {}
    values = [kwargs.get("product_slug"), kwargs.get("product"), kwargs.get("slug"), request.GET.get("product")]
    return [v[:60] for v in values if isinstance(v, str) and v]


def page_view_properties(match, path: str, candidates: list[str]) -> dict[str, Any]:
    """The page_viewed properties for a resolved URL (shared by the middleware and the demo history)."""
    tool = (match.namespace.split(":")[0] if match and match.namespace else "portal") or "portal"
    return {
        "tool": tool,
        "page": (match.url_name or "") if match else "",
        "path": path[:200],
        "_product_candidates": candidates,
    }


def _resolve_products(events: list[dict]) -> None:
    """Turn the buffered product hints into a `product` slug property (one query per batch)."""
    from portal.models import Product

    if not events:
        return
    rows = Product.objects.values_list("pk", "slug")
    by_id = dict(rows)
    slugs = set(by_id.values())
    for event in events:
        props = event.setdefault("properties", {})
        candidates = props.pop("_product_candidates", None) or []
        product_id = props.pop("_product_id", None)
        slug = props.get("product") or ""
        if not slug and product_id in by_id:
            slug = by_id[product_id]
        if not slug:
            slug = next((c for c in candidates if c in slugs), "")
        props["product"] = slug


class UsageMiddleware:
    """Records a page_viewed event for every successful HTML page a signed-in person opens."""

    SKIP_PREFIXES = ("/static/", "/api/", "/healthz", "/favicon.ico", "/accounts/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_scope():
            response = self.get_response(request)
        try:
            if (
                request.method == "GET"
                and response.status_code == 200
                and response.get("Content-Type", "").startswith("text/html")
                and not request.path.startswith(self.SKIP_PREFIXES)
                and getattr(request, "user", None) is not None
                and request.user.is_authenticated
            ):
                props = page_view_properties(request.resolver_match, request.path, _product_candidates(request))
                track("page_viewed", request.user, **props)
        except Exception as exc:  # noqa: BLE001 - never break a request
            logger.warning("page view not recorded: %s", exc)
        return response
