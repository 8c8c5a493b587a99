"""Feedback writes: ingestion (raw first), processing, themes, signals, reviews.

`items_ingest` is THE ingestion path: the HTTP API, CSV import, webhooks and other apps
(research highlights) all go through it. It stores items first and dispatches the
processing task on commit, so nothing is lost if processing fails.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from feedback import sentiment as sentiment_mod
from feedback import signals as signals_mod
from feedback import themes as themes_mod
from feedback.models import (
    Contact,
    CustomerAccount,
    DuplicateStatus,
    FeedbackItem,
    FeedbackSource,
    ItemState,
    PipelineRun,
    ProductArea,
    Segment,
    SourceKind,
    SpikeAlert,
    Theme,
    ThemeStatus,
    ThemeWeek,
)
from portal.models import Product, User
from portal.permissions import require_ops_lead
from portal.services import audit_record, notify

log = logging.getLogger(__name__)

MAX_ITEMS_PER_REQUEST = 1000
MAX_TEXT_LENGTH = 20_000
MAX_ATTEMPTS = 3
PROCESS_CHUNK = 250
SEGMENT_ALIASES = {
    "enterprise": Segment.ENTERPRISE,
    "ent": Segment.ENTERPRISE,
    "mid_market": Segment.MID_MARKET,
    "mid-market": Segment.MID_MARKET,
    "midmarket": Segment.MID_MARKET,
    "mid market": Segment.MID_MARKET,
    "smb": Segment.SMB,
    "small business": Segment.SMB,
    "consumer": Segment.CONSUMER,
    "b2c": Segment.CONSUMER,
    "unknown": Segment.UNKNOWN,
}
COUNTED = ~Q(duplicate_status__in=[DuplicateStatus.EXACT, DuplicateStatus.CONFIRMED])


# --- sources ------------------------------------------------------------------------------


@transaction.atomic
def source_create(*, name: str, kind: str, by: User | None = None, default_product: Product | None = None):
    if by is not None and (not by.is_authenticated or by.is_viewer):
        raise PermissionDenied("You have view access: viewers can read but not change anything.")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A source needs a name."})
    if kind not in SourceKind.values:
        raise ValidationError({"kind": f"Unknown kind {kind!r}; choose one of {', '.join(SourceKind.values)}."})
    base = slugify(name)[:50] or "source"
    slug, n = base, 2
    while FeedbackSource.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    source = FeedbackSource(name=name, kind=kind, slug=slug, created_by=by, default_product=default_product)
    source.full_clean()
    source.save()
    audit_record(actor=by, action="feedback_source.create", target=source, changes={"kind": kind})
    return source


def source_ensure(*, slug: str, name: str, kind: str) -> FeedbackSource:
    """The source with this slug, created if missing (for other apps' ingestion, e.g. research)."""
    if kind not in SourceKind.values:
        raise ValidationError({"kind": f"Unknown kind {kind!r}; choose one of {', '.join(SourceKind.values)}."})
    source, _ = FeedbackSource.objects.get_or_create(slug=slug, defaults={"name": name, "kind": kind})
    return source


# --- ingestion ----------------------------------------------------------------------------


@dataclass
class IngestResult:
    """Per-item outcome in request order; iterable like the list of results."""

    results: list[dict[str, Any]] = field(default_factory=list)

    def __iter__(self):
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, index):
        return self.results[index]

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r["status"] == status)

    @property
    def summary(self) -> dict[str, int]:
        return {s: self.count(s) for s in ("created", "updated", "rejected")}


def _parse_created_at(value) -> datetime:
    if value in (None, ""):
        return timezone.now()
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO-8601 date-time (e.g. 2026-03-01T09:30:00Z).") from None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    if parsed > timezone.now() + timedelta(days=1):
        raise ValueError("is in the future.")
    return parsed


def _clean_account(value) -> tuple[dict | None, list[str]]:
    if value in (None, ""):
        return None, []
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict):
        return None, ["must be an object with name, segment and arr."]
    name = str(value.get("name") or "").strip()
    if not name:
        return None, ["name is required."]
    if len(name) > 200:
        return None, ["name is longer than 200 characters."]
    out: dict[str, Any] = {"name": name, "key": name.lower(), "contacts": []}
    if value.get("segment") not in (None, ""):
        segment = SEGMENT_ALIASES.get(str(value["segment"]).strip().lower())
        if segment is None:
            return None, [f"segment {value['segment']!r} is not one of {', '.join(Segment.values)}."]
        out["segment"] = segment
    if value.get("arr") not in (None, ""):
        try:
            arr = Decimal(str(value["arr"]).replace(",", "").replace("$", ""))
        except InvalidOperation:
            return None, [f"arr {value['arr']!r} is not a number."]
        if arr < 0 or not arr.is_finite():
            return None, ["arr must be zero or more."]
        out["arr"] = arr.quantize(Decimal("0.01"))
    contacts = value.get("contacts") or []
    if not isinstance(contacts, list):
        return None, ["contacts must be a list of {name, email}."]
    for contact in contacts:
        email = str((contact or {}).get("email") or "").strip().lower() if isinstance(contact, dict) else ""
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            return None, [f"contact email {email!r} is not a valid address."]
        out["contacts"].append({"email": email, "name": str(contact.get("name") or "")[:200]})
    return out, []


