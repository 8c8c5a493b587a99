"""Analytics writes: the tracking plan, sources and THE ingestion path (events_ingest)."""

from __future__ import annotations

import io
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, models, transaction
from django.utils import timezone

from analytics import ingest
from analytics.models import (
    Dashboard,
    DashboardTemplate,
    EventDefinition,
    Insight,
    PlanChange,
    PropertyDefinition,
    RejectedEvent,
    Source,
    Tile,
    TileResult,
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


# Bulk write: the batch is COPY'd (CSV) into a per-session staging table, then inserted in one
# statement; ON CONFLICT skips uuids stored before, RETURNING tells which ones were new.
_STAGE_CREATE = """
CREATE TEMP TABLE IF NOT EXISTS analytics_ingest_stage
    (u uuid, e text, d text, t timestamptz, p jsonb, s text, r jsonb)
"""
_STAGE_COPY = "COPY analytics_ingest_stage (u, e, d, t, p, s, r) FROM STDIN WITH (FORMAT csv, FORCE_NULL (u))"
_INSERT_SQL = """
INSERT INTO analytics_event
    (product_id, source_id, received_at, uuid, event, distinct_id, timestamp, properties, status, reasons)
SELECT %s, %s, %s, u, e, d, t, p, s, r FROM analytics_ingest_stage
ORDER BY u  -- concurrent batches sharing uuids (SDK retries) take the unique-index locks in one order
ON CONFLICT DO NOTHING
RETURNING uuid::text
"""


def _stage_rows(to_store: list, statuses: list[str], reasons_out: list[list[dict]]) -> io.StringIO:
    """The events to store as CSV for COPY (every field quoted; an empty uuid is NULL: FORCE_NULL)."""
    import csv
    import json

    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    rows = []
    for c in to_store:
        why = reasons_out[c.index]
        rows.append(
            (
                c.uuid or None,
                c.event,
                c.distinct_id,
                c.timestamp.isoformat(),
                c.properties_json,
                statuses[c.index],
                json.dumps(why) if why else "[]",
            )
        )
    writer.writerows(rows)
    buffer.seek(0)
    return buffer


_DIRTY_SQL = """
INSERT INTO analytics_dirtyday (product_id, day, marked_at)
SELECT %s, d, now() FROM unnest(%s::date[]) AS d
ON CONFLICT (product_id, day) DO UPDATE SET marked_at = now()
"""


DEADLOCK_RETRIES = 3


def events_ingest(*, product: Product, events: list[dict], source: Source | None = None) -> IngestResult:
    """Check a batch against the tracking plan and store it in bulk; one result per event.

    Rows are written in a fixed order (uuids, violation types, days), so concurrent batches do
    not deadlock; should PostgreSQL still pick this batch as a deadlock victim, the whole batch
    is rolled back and run again (when we own the transaction), so a client never sees a 500
    for it.
    """
    for attempt in range(1, DEADLOCK_RETRIES + 1):
        try:
            return _events_ingest_once(product=product, events=events, source=source)
        except OperationalError as exc:
            deadlock = getattr(exc.__cause__, "pgcode", None) in ("40P01", "40001")
            if not deadlock or connection.in_atomic_block or attempt == DEADLOCK_RETRIES:
                raise
            log.warning("analytics: batch of %d events lost a deadlock; retrying (%d)", len(events), attempt)
    raise AssertionError("unreachable")


@transaction.atomic
def _events_ingest_once(*, product: Product, events: list[dict], source: Source | None = None) -> IngestResult:
    """One attempt of events_ingest, in one transaction.

    Structurally broken events and (in `reject` mode) violating events are kept in
    RejectedEvent with their reasons; `quarantine` mode stores violating events with
    status quarantined (not counted in dashboards); `allow` stores them flagged. An event
    whose `uuid` was stored before is a duplicate (idempotent retries). Without a source
    (internal callers: experiments, portal usage) the mode is `allow`.
    """

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
                    event=_raw_name(raw),
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
            cursor.execute(_STAGE_CREATE)
            cursor.execute("TRUNCATE analytics_ingest_stage")
            cursor.copy_expert(_STAGE_COPY, _stage_rows(to_store, statuses, reasons_out))
            cursor.execute(_INSERT_SQL, [product.pk, source.pk if source is not None else None, now])
            inserted_uuids = {str(row[0]) for row in cursor.fetchall() if row[0] is not None}
            for c in to_store:
                if c.uuid is not None and c.uuid not in inserted_uuids:
                    statuses[c.index] = "duplicate"
                    reasons_out[c.index] = []
    if rejected:
        RejectedEvent.objects.bulk_create(rejected)
    _violations_record(product, events, statuses, reasons_out, now)
    # Last, so the row locks on the product's dirty days (every concurrent batch of the product
    # updates the same few rows) are held only until the commit, not for the whole batch.
    days = sorted({c.timestamp.date() for c in to_store if statuses[c.index] != "duplicate"})
    if days:
        with connection.cursor() as cursor:
            cursor.execute(_DIRTY_SQL, [product.pk, days])

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
        rollups_dispatch()
    return result


_VIOLATION_SQL = """
INSERT INTO analytics_violationtype (product_id, event, code, property, example, first_seen, last_seen, count)
SELECT %s, x.e, x.c, x.p, x.m, %s, %s, x.n
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[]) AS x(e, c, p, m, n)
ON CONFLICT (product_id, event, code, property)
DO UPDATE SET last_seen = EXCLUDED.last_seen, count = analytics_violationtype.count + EXCLUDED.count
RETURNING id, (xmax = 0) AS inserted
"""


def _violations_record(product: Product, events: list, statuses: list[str], reasons: list[list[dict]], now) -> None:
    """Count violation types; a type never seen before alerts the event's owner."""
    counts: Counter = Counter()
    examples: dict[tuple, str] = {}
    for i, why in enumerate(reasons):
        if not why or statuses[i] == "duplicate":
            continue
        name = _raw_name(events[i])
        for r in why:
            key = (name, r["code"], r.get("property", ""))
            counts[key] += 1
            examples.setdefault(key, r["message"][:500])
    if not counts:
        return
    keys = sorted(counts)  # one lock order for every concurrent batch (no deadlocks)
    with connection.cursor() as cursor:
        cursor.execute(
            _VIOLATION_SQL,
            [
                product.pk,
                now,
                now,
                [k[0] for k in keys],
                [k[1] for k in keys],
                [k[2] for k in keys],
                [examples[k] for k in keys],
                [counts[k] for k in keys],
            ],
        )
        new_ids = [row[0] for row in cursor.fetchall() if row[1]]
    if new_ids:
        from analytics import tasks

        for pk in new_ids:
            _safe_dispatch(tasks.violation_alert, pk)


def _safe_dispatch(task, *args) -> None:
    try:
        task.delay_on_commit(*args)
    except Exception:  # noqa: BLE001 - the broker being down must not fail ingestion
        log.warning("analytics: could not dispatch %s", task.name, exc_info=True)


def rollups_dispatch() -> None:
    """Ask the worker to re-roll dirty days soon; beat also sweeps them, so a broker outage loses nothing."""
    from django.core.cache import cache

    from analytics import tasks

    try:
        # Coalesce: one pending sweep is enough however many batches arrive meanwhile.
        if cache.add(tasks.ROLLUP_PENDING_KEY, 1, timeout=60):
            tasks.rollup_dirty.delay_on_commit()
    except Exception:  # noqa: BLE001 - the broker being down must not fail ingestion
        log.warning("analytics: could not dispatch rollup_dirty; beat will pick the days up", exc_info=True)


def _raw_name(raw: Any) -> str:
    """The event name as received, made storable (no NULs, no lone surrogates), for reports."""
    name = raw.get("event") if isinstance(raw, dict) and isinstance(raw.get("event"), str) else ""
    return name.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")[:200]


def _safe_payload(raw: Any) -> Any:
    """What was received, storable as JSONB whatever it contains (NULs, lone surrogates)."""
    import json

    try:
        text = json.dumps(raw, default=str, ensure_ascii=False)
        text.encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError):
        return {"unstorable": repr(raw)[:100000]}
    if "\\u0000" in text:
        return {"unstorable": text.replace("\\u0000", "")[:100000]}
    return raw


