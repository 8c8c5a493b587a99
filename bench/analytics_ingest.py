"""Event ingestion through the HTTP API (gunicorn, 1,000-event batches, real validation against a
tracking plan, idempotent uuids) beside raw COPY of the same rows into the same table — the
physical limit — as a ratio. Target: API >= 20,000 events/s."""

from __future__ import annotations

import http.client
import io
import json
import os
import random
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

from bench.common import Gunicorn, setup_django, verdict

TARGET_EVENTS_PER_S = 20_000
BATCH = 1000


def _product_and_key():
    from analytics import services
    from analytics.models import EventDefinition, PropertyDefinition, Source
    from portal.models import BusinessUnit, Product

    unit, _ = BusinessUnit.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    product, _ = Product.objects.get_or_create(slug="bench-ingest", defaults={"name": "Bench ingest", "unit": unit})
    for name in ("page_viewed", "button_clicked", "order_completed"):
        definition, created = EventDefinition.objects.get_or_create(
            product=product, name=name, defaults={"status": "active"}
        )
        if created:
            PropertyDefinition.objects.create(
                event=definition, name="platform", type="enum", enum_values=["web", "ios", "android"], required=True
            )
            PropertyDefinition.objects.create(event=definition, name="amount", type="number")
    Source.objects.filter(product=product).delete()
    _source, key = services.source_create(product=product, name="bench", enforcement="allow")
    return product, key


def _events(rng: random.Random, n: int) -> list[dict]:
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        out.append(
            {
                "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "event": rng.choice(("page_viewed", "button_clicked", "order_completed")),
                "distinct_id": f"user-{rng.randrange(50_000)}",
                "timestamp": (now - timedelta(seconds=rng.randrange(86400 * 7))).isoformat(),
                "properties": {"platform": rng.choice(("web", "ios", "android")), "amount": i % 97, "path": "/p"},
            }
        )
    return out


def main(batches: int | None = None, concurrency: int = 6) -> dict:
    setup_django()
    from django.db import connection

    from analytics.models import Event

    batches = batches or int(os.environ.get("BENCH_INGEST_BATCHES", "200"))
    product, key = _product_and_key()
    Event.objects.filter(product=product).delete()
    rng = random.Random(7)
    payloads = [json.dumps({"batch": _events(rng, BATCH)}).encode() for _ in range(batches)]
    _quiet_database(connection)

    with Gunicorn(workers=4, threads=2) as server:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        # Warm every worker (its first request imports the views and loads the plan), as a
        # server that has been up for a while is.
        warm_bodies = [json.dumps({"batch": _events(rng, 100)}) for _ in range(concurrency * 2)]

        def warm(body: str) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            conn.request("POST", "/api/v1/events/batch", body=body, headers=headers)
            conn.getresponse().read()

        warmers = [threading.Thread(target=warm, args=(b,)) for b in warm_bodies]
        for t in warmers:
            t.start()
        for t in warmers:
            t.join()
        errors: list[str] = []
        accepted = [0]
        lock = threading.Lock()
        queue = list(range(batches))

        def client() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
            while True:
                with lock:
                    if not queue:
                        return
                    i = queue.pop()
                conn.request("POST", "/api/v1/events/batch", body=payloads[i], headers=headers)
                response = conn.getresponse()
                body = response.read()
                with lock:
                    if response.status != 200:
                        errors.append(f"{response.status} {body[:200]!r}")
                    else:
                        accepted[0] += json.loads(body)["accepted"]

        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        api_seconds = time.perf_counter() - started
    api_rate = batches * BATCH / api_seconds

    # Baseline: the very same rows, COPY'd into the same table (fresh uuids are not needed:
    # the unique index only covers rows that carry one, and these are re-inserted without).
    rows = []
    received = datetime.now(UTC).isoformat()
    for payload in payloads:
        for e in json.loads(payload)["batch"]:
            props = json.dumps(e["properties"], separators=(",", ":"))
            rows.append(
                f"{product.pk}\t\\N\t{e['event']}\t{e['distinct_id']}\t{e['timestamp']}\t{received}\t{props}\taccepted\t[]\n"
            )
    buffer = io.StringIO("".join(rows))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.copy_expert(
            "COPY analytics_event (product_id, source_id, event, distinct_id, timestamp, received_at, properties, "
            "status, reasons) FROM STDIN",
            buffer,
        )
    copy_seconds = time.perf_counter() - started
    copy_rate = len(rows) / copy_seconds
    Event.objects.filter(product=product).delete()

    print("== analytics: event ingestion ==")
    print(
        f"API   POST /api/v1/events/batch  {api_rate:10,.0f} events/s   ({batches} x {BATCH} events, "
        f"{concurrency} clients, gunicorn 4x2, accepted {accepted[0]:,}, errors {len(errors)})"
    )
    print(f"COPY  same rows, same table       {copy_rate:10,.0f} rows/s   (baseline: the physical limit)")
    print(
        f"API / COPY ratio: {api_rate / copy_rate:.2f}  (checking every event against the plan, idempotency, "
        "per-event results)"
    )
    print(
        f"target >= {TARGET_EVENTS_PER_S:,} events/s: {verdict(api_rate >= TARGET_EVENTS_PER_S and not errors)}"
        f"  (machine: {os.cpu_count()} CPUs, shared)"
    )
    if errors:
        print("first error:", errors[0])
    return {"api_events_per_s": api_rate, "copy_rows_per_s": copy_rate, "ratio": api_rate / copy_rate}


def _quiet_database(connection) -> None:
    """Flush what earlier benchmarks wrote (the dashboard bench writes 10M rows and their
    rollups): otherwise the checkpoint they trigger lands in this one's few seconds."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except Exception as exc:  # noqa: BLE001 - needs superuser or pg_checkpoint; the figure is still printed
        print(f"(could not run CHECKPOINT first: {exc})")


if __name__ == "__main__":
    main()