def _validate_item(
    raw: Any, *, default_source: FeedbackSource | None, sources: dict, products: dict
) -> tuple[dict | None, dict[str, list[str]]]:
    if not isinstance(raw, dict):
        return None, {"item": ["must be a JSON object."]}
    errors: dict[str, list[str]] = {}
    source = default_source
    if raw.get("source") not in (None, ""):
        source = sources.get(str(raw["source"]))
        if source is None:
            errors["source"] = [f"Unknown source {raw['source']!r}; create it first (POST /api/v1/feedback/sources)."]
    elif source is None:
        errors["source"] = ["This field is required (a source slug)."]
    if source is not None and not source.is_active:
        errors["source"] = [f"Source {source.slug!r} is deactivated."]
    external_id = raw.get("external_id")
    external_id = "" if external_id is None else str(external_id).strip()
    if not external_id:
        errors["external_id"] = ["This field is required."]
    elif len(external_id) > 200:
        errors["external_id"] = ["Ensure this field has no more than 200 characters."]
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        errors["text"] = ["This field is required and may not be blank."]
    elif len(text) > MAX_TEXT_LENGTH:
        errors["text"] = [f"Ensure this field has no more than {MAX_TEXT_LENGTH:,} characters."]
    rating = raw.get("rating")
    if rating is not None:
        if isinstance(rating, bool) or not isinstance(rating, int | float | str):
            errors["rating"] = ["Must be a whole number from 0 to 10, or null."]
        else:
            try:
                number = float(rating)
                if not number.is_integer() or not 0 <= number <= 10:
                    raise ValueError
                rating = int(number)
            except ValueError:
                errors["rating"] = [f"{rating!r} is not a whole number from 0 to 10 (or null)."]
    account, account_errors = _clean_account(raw.get("account"))
    if account_errors:
        errors["account"] = account_errors
    product = None
    if raw.get("product") not in (None, ""):
        product = products.get(str(raw["product"]))
        if product is None:
            errors["product"] = [f"Unknown product {raw['product']!r}."]
    elif source is not None and source.default_product_id:
        product = products.get(source.default_product_id)
    try:
        created_at = _parse_created_at(raw.get("created_at"))
    except ValueError as exc:
        errors["created_at"] = [str(exc)]
        created_at = None
    contact = raw.get("contact")
    if contact not in (None, "") and account is not None and isinstance(contact, dict):
        email = str(contact.get("email") or "").strip().lower()
        if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            account["contacts"].append({"email": email, "name": str(contact.get("name") or "")[:200]})
            account["item_contact"] = email
    if errors:
        return None, errors
    return {
        "source": source,
        "external_id": external_id,
        "text": text.strip(),
        "rating": rating,
        "account": account,
        "product": product,
        "created_at": created_at,
        # Adapters (webhooks, CSV) pass the original payload as "raw"; API items are their own raw.
        "raw": raw["raw"] if isinstance(raw.get("raw"), dict) else raw,
    }, {}


def _upsert_accounts(cleaned: list[dict]) -> tuple[dict[str, CustomerAccount], dict[tuple[str, str], Contact]]:
    wanted: dict[str, dict] = {}
    for item in cleaned:
        account = item["account"]
        if account is None:
            continue
        merged = wanted.setdefault(account["key"], {"name": account["name"], "contacts": {}})
        for key in ("segment", "arr"):
            if key in account:
                merged[key] = account[key]
        for contact in account["contacts"]:
            if contact["name"] or contact["email"] not in merged["contacts"]:
                merged["contacts"][contact["email"]] = contact["name"]
    if not wanted:
        return {}, {}
    existing = {a.name_key: a for a in CustomerAccount.objects.filter(name_key__in=list(wanted))}
    missing = [
        CustomerAccount(
            name=v["name"], name_key=k, segment=v.get("segment", Segment.UNKNOWN), arr=v.get("arr", Decimal(0))
        )
        for k, v in wanted.items()
        if k not in existing
    ]
    if missing:
        CustomerAccount.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {a.name_key: a for a in CustomerAccount.objects.filter(name_key__in=list(wanted))}
    changed = []
    for key, values in wanted.items():
        account = existing[key]
        dirty = False
        for attr in ("segment", "arr"):
            if attr in values and getattr(account, attr) != values[attr]:
                setattr(account, attr, values[attr])
                dirty = True
        if dirty:
            changed.append(account)
    if changed:
        CustomerAccount.objects.bulk_update(changed, ["segment", "arr"])
    contacts_wanted = [
        Contact(account=existing[key], email=email, name=name)
        for key, values in wanted.items()
        for email, name in values["contacts"].items()
    ]
    contacts: dict[tuple[str, str], Contact] = {}
    if contacts_wanted:
        Contact.objects.bulk_create(contacts_wanted, ignore_conflicts=True)
        for contact in Contact.objects.filter(
            account__in=[existing[k] for k in wanted], email__in=[c.email for c in contacts_wanted]
        ):
            contacts[(contact.account_id, contact.email)] = contact
    return existing, contacts


UPSERT_FIELDS = ["text", "rating", "account", "contact", "product", "created_at", "raw"]