# --- Insights and dashboards ---------------------------------------------------------------

STALE_AFTER = timedelta(minutes=15)  # a cached tile older than this is refreshed in the background
REQUEUE_AFTER = timedelta(minutes=5)  # a queued tile not picked up by then is queued again


def spec_resolve(*, product: Product, spec: dict) -> dict:
    """Replace the standard placeholders ($key_funnel, $feature_events) with the product's events."""
    from analytics import queries

    out = dict(spec)
    if out.get("steps") == "$key_funnel":
        tagged = []
        for name, tags in EventDefinition.objects.filter(product=product, tags__overlap=_FUNNEL_TAGS).values_list(
            "name", "tags"
        ):
            order = min(int(t.split(":")[1]) for t in tags if t in _FUNNEL_TAGS)
            tagged.append((order, name))
        out["steps"] = [name for _order, name in sorted(tagged)]
        if len(out["steps"]) < 2:
            raise queries.SpecError(
                "steps: no key funnel yet — tag two or more events funnel:1, funnel:2… in the tracking plan."
            )
    if out.get("events") == "$feature_events":
        names = list(
            EventDefinition.objects.filter(product=product, tags__contains=["feature"])
            .exclude(status=EventDefinition.Status.HIDDEN)
            .order_by("name")
            .values_list("name", flat=True)[:8]
        )
        if not names:
            raise queries.SpecError("events: no feature events yet — tag events 'feature' in the tracking plan.")
        math = out.pop("math", "count")
        out["events"] = [{"event": n, "math": math} for n in names]
    return out


