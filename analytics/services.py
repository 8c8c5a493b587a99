"""Analytics writes: the tracking plan, sources and THE ingestion path (events_ingest)."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from analytics import ingest
from analytics.models import (
    EventDefinition,
    PlanChange,
    PropertyDefinition,
    RejectedEvent,
    Source,
)
from portal import tokens
from portal.models import Product, User
from portal.services import audit_record

log = logging.getLogger(__name__)

WRITE_KEY_PREFIX = "wk_"
MAX_BATCH_EVENTS = 1000
MAX_BATCH_BYTES = 5 * 1024 * 1024


# --- Sources -------------------------------------------------------------------------------


@transaction.atomic
def source_create(
    *, product: Product, name: str, enforcement: str = Source.Enforcement.ALLOW, by: User | None = None
) -> tuple[Source, str]:
    """Create a source; returns it and its write key, which is never retrievable again."""
    secret = tokens.new_secret(WRITE_KEY_PREFIX)
    source = Source(
        product=product,
        name=name,
        enforcement=enforcement,
        prefix=secret[:10],
        key_hash=tokens.hash_secret(secret),
        created_by=by,
    )
    source.full_clean()
    source.save()
    audit_record(actor=by, action="source.create", target=source, changes={"enforcement": enforcement})
    return source, secret


@transaction.atomic
def source_revoke(*, source: Source, by: User | None) -> Source:
    if source.revoked_at is None:
        source.revoked_at = timezone.now()
        source.save(update_fields=["revoked_at"])
        audit_record(actor=by, action="source.revoke", target=source)
    return source


def source_authenticate(secret: str) -> tuple[Source | None, str]:
    """The active source for a write key, or None and the sentence explaining why."""
    if not secret:
        return None, "Missing write key: send 'Authorization: Bearer <source write key>'."
    source = Source.objects.select_related("product").filter(key_hash=tokens.hash_secret(secret)).first()
    if source is None:
        return None, "Unknown write key: check the key of your source (shown once when it was created)."
    if source.revoked_at is not None:
        return None, f"This write key was revoked on {source.revoked_at:%Y-%m-%d}; create a new source key."
    now = timezone.now()
    if source.last_used_at is None or now - source.last_used_at > timedelta(minutes=1):
        Source.objects.filter(pk=source.pk).update(last_used_at=now)
    return source, ""


# --- Tracking plan -------------------------------------------------------------------------


def _record(product: Product, by: User | None, action: str, target: str, changes: dict | None = None) -> None:
    PlanChange.objects.create(product=product, actor=by, action=action, target=target, changes=changes or {})


def plan_record_change(*, obj, by: User | None, created: bool, changed: list[str] | None = None) -> None:
    """Change history for an edit made elsewhere (the admin): who, what, when."""
    if isinstance(obj, EventDefinition):
        product, kind, target = obj.product, "event", obj.name
    else:
        product, kind, target = obj.event.product, "property", f"{obj.event.name}.{obj.name}"
    action = f"{kind}.{'create' if created else 'update'}"
    changes = {f: _jsonable(getattr(obj, f, None)) for f in (changed or [])}
    _record(product, by, action, target, changes)
    audit_record(actor=by, action=f"tracking_plan.{action}", target=obj, changes=changes)


def plan_record_delete(*, obj, by: User | None) -> None:
    if isinstance(obj, EventDefinition):
        product, kind, target = obj.product, "event", obj.name
    else:
        product, kind, target = obj.event.product, "property", f"{obj.event.name}.{obj.name}"
    _record(product, by, f"{kind}.delete", target)
    audit_record(actor=by, action=f"tracking_plan.{kind}.delete", target_label=target)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "pk"):
        return str(value)
    if isinstance(value, (list, str, int, float, bool)) or value is None:
        return value
    return str(value)


@transaction.atomic
def event_definition_create(
    *,
    product: Product,
    name: str,
    description: str = "",
    owner: User | None = None,
    status: str = EventDefinition.Status.PLANNED,
    tags: list[str] | None = None,
    verified: bool = False,
    by: User | None = None,
) -> EventDefinition:
    definition = EventDefinition(
        product=product,
        name=name,
        description=description,
        owner=owner,
        status=status,
        tags=tags or [],
        verified=verified,
    )
    definition.full_clean()
    definition.save()
    plan_record_change(obj=definition, by=by, created=True, changed=["status", "owner", "tags"])
    return definition


@transaction.atomic
def event_definition_update(*, definition: EventDefinition, by: User | None, **fields: Any) -> EventDefinition:
    allowed = {"name", "description", "owner", "status", "tags", "verified"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"Cannot update {', '.join(sorted(unknown))}")
    changed = [k for k, v in fields.items() if getattr(definition, k) != v]
    for key, value in fields.items():
        setattr(definition, key, value)
    definition.full_clean()
    definition.save()
    if changed:
        plan_record_change(obj=definition, by=by, created=False, changed=changed)
    return definition


@transaction.atomic
def property_definition_create(
    *,
    event: EventDefinition,
    name: str,
    type: str = PropertyDefinition.Type.STRING,
    required: bool = False,
    enum_values: list[str] | None = None,
    description: str = "",
    pii: str = PropertyDefinition.Pii.NONE,
    by: User | None = None,
) -> PropertyDefinition:
    prop = PropertyDefinition(
        event=event,
        name=name,
        type=type,
        required=required,
        enum_values=enum_values or [],
        description=description,
        pii=pii,
    )
    prop.full_clean()
    prop.save()
    plan_record_change(obj=prop, by=by, created=True, changed=["type", "required", "enum_values", "pii"])
    return prop


def plan_snapshot(product: Product) -> ingest.Plan:
    """The product's tracking plan as the checker needs it (two queries)."""
    events: dict[str, ingest.EventRule] = {}
    for pk, name, status in EventDefinition.objects.filter(product=product).values_list("pk", "name", "status"):
        events[name] = ingest.EventRule(name=name, status=status)
        events[name].pk = pk  # type: ignore[attr-defined]
    by_pk = {rule.pk: rule for rule in events.values()}  # type: ignore[attr-defined]
    rows = PropertyDefinition.objects.filter(event__product=product).values_list(
        "event_id", "name", "type", "required", "enum_values"
    )
    for event_id, name, ptype, required, enum_values in rows:
        by_pk[event_id].properties.append(
            ingest.PropertyRule(name=name, type=ptype, required=required, enum_values=frozenset(enum_values or []))
        )
    return ingest.Plan(
        product_name=product.name,
        events=events,
        max_future=timedelta(hours=getattr(settings, "ANALYTICS_MAX_FUTURE_HOURS", 24)),
        max_past=timedelta(days=getattr(settings, "ANALYTICS_MAX_PAST_DAYS", 365)),
    )