@transaction.atomic
def items_ingest(*, source: FeedbackSource | str | None = None, items: list[dict], by: User | None = None):
    """Store feedback items (upsert on source + external_id) and queue their processing.

    `items` have the shape of the POST /api/v1/feedback/items body; each may name its own
    `source` slug, else `source` is used. Returns an IngestResult: per item, in order,
    {"index", "external_id", "status": created|updated|rejected, "id", "changed", "errors"}.
    """
    if by is not None and by.is_authenticated and by.is_viewer:
        raise PermissionDenied("You have view access: viewers can read but not change anything.")
    if not isinstance(items, list):
        raise ValidationError({"items": "Must be a list of feedback items."})
    if len(items) > MAX_ITEMS_PER_REQUEST:
        raise ValidationError({"items": f"At most {MAX_ITEMS_PER_REQUEST:,} items per request; got {len(items):,}."})
    if isinstance(source, str):
        slug, source = source, FeedbackSource.objects.filter(slug=source).first()
        if source is None:
            raise ValidationError({"source": f"Unknown source {slug!r}; create it first (source_ensure)."})
    slugs = {str(i["source"]) for i in items if isinstance(i, dict) and i.get("source")}
    sources = {s.slug: s for s in FeedbackSource.objects.filter(slug__in=slugs)}
    product_slugs = {str(i["product"]) for i in items if isinstance(i, dict) and i.get("product")}
    default_product_ids = {s.default_product_id for s in [*sources.values(), source] if s and s.default_product_id}
    products: dict = {}
    for product in Product.objects.filter(Q(slug__in=product_slugs) | Q(pk__in=default_product_ids)):
        products[product.slug] = product
        products[product.pk] = product

    result = IngestResult()
    cleaned: list[dict] = []
    seen: dict[tuple[int, str], int] = {}
    for index, raw in enumerate(items):
        item, errors = _validate_item(raw, default_source=source, sources=sources, products=products)
        external_id = str(raw.get("external_id") or "") if isinstance(raw, dict) else ""
        if item is not None:
            key = (item["source"].pk, item["external_id"])
            if key in seen:
                errors = {"external_id": [f"Appears more than once in this request (first at item {seen[key]})."]}
                item = None
            else:
                seen[key] = index
        if item is None:
            reason = "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
            result.results.append(
                {"index": index, "external_id": external_id, "status": "rejected", "id": None, "errors": errors,
                 "reason": reason}
            )  # fmt: skip
            continue
        item["index"] = index
        cleaned.append(item)
        result.results.append({"index": index, "external_id": item["external_id"], "status": None, "id": None})
    if not cleaned:
        return result

    accounts, contacts = _upsert_accounts(cleaned)
    by_source: dict[int, list[str]] = defaultdict(list)
    for item in cleaned:
        by_source[item["source"].pk].append(item["external_id"])
    existing_q = Q()
    for source_id, ids in by_source.items():
        existing_q |= Q(source_id=source_id, external_id__in=ids)
    existing = {(i.source_id, i.external_id): i for i in FeedbackItem.objects.filter(existing_q)}

    to_create, to_update, to_process = [], [], []
    for item in cleaned:
        account = accounts.get(item["account"]["key"]) if item["account"] else None
        contact_email = item["account"].get("item_contact") if item["account"] else None
        contact = contacts.get((account.pk, contact_email)) if account and contact_email else None
        values = {
            "text": item["text"],
            "rating": item["rating"],
            "account": account,
            "contact": contact,
            "product": item["product"],
            "created_at": item["created_at"],
            "raw": item["raw"],
        }
        row = result.results[item["index"]]
        current = existing.get((item["source"].pk, item["external_id"]))
        if current is None:
            obj = FeedbackItem(source=item["source"], external_id=item["external_id"], **values)
            obj.text_hash = themes_mod.normalized_hash(obj.text)
            to_create.append((obj, row))
            row["status"] = "created"
            continue
        changed = [
            name
            for name in ("account", "contact", "product")
            if getattr(current, f"{name}_id") != (values[name].pk if values[name] else None)
        ] + [name for name in ("text", "rating", "created_at", "raw") if getattr(current, name) != values[name]]
        row.update(status="updated", id=current.pk, changed=bool(changed))
        if changed:
            for name, value in values.items():
                setattr(current, name, value)
            current.text_hash = themes_mod.normalized_hash(current.text)
            if {"text", "account", "product"} & set(changed):
                current.state, current.error, current.attempts = ItemState.PENDING, "", 0
                to_process.append(current)
            to_update.append(current)
    if to_create:
        created = FeedbackItem.objects.bulk_create(
            [obj for obj, _row in to_create],
            update_conflicts=True,  # a concurrent request created it first: update instead
            unique_fields=["source", "external_id"],
            update_fields=[*[f if f not in ("account", "contact", "product") else f"{f}_id" for f in UPSERT_FIELDS],
                           "text_hash"],
        )  # fmt: skip
        for obj, (_o, row) in zip(created, to_create, strict=True):
            row.update(id=obj.pk, changed=True)
        to_process.extend(created)
    if to_update:
        FeedbackItem.objects.bulk_update(
            to_update, [*UPSERT_FIELDS, "text_hash", "state", "error", "attempts", "updated_at"]
        )
    ids = [i.pk for i in to_process]
    if ids:
        from feedback.tasks import process_items

        for start in range(0, len(ids), PROCESS_CHUNK):
            process_items.delay_on_commit(ids[start : start + PROCESS_CHUNK])
    return result


# --- CSV import and webhooks --------------------------------------------------------------

CSV_FIELDS = ["external_id", "text", "rating", "account", "segment", "arr", "product", "created_at", "contact_email"]
CSV_REQUIRED = ["external_id", "text"]


@dataclass
class CsvImportResult:
    created: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)


def csv_import(*, source: FeedbackSource, text: str, mapping: dict[str, str], by: User | None = None):
    """Import a CSV: `mapping` maps our fields to the file's column headers. Row numbers are
    1-based counting the header row as row 1, as a spreadsheet shows them."""
    import csv
    import io

    reader = csv.DictReader(io.StringIO(text))
    headers = reader.fieldnames or []
    missing_required = [f for f in CSV_REQUIRED if not mapping.get(f)]
    if missing_required:
        raise ValidationError({f: "Choose the column that holds this field." for f in missing_required})
    unknown = {f: c for f, c in mapping.items() if c and c not in headers}
    if unknown:
        raise ValidationError(
            {
                f: f"Column {c!r} is not in the file (columns: {', '.join(headers) or 'none'})."
                for f, c in unknown.items()
            }
        )
    rows = list(reader)
    if len(rows) > 20_000:
        raise ValidationError({"file": f"At most 20,000 rows per import; this file has {len(rows):,}."})
    outcome = CsvImportResult()
    for start in range(0, len(rows), MAX_ITEMS_PER_REQUEST):
        batch, numbers = [], []
        for offset, row in enumerate(rows[start : start + MAX_ITEMS_PER_REQUEST]):

            def col(name: str, row=row) -> str:
                return (row.get(mapping[name]) or "").strip() if mapping.get(name) else ""

            item: dict[str, Any] = {"source": source.slug, "external_id": col("external_id"), "text": col("text")}
            item["rating"] = col("rating") or None
            if col("account"):
                item["account"] = {"name": col("account"), "segment": col("segment") or None, "arr": col("arr") or None}
                if col("contact_email"):
                    item["contact"] = {"email": col("contact_email")}
            item["product"] = col("product") or None
            item["created_at"] = col("created_at") or None
            batch.append(item)
            numbers.append(start + offset + 2)
        result = items_ingest(source=source, items=batch, by=by)
        for number, row in zip(numbers, result, strict=True):
            if row["status"] == "rejected":
                outcome.rejected.append((number, row["reason"]))
            elif row["status"] == "created":
                outcome.created += 1
            else:
                outcome.updated += 1
    audit_record(
        actor=by,
        action="feedback.csv_import",
        target=source,
        changes={"created": outcome.created, "updated": outcome.updated, "rejected": len(outcome.rejected)},
    )
    return outcome


_TAG_RE = re.compile(r"<[^>]+>")


def _plain(html: str) -> str:
    import html as html_mod

    return " ".join(html_mod.unescape(_TAG_RE.sub(" ", html or "")).split())


