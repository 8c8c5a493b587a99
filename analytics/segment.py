"""Segment HTTP Tracking API compatibility: teams keep their Segment or RudderStack SDKs and
only change the host to https://<portal>/api/segment. Messages are mapped to events and go
through the same events_ingest as everything else.

Mapping: track → `event`; page → `page_viewed`; screen → `screen_viewed`; identify →
`user_identified` (traits as properties); group → `group_identified`; alias → `user_aliased`.
distinct_id = userId, else anonymousId. messageId becomes the idempotency uuid (a non-UUID
messageId is mapped to a stable uuid5).
"""

from __future__ import annotations

import base64
import binascii
import uuid
import zlib

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from analytics import services
from analytics.api_views import BadRequest, error, parse_json, read_body

SEGMENT_NAMESPACE = uuid.UUID("6f1d0f3e-2a7c-4f5e-9a51-3b1f2c8e0d44")
TYPE_EVENT = {
    "page": "page_viewed",
    "screen": "screen_viewed",
    "identify": "user_identified",
    "group": "group_identified",
    "alias": "user_aliased",
}
KNOWN_TYPES = {"track", *TYPE_EVENT}


def _write_key(request, body: dict | None) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise BadRequest(401, "Malformed Basic authorization header: expected base64 of '<write key>:'.") from None
        return decoded.split(":", 1)[0]
    if header.startswith("Bearer "):
        return header[7:].strip()
    if isinstance(body, dict) and isinstance(body.get("writeKey"), str):
        return body["writeKey"]
    return ""


def _decompressed(request) -> bytes:
    raw = read_body(request)
    if request.META.get("HTTP_CONTENT_ENCODING", "").lower() != "gzip":
        return raw
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(raw, services.MAX_BATCH_BYTES + 1)
    except zlib.error:
        raise BadRequest(400, "Content-Encoding is gzip but the body is not valid gzip.") from None
    if len(data) > services.MAX_BATCH_BYTES or inflater.unconsumed_tail:
        raise BadRequest(413, "Request body too large: the limit is 5 MB (uncompressed) and 1,000 events per batch.")
    return data


def to_event(message) -> dict | object:
    """A Segment message as an events_ingest event (a non-object is passed on to be rejected)."""
    if not isinstance(message, dict):
        return message
    kind = message.get("type", "track")
    if kind == "track":
        name = message.get("event")
        properties = message.get("properties")
    else:
        name = TYPE_EVENT.get(kind, kind if isinstance(kind, str) else None)
        properties = message.get("traits") if kind in ("identify", "group") else message.get("properties")
        if kind == "page" and message.get("name"):
            properties = {**(properties or {}), "name": message["name"]}
    context = message.get("context") or {}
    event = {
        "event": name,
        "distinct_id": message.get("userId") or message.get("anonymousId"),
        "timestamp": message.get("timestamp") or message.get("originalTimestamp"),
        "properties": properties if properties is not None else {},
    }
    if isinstance(event["properties"], dict) and isinstance(context, dict) and context.get("library"):
        event["properties"] = {**event["properties"], "$lib": str(context["library"].get("name", ""))[:100]}
    message_id = message.get("messageId")
    if message_id:
        try:
            event["uuid"] = str(uuid.UUID(str(message_id)))
        except ValueError:
            event["uuid"] = str(uuid.uuid5(SEGMENT_NAMESPACE, str(message_id)))
    if kind not in KNOWN_TYPES:
        event["event"] = None  # rejected per event, kept with the reason
    return event


def _handle(request, *, single_type: str | None):
    if request.method != "POST":
        return error(405, "Use POST with a JSON body.")
    try:
        body = parse_json(_decompressed(request))
        source, why = services.source_authenticate(_write_key(request, body))
        if source is None:
            raise BadRequest(401, why)
        if not isinstance(body, dict):
            raise BadRequest(400, "Wrong shape: the body must be a JSON object.")
        if single_type is None:
            batch = body.get("batch")
            if not isinstance(batch, list) or not batch:
                raise BadRequest(400, "Wrong shape: 'batch' must be a non-empty list of messages.")
            if len(batch) > services.MAX_BATCH_EVENTS:
                raise BadRequest(413, f"Too many messages: {len(batch):,}; the limit is 1,000 per batch.")
            messages = batch
        else:
            messages = [{**body, "type": single_type}]
        result = services.events_ingest(product=source.product, events=[to_event(m) for m in messages], source=source)
    except BadRequest as exc:
        return error(exc.status, exc.detail)
    return JsonResponse({"success": True, **result.as_dict()})


@csrf_exempt
def batch(request):
    return _handle(request, single_type=None)


@csrf_exempt
def track(request):
    return _handle(request, single_type="track")


@csrf_exempt
def identify(request):
    return _handle(request, single_type="identify")


@csrf_exempt
def page(request):
    return _handle(request, single_type="page")


@csrf_exempt
def screen(request):
    return _handle(request, single_type="screen")