_FUNNEL_TAGS = [f"funnel:{i}" for i in range(1, 11)]


def spec_validate(spec: Any) -> dict:
    """Shape-check a user-written spec (placeholders allowed); raises ValidationError on 'spec'."""
    from django.core.exceptions import ValidationError

    from analytics import queries

    probe = dict(spec) if isinstance(spec, dict) else spec
    if isinstance(probe, dict):
        if probe.get("steps") == "$key_funnel":
            probe["steps"] = ["a", "b"]
        if probe.get("events") == "$feature_events":
            probe["events"] = ["a"]
    try:
        queries.normalise(probe)
    except queries.SpecError as exc:
        raise ValidationError({"spec": str(exc)}) from None
    return spec


@transaction.atomic
def insight_create(
    *, product: Product, name: str, spec: dict, description: str = "", by: User | None = None
) -> Insight:
    spec_validate(spec)
    insight = Insight(product=product, name=name, spec=spec, description=description, created_by=by)
    insight.full_clean()
    insight.save()
    return insight


@transaction.atomic
def dashboard_create(*, product: Product, name: str, description: str = "", by: User | None = None) -> Dashboard:
    dashboard = Dashboard(product=product, name=name, description=description, created_by=by)
    dashboard.full_clean()
    dashboard.save()
    audit_record(actor=by, action="dashboard.create", target=dashboard)
    return dashboard


@transaction.atomic
def tile_add(*, dashboard: Dashboard, title: str, spec: dict, width: int = 1, by: User | None = None) -> Tile:
    spec_validate(spec)
    position = (dashboard.tiles.aggregate(m=models.Max("position"))["m"] or 0) + 1
    tile = Tile(dashboard=dashboard, title=title, spec=spec, width=width, position=position)
    tile.full_clean()
    tile.save()
    return tile


@transaction.atomic
def dashboard_save_filters(
    *, dashboard: Dashboard, date_from: str, date_to: str, filters: list[dict], by: User | None
) -> Dashboard:
    from analytics import queries

    try:
        queries.normalise({"type": "top_events", "date_from": date_from, "date_to": date_to, "filters": filters})
    except queries.SpecError as exc:
        from django.core.exceptions import ValidationError

        raise ValidationError({"filters": str(exc)}) from None
    dashboard.date_from, dashboard.date_to, dashboard.filters = date_from or "-30d", date_to or "", filters
    dashboard.full_clean()
    dashboard.save(update_fields=["date_from", "date_to", "filters", "updated_at"])
    return dashboard