def webhook_item(*, kind: str, payload: dict) -> dict:
    """Map a Zendesk ticket or Intercom conversation event to one feedback item (raw kept)."""
    if kind == "zendesk":
        ticket = payload.get("ticket") or payload.get("detail") or {}
        if not isinstance(ticket, dict) or not ticket.get("id"):
            raise ValidationError({"ticket": "Expected a Zendesk ticket event with ticket.id (or detail.id)."})
        text = "\n\n".join(x for x in (ticket.get("subject"), ticket.get("description")) if x)
        requester = ticket.get("requester") or {}
        org = ticket.get("organization") or {}
        item: dict[str, Any] = {
            "external_id": f"zendesk-{ticket['id']}",
            "text": text,
            "created_at": ticket.get("created_at"),
            "rating": (ticket.get("satisfaction_rating") or {}).get("score_value"),
        }
        if org.get("name"):
            item["account"] = {"name": org["name"], "segment": org.get("segment"), "arr": org.get("arr")}
            if requester.get("email"):
                item["contact"] = {"email": requester["email"], "name": requester.get("name", "")}
    elif kind == "intercom":
        conversation = (payload.get("data") or {}).get("item") or {}
        if conversation.get("type") != "conversation" or not conversation.get("id"):
            raise ValidationError({"data": "Expected an Intercom conversation event with data.item.id."})
        src = conversation.get("source") or {}
        parts = ((conversation.get("conversation_parts") or {}).get("conversation_parts")) or []
        bodies = [_plain(src.get("body", ""))] + [
            _plain(p.get("body", "")) for p in parts if (p.get("author") or {}).get("type") in ("user", "lead")
        ]
        author = src.get("author") or {}
        company = (conversation.get("custom_attributes") or {}).get("company") or (
            (conversation.get("company") or {}).get("name")
        )
        item = {
            "external_id": f"intercom-{conversation['id']}",
            "text": "\n\n".join(b for b in bodies if b),
            "created_at": conversation.get("created_at"),
        }
        rating = (conversation.get("conversation_rating") or {}).get("rating")
        if rating is not None:
            item["rating"] = rating
        if company:
            item["account"] = {"name": company}
            if author.get("email"):
                item["contact"] = {"email": author["email"], "name": author.get("name", "")}
    else:
        raise ValidationError({"kind": "Webhooks are 'zendesk' or 'intercom'."})
    item["raw"] = payload
    return item


# --- processing ---------------------------------------------------------------------------


def _area_rules(areas: list[ProductArea]) -> list[tuple[ProductArea, re.Pattern]]:
    return [
        (area, re.compile(r"\b(" + "|".join(re.escape(k) for k in area.keyword_list) + r")\b"))
        for area in areas
        if area.keyword_list
    ]


def _area_for(text: str, areas: list[ProductArea], rules=None) -> tuple[ProductArea | None, str]:
    lowered = text.lower()
    for area, pattern in rules if rules is not None else _area_rules(areas):  # ordered by priority
        if pattern.search(lowered):
            return area, "rule"
    learned = {a.pk: a.learned_terms for a in areas if a.learned_terms}
    if learned:
        area_id, _sim = themes_mod.nearest(themes_mod.vectorize(text), learned, threshold=0.1)
        if area_id is not None:
            return next(a for a in areas if a.pk == area_id), "learned"
    return None, ""


def _duplicates_for(items: list[FeedbackItem]) -> dict[int, tuple[int | None, str]]:
    """Exact: same normalised text, product and account (earliest item wins). Near: the same
    account (or, without one, the same source within a day) with near-identical wording
    within 14 days — the same request arriving twice. Two queries for the whole batch; the
    near search is a prefix-filtered similarity join (themes.near_duplicates), not all pairs."""
    out: dict[int, tuple[int | None, str]] = {}
    account_ids = sorted({i.account_id for i in items if i.account_id})
    first_by_hash: dict[tuple, int] = {}
    with connection.cursor() as cursor:  # one row per (text, product, sender): the earliest item
        cursor.execute(
            "SELECT text_hash, product_id, account_id, CASE WHEN account_id IS NULL THEN source_id END, min(id) "
            "FROM feedback_feedbackitem WHERE text_hash = ANY(%s) AND duplicate_status <> %s "
            "AND (account_id = ANY(%s) OR account_id IS NULL) GROUP BY 1, 2, 3, 4",
            [sorted({i.text_hash for i in items}), DuplicateStatus.EXACT, account_ids],
        )
        for text_hash, product_id, account_id, source_id, first in cursor.fetchall():
            first_by_hash[(text_hash, product_id, account_id, source_id)] = first
    probes: list[themes_mod.DupCandidate] = []
    shingles: dict[str, frozenset[str]] = {}

    def shingles_of(text: str) -> frozenset[str]:
        value = shingles.get(text)
        if value is None:
            value = shingles[text] = frozenset(themes_mod.shingles(text))
        return value

    def group(account_id, source_id) -> tuple:
        return ("account", account_id) if account_id else ("source", source_id)

    for item in items:
        # Two customers writing the same words are two votes: exact means the same sender too.
        key = (item.text_hash, item.product_id, item.account_id, None if item.account_id else item.source_id)
        first = first_by_hash.get(key)
        if first is not None and first < item.pk:
            out[item.pk] = (first, DuplicateStatus.EXACT)
            continue
        out[item.pk] = (None, "")
        probes.append(
            themes_mod.DupCandidate(item.pk, group(item.account_id, item.source_id), item.created_at,
                                    shingles_of(item.text))
        )  # fmt: skip
    if not probes:
        return out
    account_window, source_window = timedelta(days=14), timedelta(days=1)
    # The pool: earlier items of the same sender within the window of some probe. Windows are
    # merged per sender and joined in SQL, so a batch of recent items reads recent items only.
    windows: dict[tuple, list[list]] = defaultdict(list)
    for probe in sorted(probes, key=lambda p: p.created):
        window = account_window if probe.group[0] == "account" else source_window
        spans = windows[probe.group]
        lo, hi = probe.created - window, probe.created + window
        if spans and lo <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], hi)
        else:
            spans.append([lo, hi])
    pool: list[themes_mod.DupCandidate] = []
    for kind, column, extra in (("account", "account_id", ""), ("source", "source_id", " AND p.account_id IS NULL")):
        keys, los, his = [], [], []
        for (group_kind, key), spans in windows.items():
            if group_kind == kind:
                for lo, hi in spans:
                    keys.append(key)
                    los.append(lo)
                    his.append(hi)
        if not keys:
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT p.id, p.account_id, p.source_id, p.created_at, p.text "  # noqa: S608 - fixed names
                "FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS w(key, lo, hi) "
                f"JOIN feedback_feedbackitem p ON p.{column} = w.key AND p.created_at BETWEEN w.lo AND w.hi "
                f"WHERE p.duplicate_of_id IS NULL AND p.id < %s{extra}",
                [keys, los, his, max(p.pk for p in probes)],
            )
            pool.extend(
                themes_mod.DupCandidate(pk, group(account_id, source_id), created, shingles_of(text))
                for pk, account_id, source_id, created, text in cursor.fetchall()
            )
    near = themes_mod.near_duplicates(
        probes, pool, window_for=lambda p: account_window if p.group[0] == "account" else source_window
    )
    for pk, other in near.items():
        out[pk] = (other, DuplicateStatus.SUGGESTED)
    return out


