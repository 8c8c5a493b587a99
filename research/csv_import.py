"""Parse a participant CSV with a column mapping into clean rows and rejected rows (no Django writes)."""

from __future__ import annotations

import csv
import io
import zoneinfo
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

# Participant fields a CSV column can map to.
MAPPABLE = ["email", "name", "company", "role", "country", "timezone", "opted_out", "consent"]
TRUE_WORDS = {"1", "true", "yes", "y", "x", "granted", "opted out", "opted_out"}
MAX_ROWS = 20000


@dataclass
class ParsedCsv:
    rows: list[tuple[int, dict]] = field(default_factory=list)  # (row number, clean values)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)
    headers: list[str] = field(default_factory=list)


def _truthy(value: str) -> bool:
    return value.strip().lower() in TRUE_WORDS


def parse(text: str, *, mapping: dict[str, str] | None = None, attribute_columns: list[str] | None = None) -> ParsedCsv:
    """`mapping` maps participant field -> CSV column (default: same name). Row numbers count the
    header as row 1, like a spreadsheet. Unmapped columns listed in attribute_columns become
    segment attributes; with attribute_columns None, every unmapped column does."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.DictReader(io.StringIO(text))
    headers = [h.strip() for h in (reader.fieldnames or [])]
    if not headers:
        raise ValidationError({"file": "The file is empty or has no header row."})
    reader.fieldnames = headers
    mapping = {k: v.strip() for k, v in (mapping or {}).items() if v and v.strip()}
    for fld, column in mapping.items():
        if fld not in MAPPABLE:
            raise ValidationError({"mapping": f"Unknown participant field “{fld}”; map one of {', '.join(MAPPABLE)}."})
        if column not in headers:
            raise ValidationError({"mapping": f"Column “{column}” (mapped to {fld}) is not in the file header."})
    for fld in MAPPABLE:
        if fld not in mapping and fld in headers:
            mapping[fld] = fld
    if "email" not in mapping:
        raise ValidationError({"mapping": "Map a column to email: participants are de-duplicated by email."})
    mapped_columns = set(mapping.values())
    if attribute_columns is None:
        attribute_columns = [h for h in headers if h not in mapped_columns]
    else:
        missing = [c for c in attribute_columns if c not in headers]
        if missing:
            raise ValidationError({"mapping": f"Attribute column “{missing[0]}” is not in the file header."})
    timezones = zoneinfo.available_timezones()
    parsed = ParsedCsv(headers=headers)
    seen: dict[str, int] = {}
    for index, raw in enumerate(reader, start=2):
        if index - 1 > MAX_ROWS:
            raise ValidationError({"file": f"The file has more than {MAX_ROWS:,} rows; split it."})
        if None in raw:
            parsed.rejected.append((index, "more values than header columns"))
            continue
        values = {fld: (raw.get(col) or "").strip() for fld, col in mapping.items()}
        email = values.get("email", "").lower()
        if not email:
            parsed.rejected.append((index, "email is empty"))
            continue
        try:
            validate_email(email)
        except ValidationError:
            parsed.rejected.append((index, f"email “{email}” is not a valid address"))
            continue
        if email in seen:
            parsed.rejected.append((index, f"duplicate of row {seen[email]} (same email)"))
            continue
        country = values.get("country", "").upper()
        if country and (len(country) != 2 or not country.isalpha()):
            parsed.rejected.append((index, f"country “{values['country']}” is not a two-letter ISO code"))
            continue
        tz = values.get("timezone", "")
        if tz and tz not in timezones:
            parsed.rejected.append((index, f"timezone “{tz}” is not an IANA timezone such as Europe/Berlin"))
            continue
        seen[email] = index
        clean = {
            "email": email,
            "name": values.get("name", "")[:200],
            "company": values.get("company", "")[:200],
            "role": values.get("role", "")[:120],
            "country": country,
            "timezone": tz,
            "opted_out": _truthy(values.get("opted_out", "")),
            "consent": _truthy(values.get("consent", "")),
            "attributes": {c: (raw.get(c) or "").strip() for c in attribute_columns if (raw.get(c) or "").strip()},
        }
        parsed.rows.append((index, clean))
    return parsed