@transaction.atomic
def dashboard_templates_ensure_defaults() -> int:
    """Create the standard templates that do not exist yet (ops leads' edits are kept)."""
    from analytics.standard import STANDARD_TEMPLATES

    created = 0
    for t in STANDARD_TEMPLATES:
        _obj, was_created = DashboardTemplate.objects.get_or_create(
            slug=t["slug"],
            defaults={
                "name": t["name"],
                "description": t["description"],
                "tiles": t["tiles"],
                "position": t["position"],
            },
        )
        created += was_created
    return created


@transaction.atomic
def dashboards_ensure_standard(*, products: list[Product] | None = None) -> int:
    """Every product gets every active template as a dashboard; tiles follow template edits.

    A fresh install (no templates at all yet) starts from the standard set; after that the
    ops leads' templates are the truth (deactivate rather than delete to retire one)."""
    if not DashboardTemplate.objects.exists():
        dashboard_templates_ensure_defaults()
    templates = list(DashboardTemplate.objects.filter(is_active=True))
    created = 0
    for product in products if products is not None else Product.objects.all():
        for template in templates:
            dashboard, was_created = Dashboard.objects.get_or_create(
                product=product,
                template=template,
                defaults={"name": template.name, "description": template.description},
            )
            created += was_created
            wanted = [(t["title"], t["spec"], int(t.get("width", 1))) for t in template.tiles]
            have = [(t.title, t.spec, t.width) for t in dashboard.tiles.all()]
            if wanted != have:
                dashboard.tiles.all().delete()
                Tile.objects.bulk_create(
                    Tile(dashboard=dashboard, title=title, spec=spec, width=width, position=i)
                    for i, (title, spec, width) in enumerate(wanted)
                )
    return created


def filters_key(effective: dict) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(effective, sort_keys=True, default=str).encode()).hexdigest()


def effective_filters(*, dashboard: Dashboard, overrides: dict | None = None) -> dict:
    """The filters a view of a dashboard uses: saved ones, overridden by the query string."""
    overrides = overrides or {}
    return {
        "date_from": overrides.get("date_from") or dashboard.date_from,
        "date_to": overrides.get("date_to") if "date_to" in overrides else dashboard.date_to,
        "filters": overrides.get("filters", dashboard.filters),
    }


def tile_results_request(*, tiles: list[Tile], effective: dict, force: bool = False) -> dict[int, TileResult]:
    """Cached results for these tiles; missing or stale ones are queued for a background refresh."""
    from analytics import tasks

    key = filters_key(effective)
    now = timezone.now()
    results = {r.tile_id: r for r in TileResult.objects.filter(tile__in=tiles, filters_key=key)}
    missing = [TileResult(tile=t, filters_key=key, filters=effective) for t in tiles if t.pk not in results]
    if missing:
        TileResult.objects.bulk_create(missing, ignore_conflicts=True)
        results = {r.tile_id: r for r in TileResult.objects.filter(tile__in=tiles, filters_key=key)}
    to_queue = []
    for r in results.values():
        pending = r.status in (TileResult.Status.QUEUED, TileResult.Status.COMPUTING)
        if pending and r.requested_at and now - r.requested_at < REQUEUE_AFTER:
            continue
        stale = r.computed_at is None or now - r.computed_at > STALE_AFTER
        if force or stale or pending:
            to_queue.append(r.pk)
    if to_queue:
        TileResult.objects.filter(pk__in=to_queue).update(status=TileResult.Status.QUEUED, requested_at=now)
        for pk in to_queue:
            results_by_pk = next(r for r in results.values() if r.pk == pk)
            results_by_pk.status, results_by_pk.requested_at = TileResult.Status.QUEUED, now
            _safe_dispatch(tasks.tile_refresh, pk)
    return results