def items_process(*, item_ids: list[int], recluster: bool = False) -> dict[str, int]:
    """Sentiment, product area, duplicates and theme for each item, saved in one batch.
    A failing item is recorded on that item (state failed + error) and never blocks others.

    `recluster=True` (a full aggregation) also re-clusters the themes of every product
    touched, with these items included, before anything is written: each item is then
    written once, with its final theme, instead of once here and again by the re-cluster."""
    # id = ANY(array): one parameter, however many ids (pk__in binds one per id).
    ids = RawSQL("SELECT unnest(%s::bigint[])", [[int(i) for i in item_ids]])
    items = list(FeedbackItem.objects.filter(pk__in=ids).defer("raw").order_by("id"))
    if not items:
        return {"processed": 0, "failed": 0}
    product_ids = {i.product_id for i in items}
    areas: dict[int | None, list[ProductArea]] = defaultdict(list)
    for area in ProductArea.objects.filter(product_id__in=[p for p in product_ids if p]).order_by("priority", "name"):
        areas[area.product_id].append(area)
    rules = {product_id: _area_rules(product_areas) for product_id, product_areas in areas.items()}
    rules = defaultdict(list, rules)
    centroids: dict[int | None, dict[int, dict]] = defaultdict(dict)
    theme_q = Q(product_id__in=[p for p in product_ids if p])
    if None in product_ids:
        theme_q |= Q(product__isnull=True)
    for theme_id, product_id, terms in Theme.objects.filter(
        theme_q, status__in=[ThemeStatus.ACTIVE, ThemeStatus.PROPOSED]
    ).values_list("id", "product_id", "terms"):
        centroids[product_id][theme_id] = terms
    try:
        duplicates = _duplicates_for(items)
    except Exception:  # duplicates are a refinement: never block sentiment and themes
        log.exception("duplicate detection failed for a batch of %s items", len(items))
        duplicates = {}
    done, failed = [], []
    now = timezone.now()
    # Feedback repeats itself (forwarded tickets, survey boilerplate, the same complaint from
    # many customers): area and theme depend only on (product, text), so compute them once.
    area_cache: dict[tuple, tuple] = {}
    theme_cache: dict[tuple, int | None] = {}
    for item in items:
        try:
            item.sentiment = sentiment_mod.sentiment_score(item.text)
            key = (item.product_id, item.text)
            if key not in area_cache:
                area_cache[key] = _area_for(item.text, areas[item.product_id], rules[item.product_id])
            item.area, item.area_method = area_cache[key]
            if item.duplicate_status not in (DuplicateStatus.REJECTED, DuplicateStatus.CONFIRMED):
                item.duplicate_of_id, item.duplicate_status = duplicates.get(item.pk, (None, ""))
            if item.theme_id is None or item.theme_id not in centroids[item.product_id]:
                if key not in theme_cache:
                    theme_cache[key] = (
                        themes_mod.nearest(themes_mod.vectorize(item.text), centroids[item.product_id])[0]
                        if centroids[item.product_id]
                        else None
                    )
                item.theme_id = theme_cache[key]
            item.state, item.error, item.processed_at = ItemState.PROCESSED, "", now
            item.attempts += 1
            done.append(item)
        except Exception as exc:  # recorded on the item, listed on the ops page, retried
            log.exception("feedback item %s failed to process", item.pk)
            item.state, item.error, item.attempts = (
                ItemState.FAILED,
                f"{type(exc).__name__}: {exc}"[:2000],
                (item.attempts + 1),
            )
            failed.append(item)
    summary: dict[str, int] = {"processed": len(done), "failed": len(failed)}
    with transaction.atomic():
        if recluster:
            for product in _products_by_id(product_ids):
                for key, value in themes_recluster(product=product, pending=done).items():
                    summary[key] = summary.get(key, 0) + value
        _bulk_set_processed(done)
        _bulk_set_processed(failed)
        if recluster:
            for product in _products_by_id(product_ids):
                _duplicates_follow(product)
                if product is not None:
                    areas_learn(product=product)
    return summary


def _products_by_id(product_ids) -> list[Product | None]:
    products: list[Product | None] = list(Product.objects.filter(pk__in=[p for p in product_ids if p]).order_by("id"))
    return [None, *products] if None in product_ids else products


PROCESSED_COLUMNS = [
    ("sentiment", "double precision"), ("area_id", "bigint"), ("area_method", "text"), ("duplicate_of_id", "bigint"),
    ("duplicate_status", "text"), ("theme_id", "bigint"), ("state", "text"), ("error", "text"),
    ("processed_at", "timestamptz"), ("attempts", "smallint"),
]  # fmt: skip


def _bulk_set_processed(items: list[FeedbackItem]) -> None:
    """One COPY into a temporary table and one UPDATE … FROM it, however many items (Django's
    bulk_update builds a CASE per field and row; VALUES lists cost a round trip per 1,000)."""
    if not items:
        return
    rows = [
        (i.pk, i.sentiment, i.area_id, i.area_method, i.duplicate_of_id, i.duplicate_status, i.theme_id, i.state,
         i.error, i.processed_at, i.attempts)
        for i in items
    ]  # fmt: skip
    bulk_update_rows(FeedbackItem._meta.db_table, PROCESSED_COLUMNS, rows)


