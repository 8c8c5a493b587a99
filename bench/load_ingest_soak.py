"""Ingestion soak: N events (default 1,000,000) through POST /api/v1/events/batch on
gunicorn, with retries and duplicates mixed in; the number stored must equal the number
of unique events sent. Baseline: the same batches through `events_ingest` in-process
(no HTTP), measured in the same run.

    python -m bench.load_ingest_soak [--events 1000000] [--clients 8]

Mixed in on purpose: ~3% of batches are sent twice (a client retrying after a timeout),
~5% of events reappear in a later batch (an SDK re-sending), and some batches time out on
the client side and are retried. Every event carries a uuid, which is what makes the
API idempotent. `make bench` runs a 200,000-event soak to stay under two minutes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

from bench.common import Gunicorn, setup_django, verdict

BATCH = 1000
REPLAYS_PER_BATCH = 50
DEFAULT_MAKE_BENCH_EVENTS = 200_000


def _batches(n_events: int, rng: random.Random):
    """Batches of up to 1,000: ~95% fresh events, ~5% replays of events sent in earlier batches."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    recent: list[dict] = []  # a window of already-sent events to replay from
    made = 0
    while made < n_events:
        size = min(BATCH - REPLAYS_PER_BATCH, n_events - made)
        batch = []
        for i in range(size):
            batch.append(
                {
                    "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "event": rng.choice(["page_viewed", "order_completed", "cart_viewed", "checkout_started"]),
                    "distinct_id": f"user-{rng.randrange(50_000)}",
                    "timestamp": (start + timedelta(seconds=made + i)).isoformat(),
                    "properties": {"amount": rng.randrange(1, 500), "plan": rng.choice(["free", "pro"])},
                }
            )
        made += size
        replays = rng.sample(recent, k=min(REPLAYS_PER_BATCH, len(recent)))
        recent = (recent + batch)[-5000:]
        yield batch + replays


class Sender:
    def __init__(self, port: int, key: str):
        self.port = port
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.local = threading.local()
        self.retries = 0
        self.errors = 0
        self.lock = threading.Lock()

    def _conn(self) -> http.client.HTTPConnection:
        if getattr(self.local, "conn", None) is None:
            self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        return self.local.conn

    def post(self, body: bytes) -> None:
        for attempt in range(6):
            try:
                conn = self._conn()
                conn.request("POST", "/api/v1/events/batch", body=body, headers=self.headers)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    return
                if response.status < 500 and response.status != 429:
                    with self.lock:
                        self.errors += 1
                    return
            except (OSError, http.client.HTTPException):
                self.local.conn = None
            with self.lock:
                self.retries += 1
            time.sleep(0.2 * (2**attempt))
        with self.lock:
            self.errors += 1


def _source():
    setup_django()
    from analytics import services
    from portal.models import BusinessUnit, Product

    unit, _ = BusinessUnit.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    stamp = int(time.time())
    product = Product.objects.create(name=f"Soak {stamp}", slug=f"soak-{stamp}", unit=unit)
    _source_obj, key = services.source_create(product=product, name="soak")
    return product, key


def _baseline(n: int) -> float:
    """Events/s through events_ingest in-process on fresh events (no HTTP, no JSON)."""
    from analytics import services
    from analytics.models import Event

    product, _key = _source()
    rng = random.Random(7)
    started = time.perf_counter()
    for batch in _batches(n, rng):
        services.events_ingest(product=product, events=batch)
    elapsed = time.perf_counter() - started
    Event.objects.filter(product=product).delete()
    product.delete()
    return n / elapsed


def main(events: int = DEFAULT_MAKE_BENCH_EVENTS, clients: int = 8) -> dict:
    setup_django()
    from analytics.models import Event

    product, key = _source()
    rng = random.Random(42)
    unique: set[str] = set()
    sent_events = 0
    duplicate_batches = 0
    with Gunicorn(workers=4, threads=2) as server:
        sender = Sender(server.port, key)
        queue: list[bytes] = []
        for batch in _batches(events, rng):
            unique.update(e["uuid"] for e in batch)
            body = json.dumps({"batch": batch}).encode()
            queue.append(body)
            sent_events += len(batch)
            if rng.random() < 0.03:  # a client retry of a batch that had in fact arrived
                queue.append(body)
                sent_events += len(batch)
                duplicate_batches += 1
        rng.shuffle(queue)  # retries and replays arrive out of order
        cursor = iter(queue)
        lock = threading.Lock()

        def worker() -> None:
            while True:
                with lock:
                    body = next(cursor, None)
                if body is None:
                    return
                sender.post(body)

        started = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    stored = Event.objects.filter(product=product).count()
    rate = sent_events / elapsed
    baseline = _baseline(min(events, 50_000))
    ok = stored == len(unique) and sender.errors == 0
    print(f"== reliability: ingestion soak, {events:,} unique events through the API ==")
    print(
        f"sent {sent_events:,} events in {len(queue):,} batches ({duplicate_batches} batches sent twice, "
        f"{sent_events - len(unique):,} duplicate events in all), {sender.retries} client retries, "
        f"{sender.errors} failed batches"
    )
    print(f"stored {stored:,} / unique sent {len(unique):,}   in {elapsed:.1f} s = {rate:,.0f} events/s over HTTP")
    print(
        f"in-process events_ingest baseline {baseline:,.0f} events/s; HTTP is {rate / baseline:.2f}x of it; "
        f"target stored == unique and 0 failed batches: {verdict(ok)}"
    )
    Event.objects.filter(product=product).delete()
    product.delete()
    return {"stored": stored, "unique": len(unique), "events_per_s": rate, "baseline_per_s": baseline}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    main(events=args.events, clients=args.clients)