def tile_result_compute(*, result_id: int) -> TileResult | None:
    """Run a tile's query with its filters and store the result (idempotent)."""
    import time

    from analytics import queries

    result = TileResult.objects.select_related("tile__dashboard__product").filter(pk=result_id).first()
    if result is None:
        return None
    TileResult.objects.filter(pk=result.pk).update(status=TileResult.Status.COMPUTING)
    tile = result.tile
    product = tile.dashboard.product
    f = result.filters or {}
    started = time.monotonic()
    try:
        spec = spec_resolve(product=product, spec=tile.spec)
        spec = queries.merge_filters(
            spec, date_from=f.get("date_from"), date_to=f.get("date_to"), filters=f.get("filters")
        )
        if tile.spec.get("date_from") and f.get("date_from") == tile.dashboard.date_from:
            spec["date_from"] = tile.spec["date_from"]  # a tile's own window (e.g. 9 weeks of retention)
        data = queries.run(product.pk, spec)
        result.result, result.error, result.status = data, "", TileResult.Status.READY
        result.view = tile_view(tile=tile, data=data)
    except queries.SpecError as exc:
        result.result, result.view, result.error, result.status = None, None, str(exc), TileResult.Status.ERROR
    result.computed_at = timezone.now()
    result.duration_ms = int((time.monotonic() - started) * 1000)
    result.save(update_fields=["result", "view", "error", "status", "computed_at", "duration_ms"])
    return result


def tile_view(*, tile: Tile, data: dict) -> dict:
    """What a tile's card shows, rendered once when the result is computed (plotly figures
    are slow to build; cached pages only embed the stored JSON)."""
    from analytics import charts
    from portal.charts import figure_json

    show = tile.spec.get("show")
    fig = charts.figure_for(data, title=tile.title, show=show)
    view: dict = {"summary": charts.summary_for(data, tile.title), "figure": figure_json(fig) if fig else None}
    view["kpis"] = charts.kpis_for(data) if show != "stickiness" else []
    if data.get("kind") in ("table", "funnel"):
        view["table"] = charts.display_table(*charts.table_for(data))
    return view


def violation_alert_send(*, violation_id: int) -> None:
    """In-app (and email where configured) alert to the event's owner about a new violation type."""
    from django.core.mail import send_mail
    from django.urls import reverse

    from analytics.models import ViolationType
    from portal.services import notify

    violation = ViolationType.objects.select_related("product").filter(pk=violation_id).first()
    if violation is None:
        return
    definition = (
        EventDefinition.objects.select_related("owner").filter(product=violation.product, name=violation.event).first()
    )
    owner = (definition.owner if definition else None) or violation.product.pm_owner
    if owner is None:
        return
    url = reverse("analytics:quality", args=[violation.product.slug])
    title = f"New tracking-plan violation in {violation.product.name}: {violation.event or '(no name)'}"
    body = f"{violation.example}\n\nFirst seen {violation.first_seen:%Y-%m-%d %H:%M} UTC."
    sent = notify(
        user=owner,
        kind="analytics.violation",
        title=title,
        body=body,
        url=url,
        dedupe_key=f"analytics.violation:{violation.pk}",
    )
    if sent is not None and owner.email and getattr(settings, "ANALYTICS_ALERT_EMAILS", False):
        send_mail(title, body, None, [owner.email], fail_silently=True)


# --- Tracking plan import / export ---------------------------------------------------------

PLAN_CSV_COLUMNS = [
    "event",
    "event_description",
    "status",
    "owner",
    "tags",
    "verified",
    "property",
    "type",
    "enum_values",
    "required",
    "pii",
    "property_description",
]


def plan_export(*, product: Product) -> dict:
    events = []
    for d in EventDefinition.objects.filter(product=product).select_related("owner").prefetch_related("properties"):
        events.append(
            {
                "name": d.name,
                "description": d.description,
                "status": d.status,
                "owner": d.owner.username if d.owner else None,
                "tags": d.tags,
                "verified": d.verified,
                "properties": [
                    {
                        "name": p.name,
                        "type": p.type,
                        "enum_values": p.enum_values,
                        "required": p.required,
                        "description": p.description,
                        "pii": p.pii,
                    }
                    for p in d.properties.all()
                ],
            }
        )
    return {"product": product.slug, "exported_at": timezone.now().isoformat(), "events": events}


def plan_export_csv_rows(*, product: Product) -> list[list]:
    rows = []
    for e in plan_export(product=product)["events"]:
        head = [e["name"], e["description"], e["status"], e["owner"] or "", ";".join(e["tags"]), e["verified"]]
        if not e["properties"]:
            rows.append([*head, "", "", "", "", "", ""])
        for p in e["properties"]:
            rows.append(
                [*head, p["name"], p["type"], "|".join(p["enum_values"]), p["required"], p["pii"], p["description"]]
            )
    return rows