_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        if _COPY_SPECIAL.search(value) is None:
            return value
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def bulk_update_rows(table: str, columns: list[tuple[str, str]], rows: list[tuple]) -> int:
    """UPDATE `table` SET columns FROM rows of (id, *values): COPY into a temporary table, then
    one UPDATE joining on id. Rows whose values are already stored are skipped (no new row
    version, no index or foreign-key work for them)."""
    if not rows:
        return 0
    import io

    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_copy_value(v) for v in row))
        buffer.write("\n")
    buffer.seek(0)
    names = [name for name, _type in columns]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE _bulk_rows (id bigint, "
            + ", ".join(f"{name} {type_}" for name, type_ in columns)
            + ") ON COMMIT DROP"
        )
        cursor.cursor.copy_expert(f"COPY _bulk_rows (id, {', '.join(names)}) FROM STDIN", buffer)
        cursor.execute(
            f"UPDATE {table} AS t SET {', '.join(f'{n} = v.{n}' for n in names)} FROM _bulk_rows AS v "  # noqa: S608
            f"WHERE t.id = v.id AND ({' OR '.join(f't.{n} IS DISTINCT FROM v.{n}' for n in names)})"
        )
        count = cursor.rowcount
        cursor.execute("DROP TABLE _bulk_rows")
    return count


def item_retry(*, item: FeedbackItem, by: User | None) -> FeedbackItem:
    require_ops_lead(by)
    from feedback.tasks import process_items

    FeedbackItem.objects.filter(pk=item.pk).update(state=ItemState.PENDING, error="", attempts=0)
    process_items.delay_on_commit([item.pk])
    item.refresh_from_db()
    return item


# --- themes -------------------------------------------------------------------------------


def run_start(*, kind: str, product: Product | None, by: User | None = None) -> PipelineRun:
    return PipelineRun.objects.create(kind=kind, product=product, requested_by=by)


def run_finish(run: PipelineRun, *, summary: dict | None = None, error: str = "") -> None:
    run.status = "failed" if error else "done"
    run.summary = summary or {}
    run.error = error
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "summary", "error", "finished_at"])


@transaction.atomic
def themes_recluster(
    *, product: Product | None, seed: int = 0, pending: list[FeedbackItem] | None = None
) -> dict[str, int]:
    """Cluster the product's items; clusters matching an existing theme keep its id (and a
    renamed label), new ones are proposed (or active on the very first clustering).

    `pending`: processed items not yet written (items_process(recluster=True)); they are
    clustered with the stored ones and get their theme in memory, for the caller to write."""
    product_id = product.pk if product is not None else None
    in_memory = {
        i.pk: i
        for i in pending or []
        if i.product_id == product_id and i.state == ItemState.PROCESSED and i.counts_as_signal
    }
    pending_ids = {i.pk for i in pending or []}
    stored = FeedbackItem.objects.filter(COUNTED, product=product, state=ItemState.PROCESSED)
    items = sorted(
        [
            *(row for row in stored.values_list("id", "text", "theme_id") if row[0] not in pending_ids),
            *((i.pk, i.text, None) for i in in_memory.values()),
        ]
    )
    existing = {
        t.pk: t
        for t in Theme.objects.select_for_update().filter(
            product=product, status__in=[ThemeStatus.ACTIVE, ThemeStatus.PROPOSED]
        )
    }
    clusters = themes_mod.cluster_texts([t for _i, t, _theme in items], seed=seed)
    mapping = themes_mod.match_clusters(clusters, {pk: t.terms for pk, t in existing.items()})
    first_time = not Theme.objects.filter(product=product).exists()
    new_count = 0
    changed_themes = []
    moves: list[tuple[int, int]] = []
    for index, cluster in enumerate(clusters):
        member_ids = [items[m][0] for m in cluster.members]
        theme_id = mapping[index]
        if theme_id is None:
            theme = Theme.objects.create(
                product=product,
                label=cluster.label,
                terms=cluster.terms,
                status=ThemeStatus.ACTIVE if first_time else ThemeStatus.PROPOSED,
                size=len(member_ids),
            )
            new_count += 1
        else:
            theme = existing[theme_id]
            theme.terms = cluster.terms
            if not theme.label_locked:
                theme.label = cluster.label
            theme.size = len(member_ids)
            changed_themes.append(theme)
        for m in cluster.members:
            pk = items[m][0]
            if pk in in_memory:
                in_memory[pk].theme_id = theme.pk
            elif items[m][2] != theme.pk:
                moves.append((pk, theme.pk))
    clustered = {items[m][0] for cluster in clusters for m in cluster.members}
    for pk, _text, theme_id in items:  # too far from every theme: unthemed
        if pk not in clustered:
            if pk in in_memory:
                in_memory[pk].theme_id = None
            elif theme_id is not None:
                moves.append((pk, None))
    bulk_update_rows(FeedbackItem._meta.db_table, [("theme_id", "bigint")], moves)  # one UPDATE
    if changed_themes:
        Theme.objects.bulk_update(changed_themes, ["terms", "label", "size", "updated_at"])
    if pending is None:
        _duplicates_follow(product)
        if product is not None:
            areas_learn(product=product)
    return {
        "items": len(items),
        "clusters": len(clusters),
        "matched": sum(1 for v in mapping.values() if v),
        "new": new_count,
    }


def _duplicates_follow(product: Product | None) -> None:
    """Duplicates follow the item they duplicate (one UPDATE)."""
    FeedbackItem.objects.filter(  # duplicate_of set: the partial index finds the few duplicates
        product=product,
        duplicate_of__isnull=False,
        duplicate_status__in=[DuplicateStatus.EXACT, DuplicateStatus.CONFIRMED],
    ).update(theme_id=Subquery(FeedbackItem.objects.filter(pk=OuterRef("duplicate_of_id")).values("theme_id")[:1]))