# --- Ingestion -----------------------------------------------------------------------------


@dataclass
class IngestResult:
    accepted: int = 0
    quarantined: int = 0
    rejected: int = 0
    duplicate: int = 0
    results: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "rejected": self.rejected,
            "duplicate": self.duplicate,
            "results": self.results,
        }


_INSERT_SQL = """
INSERT INTO analytics_event
    (product_id, source_id, received_at, uuid, event, distinct_id, timestamp, properties, status, reasons)
SELECT %s, %s, %s, x.u, x.e, x.d, x.t, x.p::jsonb, x.s, x.r::jsonb
FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::timestamptz[], %s::text[], %s::text[], %s::text[])
    AS x(u, e, d, t, p, s, r)
ON CONFLICT DO NOTHING
RETURNING uuid
"""

_DIRTY_SQL = """
INSERT INTO analytics_dirtyday (product_id, day, marked_at)
SELECT %s, d, now() FROM unnest(%s::date[]) AS d
ON CONFLICT (product_id, day) DO UPDATE SET marked_at = now()
"""


@transaction.atomic
def events_ingest(*, product: Product, events: list[dict], source: Source | None = None) -> IngestResult:
    """Check a batch against the tracking plan and store it in bulk; one result per event.

    Structurally broken events and (in `reject` mode) violating events are kept in
    RejectedEvent with their reasons; `quarantine` mode stores violating events with
    status quarantined (not counted in dashboards); `allow` stores them flagged. An event
    whose `uuid` was stored before is a duplicate (idempotent retries). Without a source
    (internal callers: experiments, portal usage) the mode is `allow`.
    """
    import json

    now = timezone.now()
    mode = source.enforcement if source is not None else Source.Enforcement.ALLOW
    plan = plan_snapshot(product)
    result = IngestResult()
    statuses: list[str] = [""] * len(events)
    reasons_out: list[list[dict]] = [[] for _ in events]
    to_store: list[ingest.Checked] = []
    rejected: list[RejectedEvent] = []
    seen_uuids: set[str] = set()
    for index, raw in enumerate(events):
        checked = ingest.check(index, raw, plan, now)
        if checked.errors or (checked.violations and mode == Source.Enforcement.REJECT):
            why = checked.errors or checked.violations
            statuses[index] = "rejected"
            reasons_out[index] = why
            rejected.append(
                RejectedEvent(
                    product=product,
                    source=source,
                    received_at=now,
                    event=(raw.get("event") if isinstance(raw, dict) and isinstance(raw.get("event"), str) else "")[
                        :200
                    ],
                    payload=_safe_payload(raw),
                    reasons=why,
                )
            )
            continue
        if checked.uuid is not None:
            if checked.uuid in seen_uuids:
                statuses[index] = "duplicate"
                continue
            seen_uuids.add(checked.uuid)
        reasons_out[index] = checked.violations
        statuses[index] = "quarantined" if checked.violations and mode == Source.Enforcement.QUARANTINE else "accepted"
        to_store.append(checked)

    if to_store:
        with connection.cursor() as cursor:
            cursor.execute(
                _INSERT_SQL,
                [
                    product.pk,
                    source.pk if source is not None else None,
                    now,
                    [c.uuid for c in to_store],
                    [c.event for c in to_store],
                    [c.distinct_id for c in to_store],
                    [c.timestamp for c in to_store],
                    [c.properties_json for c in to_store],
                    [statuses[c.index] for c in to_store],
                    [json.dumps(reasons_out[c.index]) if reasons_out[c.index] else "[]" for c in to_store],
                ],
            )
            inserted_uuids = {str(row[0]) for row in cursor.fetchall() if row[0] is not None}
            for c in to_store:
                if c.uuid is not None and c.uuid not in inserted_uuids:
                    statuses[c.index] = "duplicate"
                    reasons_out[c.index] = []
            days = sorted({c.timestamp.date() for c in to_store if statuses[c.index] != "duplicate"})
            if days:
                cursor.execute(_DIRTY_SQL, [product.pk, days])
    if rejected:
        RejectedEvent.objects.bulk_create(rejected)

    counts = Counter(statuses)
    result.accepted = counts["accepted"]
    result.quarantined = counts["quarantined"]
    result.rejected = counts["rejected"]
    result.duplicate = counts["duplicate"]
    result.results = [
        {"index": i, "status": statuses[i], "reasons": [r["message"] for r in reasons_out[i]]}
        for i in range(len(events))
    ]
    result.reason_details = reasons_out  # type: ignore[attr-defined]
    if result.accepted or result.quarantined:
        _dispatch_rollups()
    return result


def _dispatch_rollups() -> None:
    """Ask the worker to re-roll dirty days soon; beat also sweeps them, so a broker outage loses nothing."""
    from django.core.cache import cache

    from analytics import tasks

    try:
        # Coalesce: one pending sweep is enough however many batches arrive meanwhile.
        if cache.add(tasks.ROLLUP_PENDING_KEY, 1, timeout=60):
            tasks.rollup_dirty.delay_on_commit()
    except Exception:  # noqa: BLE001 - the broker being down must not fail ingestion
        log.warning("analytics: could not dispatch rollup_dirty; beat will pick the days up", exc_info=True)


def _safe_payload(raw: Any) -> Any:
    import json

    try:
        text = json.dumps(raw, default=str)
    except (TypeError, ValueError):
        return {"unserialisable": repr(raw)[:2000]}
    if "\\u0000" in text:
        return {"raw": text.replace("\\u0000", "")[:100000]}
    return raw