def plan_from_csv(text: str) -> dict:
    """Parse the CSV export format back into the JSON shape; errors name the row."""
    import csv
    import io

    from django.core.exceptions import ValidationError

    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("event", "property", "type") if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationError({"file": f"CSV header is missing column(s): {', '.join(missing)}."})
    events: dict[str, dict] = {}
    for row in reader:
        name = (row.get("event") or "").strip()
        if not name:
            raise ValidationError({"file": f"Row {reader.line_num}: 'event' is empty."})
        e = events.setdefault(
            name,
            {
                "name": name,
                "description": row.get("event_description") or "",
                "status": row.get("status") or "planned",
                "owner": row.get("owner") or None,
                "tags": [t for t in (row.get("tags") or "").split(";") if t],
                "verified": _truthy(row.get("verified")),
                "properties": [],
            },
        )
        if (row.get("property") or "").strip():
            e["properties"].append(
                {
                    "name": row["property"].strip(),
                    "type": row.get("type") or "string",
                    "enum_values": [v for v in (row.get("enum_values") or "").split("|") if v],
                    "required": _truthy(row.get("required")),
                    "pii": row.get("pii") or "none",
                    "description": row.get("property_description") or "",
                }
            )
    return {"events": list(events.values())}


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "y")


@transaction.atomic
def plan_import(*, product: Product, data: Any, by: User | None) -> dict:
    """Create or update definitions from an export; all or nothing, errors name the entry."""
    from django.core.exceptions import ValidationError

    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise ValidationError({"file": "Expected an object with an 'events' list (the export format)."})
    users = {u.username: u for u in User.objects.all()}
    summary = {"events_created": 0, "events_updated": 0, "properties_created": 0, "properties_updated": 0}
    for i, e in enumerate(data["events"]):
        where = f"events[{i}]"
        if not isinstance(e, dict) or not e.get("name"):
            raise ValidationError({"file": f"{where}: needs a 'name'."})
        owner = None
        if e.get("owner"):
            owner = users.get(e["owner"])
            if owner is None:
                raise ValidationError({"file": f"{where} ({e['name']}): unknown owner {e['owner']!r}."})
        fields = {
            "description": e.get("description", ""),
            "status": e.get("status", "planned"),
            "owner": owner,
            "tags": list(e.get("tags") or []),
            "verified": bool(e.get("verified", False)),
        }
        definition = EventDefinition.objects.filter(product=product, name=e["name"]).first()
        try:
            if definition is None:
                definition = event_definition_create(product=product, name=e["name"], by=by, **fields)
                summary["events_created"] += 1
            else:
                changed = {k: v for k, v in fields.items() if getattr(definition, k) != v}
                if changed:
                    event_definition_update(definition=definition, by=by, **changed)
                    summary["events_updated"] += 1
            for j, p in enumerate(e.get("properties") or []):
                where = f"events[{i}].properties[{j}]"
                if not isinstance(p, dict) or not p.get("name"):
                    raise ValidationError({"file": f"{where}: needs a 'name'."})
                pfields = {
                    "type": p.get("type", "string"),
                    "required": bool(p.get("required", False)),
                    "enum_values": list(p.get("enum_values") or []),
                    "description": p.get("description", ""),
                    "pii": p.get("pii", "none"),
                }
                prop = definition.properties.filter(name=p["name"]).first()
                if prop is None:
                    property_definition_create(event=definition, name=p["name"], by=by, **pfields)
                    summary["properties_created"] += 1
                else:
                    changed = [k for k, v in pfields.items() if getattr(prop, k) != v]
                    if changed:
                        for k in changed:
                            setattr(prop, k, pfields[k])
                        prop.full_clean()
                        prop.save()
                        plan_record_change(obj=prop, by=by, created=False, changed=changed)
                        summary["properties_updated"] += 1
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"error": exc.messages}
            detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
            raise ValidationError({"file": f"{where} ({e['name']}): {detail}"}) from None
    _record(product, by, "plan.import", product.slug, summary)
    audit_record(actor=by, action="tracking_plan.import", target=product, changes=summary)
    return summary