def areas_learn(*, product: Product) -> int:
    """Learned fallback: each area's centroid from the items its rules matched; then fill
    items no rule matched."""
    areas = list(ProductArea.objects.filter(product=product).order_by("priority", "name"))
    if not areas:
        return 0
    for area in areas:
        texts = list(area.items.filter(area_method="rule").values_list("text", flat=True)[:2000])
        area.learned_terms = themes_mod._centroid_terms_from_texts(texts) if texts else {}
    ProductArea.objects.bulk_update(areas, ["learned_terms"])
    filled = 0
    learned = {a.pk: a.learned_terms for a in areas if a.learned_terms}
    if not learned:
        return 0
    updates = defaultdict(list)
    by_text: dict[str, int | None] = {}
    for pk, text in FeedbackItem.objects.filter(product=product, area__isnull=True).values_list("id", "text"):
        if text not in by_text:
            by_text[text] = themes_mod.nearest(themes_mod.vectorize(text), learned, threshold=0.1)[0]
        area_id = by_text[text]
        if area_id:
            updates[area_id].append(pk)
    for area_id, pks in updates.items():
        filled += FeedbackItem.objects.filter(pk__in=pks).update(area_id=area_id, area_method="learned")
    return filled


@transaction.atomic
def theme_rename(*, theme: Theme, label: str, by: User) -> Theme:
    require_ops_lead(by)
    label = (label or "").strip()
    if not label:
        raise ValidationError({"label": "A theme needs a label."})
    previous = theme.label
    theme.label, theme.label_locked = label, True
    theme.full_clean()
    theme.save(update_fields=["label", "label_locked", "updated_at"])
    audit_record(actor=by, action="feedback_theme.rename", target=theme, changes={"from": previous, "to": label})
    return theme


@transaction.atomic
def theme_accept(*, theme: Theme, by: User) -> Theme:
    require_ops_lead(by)
    theme.status = ThemeStatus.ACTIVE
    theme.save(update_fields=["status", "updated_at"])
    audit_record(actor=by, action="feedback_theme.accept", target=theme)
    return theme


@transaction.atomic
def theme_merge(*, theme: Theme, into: Theme, by: User) -> Theme:
    require_ops_lead(by)
    if theme.pk == into.pk:
        raise ValidationError({"into": "Choose a different theme to merge into."})
    if theme.product_id != into.product_id:
        raise ValidationError({"into": "Themes of different products cannot be merged."})
    moved = FeedbackItem.objects.filter(theme=theme).update(theme=into)
    a, b = max(theme.size, 1), max(into.size, 1)
    combined: dict[str, float] = defaultdict(float)
    for t, w in theme.terms.items():
        combined[t] += w * a
    for t, w in into.terms.items():
        combined[t] += w * b
    top = dict(sorted(combined.items(), key=lambda kv: -kv[1])[: themes_mod.MAX_TERMS])
    norm = sum(v * v for v in top.values()) ** 0.5 or 1.0
    into.terms = {t: round(v / norm, 5) for t, v in top.items()}
    into.size += moved
    into.save(update_fields=["terms", "size", "updated_at"])
    theme.status, theme.merged_into, theme.size = ThemeStatus.MERGED, into, 0
    theme.save(update_fields=["status", "merged_into", "size", "updated_at"])
    audit_record(actor=by, action="feedback_theme.merge", target=theme, changes={"into": into.pk, "items": moved})
    return into


@transaction.atomic
def theme_split(*, theme: Theme, by: User) -> Theme:
    """Split a theme in two by clustering its items; the smaller half becomes a new theme."""
    require_ops_lead(by)
    rows = list(theme.items.order_by("id").values_list("id", "text"))
    if len(rows) < 4:
        raise ValidationError({"theme": "A theme needs at least 4 items to split."})
    clusters = themes_mod.cluster_texts([t for _i, t in rows], k=2)
    if len(clusters) < 2:
        raise ValidationError({"theme": "Its items are too alike to split in two."})
    keep, split = sorted(clusters, key=lambda c: -len(c.members))[:2]
    new = Theme.objects.create(
        product=theme.product,
        label=split.label,
        terms=split.terms,
        status=ThemeStatus.ACTIVE,
        size=len(split.members),
    )
    FeedbackItem.objects.filter(pk__in=[rows[m][0] for m in split.members]).update(theme=new)
    theme.terms, theme.size = keep.terms, len(keep.members)
    theme.save(update_fields=["terms", "size", "updated_at"])
    audit_record(actor=by, action="feedback_theme.split", target=theme, changes={"new_theme": new.pk})
    return new


@transaction.atomic
def duplicate_review(*, item: FeedbackItem, confirm: bool, by: User) -> FeedbackItem:
    """Confirm a suggested near-duplicate, or undo any merge (exact or near): reversible."""
    require_ops_lead(by)
    if not item.duplicate_of_id:
        raise ValidationError({"item": "This item is not marked as a duplicate."})
    previous = item.duplicate_of_id
    if confirm:
        item.duplicate_status = DuplicateStatus.CONFIRMED
    else:
        item.duplicate_status, item.duplicate_of = DuplicateStatus.REJECTED, None
    item.save(update_fields=["duplicate_status", "duplicate_of", "updated_at"])
    audit_record(
        actor=by,
        action="feedback_item.duplicate_confirm" if confirm else "feedback_item.duplicate_undo",
        target=item,
        changes={"duplicate_of": previous},
    )
    return item


# --- signals ------------------------------------------------------------------------------


def signals_refresh(*, product: Product | None = None, all_products: bool = False, today=None) -> dict[str, int]:
    """Recompute ThemeWeek rows, theme size/score/trend, and raise spike alerts."""
    today = today or timezone.now().date()
    themes_qs = Theme.objects.filter(status__in=[ThemeStatus.ACTIVE, ThemeStatus.PROPOSED]).select_related("product")
    if not all_products:
        themes_qs = themes_qs.filter(product=product)
    themes = {t.pk: t for t in themes_qs}
    if not themes:
        return {"themes": 0, "alerts": 0}
    weeks = _theme_weeks(list(themes))
    week_rows, alerts = [], []
    recent = signals_mod.week_start(today) - timedelta(days=14)
    for theme_id, theme in themes.items():
        series = signals_mod.with_trends(weeks.get(theme_id, {}), until=today)
        theme.size = sum(w.volume for w in weeks.get(theme_id, {}).values())
        theme.score = signals_mod.score(series, today=today)
        theme.trend = _headline_trend(series, today)
        week_rows.extend(
            ThemeWeek(
                theme_id=theme_id, week=w.week, volume=w.volume, unique_accounts=w.unique_accounts,
                arr_demand=Decimal(str(w.arr_demand)), mean_sentiment=w.mean_sentiment, baseline=w.baseline,
                trend=w.trend, is_spike=w.is_spike,
            )
            for w in series
        )  # fmt: skip
        for w in signals_mod.spikes_to_alert(series, theme.last_alert_week):
            if w.week >= recent:
                alerts.append((theme, w))
                theme.last_alert_week = w.week
    with transaction.atomic():
        ThemeWeek.objects.filter(theme_id__in=list(themes)).delete()
        ThemeWeek.objects.bulk_create(week_rows, batch_size=5000)
        Theme.objects.bulk_update(list(themes.values()), ["size", "score", "trend", "last_alert_week"])
        for theme, week in alerts:
            _spike_alert(theme=theme, week=week)
    return {"themes": len(themes), "weeks": len(week_rows), "alerts": len(alerts)}


