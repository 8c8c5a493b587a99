"""Checking one event against the tracking plan. Pure Python, no Django import.

`Plan` is a compact snapshot of a product's definitions, loaded once per batch; `check`
returns the structural errors (the event cannot be stored as an event) and the plan
violations (it can, flagged, quarantined or rejected per the source's enforcement mode).
"""

from __future__ import annotations

import json
import re
import uuid as uuid_lib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

MAX_NAME = 200

JSON_TYPES = {str: "string", bool: "boolean", int: "number", float: "number", dict: "object", list: "array"}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    return JSON_TYPES.get(type(value), type(value).__name__)


@dataclass
class PropertyRule:
    name: str
    type: str
    required: bool
    enum_values: frozenset[str] = frozenset()


@dataclass
class EventRule:
    name: str
    status: str
    properties: list[PropertyRule] = field(default_factory=list)


@dataclass
class Plan:
    product_name: str
    events: dict[str, EventRule]
    max_future: timedelta = timedelta(hours=24)
    max_past: timedelta = timedelta(days=365)


@dataclass
class Checked:
    """An event after checking: the cleaned fields, or the reasons it cannot be stored."""

    index: int
    raw: Any
    event: str = ""
    distinct_id: str = ""
    timestamp: datetime | None = None
    uuid: str | None = None
    properties: dict = field(default_factory=dict)
    properties_json: str = "{}"
    errors: list[dict] = field(default_factory=list)  # structural: never stored as an event
    violations: list[dict] = field(default_factory=list)  # plan: handled by enforcement mode


def reason(code: str, message: str, prop: str | None = None) -> dict:
    out = {"code": code, "message": message}
    if prop is not None:
        out["property"] = prop
    return out


def parse_timestamp(value: Any) -> datetime | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _clean_text(value: Any, label: str, errors: list[dict], code: str) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and label == "distinct_id":
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        errors.append(reason(code, f"'{label}' is required: a non-empty string (got {json_type(value)})."))
        return ""
    if len(value) > MAX_NAME:
        errors.append(reason(code, f"'{label}' is longer than {MAX_NAME} characters."))
        return ""
    if "\x00" in value or not _encodable(value):
        errors.append(reason(code, f"'{label}' contains a NUL character or invalid Unicode."))
        return ""
    return value


def _encodable(text: str) -> bool:
    """False for lone surrogates (valid in JSON escapes, refused by PostgreSQL)."""
    if text.isascii():  # the common case, without building the encoded copy
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def clean_uuid(value: Any) -> str | None:
    """The canonical text of a UUID (lower-case, hyphenated), or None if it is not one. The
    usual canonical form is recognised by a regex; other spellings go through uuid.UUID."""
    if isinstance(value, str) and len(value) == 36 and _CANONICAL_UUID.fullmatch(value):
        return value.lower()
    try:
        return str(uuid_lib.UUID(str(value)))
    except ValueError:
        return None


def properties_text(props: dict) -> str:
    """Properties as compact JSON text (orjson; the standard library for what orjson refuses,
    e.g. integers beyond 64 bits, so such values are stored as before)."""
    try:
        return orjson.dumps(props).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(props, separators=(",", ":"), default=str, ensure_ascii=False)


def check(index: int, raw: Any, plan: Plan, now: datetime) -> Checked:
    out = Checked(index=index, raw=raw)
    if not isinstance(raw, dict):
        out.errors.append(reason("invalid_event", f"Each event must be a JSON object, got {json_type(raw)}."))
        return out
    errors = out.errors
    out.event = _clean_text(raw.get("event"), "event", errors, "invalid_event")
    out.distinct_id = _clean_text(raw.get("distinct_id"), "distinct_id", errors, "invalid_distinct_id")
    if raw.get("timestamp") in (None, ""):
        out.timestamp = now
    else:
        out.timestamp = parse_timestamp(raw.get("timestamp"))
        if out.timestamp is None:
            errors.append(
                reason("invalid_timestamp", f"'timestamp' must be ISO-8601 (got {str(raw.get('timestamp'))[:60]!r}).")
            )
    if raw.get("uuid") not in (None, ""):
        out.uuid = clean_uuid(raw["uuid"])
        if out.uuid is None:
            errors.append(reason("invalid_uuid", f"'uuid' is not a UUID (got {str(raw['uuid'])[:60]!r})."))
    props = raw.get("properties", {})
    if props is None:
        props = {}
    if not isinstance(props, dict):
        errors.append(reason("invalid_properties", f"'properties' must be an object, got {json_type(props)}."))
    else:
        out.properties = props
        out.properties_json = properties_text(props)
        if "\\u0000" in out.properties_json or not _encodable(out.properties_json):
            errors.append(reason("invalid_properties", "'properties' contains a NUL character or invalid Unicode."))
    if errors:
        return out
    _check_plan(out, plan, now)
    return out


def _check_plan(out: Checked, plan: Plan, now: datetime) -> None:
    v = out.violations
    ts = out.timestamp
    if ts is not None and ts > now + plan.max_future:
        v.append(reason("timestamp_future", f"Timestamp {ts.isoformat()} is more than {_span(plan.max_future)} ahead."))
    elif ts is not None and ts < now - plan.max_past:
        v.append(reason("timestamp_past", f"Timestamp {ts.isoformat()} is more than {_span(plan.max_past)} old."))
    rule = plan.events.get(out.event)
    if rule is None:
        v.append(
            reason("unknown_event", f"Unknown event '{out.event}': not in the tracking plan of {plan.product_name}.")
        )
        return
    if rule.status == "deprecated":
        v.append(reason("deprecated_event", f"Event '{out.event}' is deprecated in the tracking plan."))
    props = out.properties
    for prop in rule.properties:
        value = props.get(prop.name)
        if value is None:
            if prop.required:
                v.append(reason("missing_property", f"Required property '{prop.name}' is missing.", prop.name))
            continue
        problem = _type_problem(prop, value)
        if problem:
            v.append(problem)


def _type_problem(prop: PropertyRule, value: Any) -> dict | None:
    t = prop.type
    ok = True
    if t == "string":
        ok = isinstance(value, str)
    elif t == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif t == "boolean":
        ok = isinstance(value, bool)
    elif t == "datetime":
        ok = isinstance(value, str) and parse_timestamp(value) is not None
        if not ok:
            return reason(
                "wrong_type",
                f"Property '{prop.name}' should be an ISO-8601 date-time, got {str(value)[:60]!r}.",
                prop.name,
            )
    elif t == "enum":
        if isinstance(value, (dict, list)) or str(value) not in prop.enum_values:
            allowed = ", ".join(sorted(prop.enum_values))
            return reason(
                "not_in_enum",
                f"Property '{prop.name}' value {str(value)[:60]!r} is not one of: {allowed}.",
                prop.name,
            )
        return None
    if not ok:
        return reason("wrong_type", f"Property '{prop.name}' should be a {t}, got {json_type(value)}.", prop.name)
    return None


def _span(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24} days" if hours >= 48 else f"{hours} hours"
