"""Ingestion endpoints. Plain Django views (not DRF) on purpose: they authenticate with a
source write key, bound the body before reading it (413), and must answer every bad input
with a JSON 4xx that names the problem, never a 500, at tens of thousands of events/s."""

from __future__ import annotations

import json
import logging
import re

import orjson
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from analytics import services

log = logging.getLogger(__name__)


class BadRequest(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def error(status: int, detail: str) -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="events"'
    return response


def read_body(request, *, limit: int = services.MAX_BATCH_BYTES) -> bytes:
    """The request body, refusing (413) anything over the limit before reading it all."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadRequest(400, "Content-Length is not a number.") from None
    too_big = f"Request body too large: the limit is {limit // (1024 * 1024)} MB and 1,000 events per batch."
    if length > limit:
        raise BadRequest(413, too_big)
    try:
        return request.body
    except RequestDataTooBig:
        raise BadRequest(413, too_big) from None


_LONG_DIGITS = re.compile(rb"\d{20}")


def parse_json(body: bytes):
    """The body as Python values, exactly as the standard library reads it (orjson when it
    gives the same answer, which is nearly always, at a fraction of the cost)."""
    if not body:
        raise BadRequest(400, 'Empty body: send a JSON object like {"batch": [...]}.')
    if not _LONG_DIGITS.search(body):  # orjson reads integers beyond 64 bits as floats
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # orjson is strict (NaN, lone surrogates…): the standard parser decides
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise BadRequest(400, "Malformed JSON: the body is not UTF-8.") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(400, f"Malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.") from None


def bearer_source(request):
    header = request.META.get("HTTP_AUTHORIZATION", "")
    secret = header[7:].strip() if header.startswith("Bearer ") else ""
    source, why = services.source_authenticate(secret)
    if source is None:
        raise BadRequest(401, why)
    return source


def batch_from(data) -> list:
    if not isinstance(data, dict):
        raise BadRequest(400, f"Wrong shape: the body must be a JSON object with a 'batch' list, got {_kind(data)}.")
    batch = data.get("batch")
    if not isinstance(batch, list):
        raise BadRequest(400, f"Wrong shape: 'batch' must be a list of events, got {_kind(batch)}.")
    if not batch:
        raise BadRequest(400, "Wrong shape: 'batch' is empty; send 1 to 1,000 events.")
    if len(batch) > services.MAX_BATCH_EVENTS:
        raise BadRequest(
            413, f"Too many events: {len(batch):,} in one batch; the limit is {services.MAX_BATCH_EVENTS:,}."
        )
    return batch


def _kind(value) -> str:
    from analytics.ingest import json_type

    return "nothing" if value is None else json_type(value)


@csrf_exempt
def events_batch(request):
    """POST /api/v1/events/batch — see docs/analytics.md."""
    if request.method != "POST":
        return error(405, 'Use POST with a JSON body {"batch": [...]}.')
    try:
        source = bearer_source(request)
        batch = batch_from(parse_json(read_body(request)))
        result = services.events_ingest(product=source.product, events=batch, source=source)
    except BadRequest as exc:
        return error(exc.status, exc.detail)
    return json_response(result.as_dict())


def json_response(data: dict, status: int = 200) -> HttpResponse:
    """A JSON response serialised by orjson (a 1,000-event result has 1,000 entries)."""
    return HttpResponse(orjson.dumps(data), status=status, content_type="application/json")