def _theme_weeks(theme_ids: list[int]) -> dict[int, dict]:
    """Per theme and ISO week (UTC), set-based in SQL: counted items, unique asking accounts,
    their ARR (each account once a week) and mean sentiment — what signals.aggregate computes,
    without shipping every item to Python."""
    out: dict[int, dict] = defaultdict(dict)
    if not theme_ids:
        return out
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT theme_id, week, sum(n), count(account_id), coalesce(sum(arr), 0),
                   sum(sentiment_sum) / nullif(sum(sentiment_n), 0)
            FROM (
                SELECT i.theme_id, (date_trunc('week', i.created_at AT TIME ZONE 'UTC'))::date AS week,
                       i.account_id, max(a.arr) AS arr, count(*) AS n,
                       sum(i.sentiment) AS sentiment_sum, count(i.sentiment) AS sentiment_n
                FROM feedback_feedbackitem i
                LEFT JOIN feedback_customeraccount a ON a.id = i.account_id
                WHERE i.theme_id = ANY(%s) AND i.duplicate_status NOT IN (%s, %s)
                GROUP BY 1, 2, 3
            ) per_account
            GROUP BY 1, 2
            """,
            [theme_ids, DuplicateStatus.EXACT, DuplicateStatus.CONFIRMED],
        )
        for theme_id, week, volume, accounts, arr, sentiment in cursor.fetchall():
            out[theme_id][week] = signals_mod.Week(
                week,
                volume=int(volume),
                unique_accounts=int(accounts),
                arr_demand=round(float(arr), 2),
                mean_sentiment=None if sentiment is None else round(float(sentiment), 4),
            )
    return out


def _headline_trend(series: list, today) -> float:
    """The current week's (pro-rated) trend once it is spiking or 2+ days old, else last week's."""
    if not series:
        return 0.0
    current = series[-1]
    if current.is_spike or today.weekday() >= 2 or len(series) == 1:
        return current.trend
    return series[-2].trend


def _spike_alert(*, theme: Theme, week: signals_mod.Week) -> None:
    alert, created = SpikeAlert.objects.get_or_create(
        theme=theme, week=week.week, defaults={"volume": week.volume, "baseline": week.baseline}
    )
    if not created:
        return
    if theme.product_id:
        product = theme.product
        recipients = {u.pk: u for u in product.members.all()}
        if product.pm_owner_id:
            recipients[product.pm_owner_id] = product.pm_owner
    else:
        recipients = {u.pk: u for u in User.objects.filter(role="ops_lead", is_active=True)}
    title = f"Feedback spike: “{theme.label}” — {week.volume} items this week (usually {week.baseline:.0f})"
    body = (
        f"{week.volume} items about “{theme.label}” in the week of {week.week:%-d %b}, against a baseline of "
        f"{week.baseline:.1f} a week over the previous 8 weeks."
    )
    for user in recipients.values():
        notify(
            user=user,
            kind="feedback.spike",
            title=title,
            body=body,
            url=theme.get_absolute_url(),
            dedupe_key=f"feedback.spike:{theme.pk}:{week.week.isoformat()}",
        )


# --- close the loop -----------------------------------------------------------------------


@transaction.atomic
def roadmap_link_create(*, roadmap_item, theme: Theme | None = None, item: FeedbackItem | None = None, by: User):
    """Link a theme or an item to the roadmap item that answers it (the product's team)."""
    from feedback.models import RoadmapLink
    from portal.permissions import require_product_edit

    require_product_edit(by, roadmap_item.product)
    if (theme is None) == (item is None):
        raise ValidationError({"theme": "Link either a theme or an item."})
    link, created = RoadmapLink.objects.get_or_create(
        roadmap_item=roadmap_item, theme=theme, item=item, defaults={"created_by": by}
    )
    if created:
        audit_record(
            actor=by,
            action="feedback.roadmap_link",
            target=roadmap_item,
            changes={"theme": theme.pk if theme else None, "item": item.pk if item else None},
        )
    return link


@transaction.atomic
def roadmap_link_delete(*, link, by: User) -> None:
    from portal.permissions import require_product_edit

    require_product_edit(by, link.roadmap_item.product)
    audit_record(actor=by, action="feedback.roadmap_unlink", target=link.roadmap_item,
                 changes={"theme": link.theme_id, "item": link.item_id})  # fmt: skip
    link.delete()


def shipped_loops_notify() -> int:
    """When a linked roadmap item ships, tell its owner (and the product's PM) who asked."""
    from feedback import selectors
    from feedback.models import RoadmapLink

    links = list(
        RoadmapLink.objects.filter(roadmap_item__status="shipped", notified_at__isnull=True).select_related(
            "roadmap_item__product__pm_owner", "roadmap_item__owner"
        )
    )
    told = 0
    for roadmap_item in {link.roadmap_item for link in links}:
        accounts = selectors.loop_accounts(roadmap_item, with_contacts=False)
        recipients = {u for u in (roadmap_item.owner, roadmap_item.product.pm_owner) if u is not None}
        for user in recipients:
            notify(
                user=user,
                kind="feedback.loop",
                title=f"“{roadmap_item.title}” shipped — {len(accounts)} accounts asked for it",
                body="Tell the customers who asked: the close-the-loop page lists them with their contacts.",
                url=reverse("feedback:loop", args=[roadmap_item.pk]),
                dedupe_key=f"feedback.loop:{roadmap_item.pk}",
            )
        told += 1
    RoadmapLink.objects.filter(pk__in=[link.pk for link in links]).update(notified_at=timezone.now())
    return told
