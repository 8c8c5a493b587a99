"""Concurrent batches that share events (SDK retries, replays) never deadlock: every batch is
answered, every unique event is stored once."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from analytics import services
from analytics.models import Event, ViolationType
from tests.factories import ProductFactory


@pytest.mark.django_db(transaction=True)
def test_overlapping_batches_in_opposite_orders_all_succeed_without_retries(monkeypatch):
    monkeypatch.setattr(services, "DEADLOCK_RETRIES", 1)  # the lock order alone must prevent deadlocks
    product = ProductFactory()
    now = timezone.now() - timedelta(hours=1)
    events = [
        {
            "uuid": str(uuid.uuid4()),
            "event": f"undefined_{i % 12}",  # unknown events: violation types are upserted too
            "distinct_id": f"user-{i}",
            "timestamp": (now - timedelta(days=i % 5)).isoformat(),
            "properties": {"n": i},
        }
        for i in range(400)
    ]
    orders = [events, events[::-1], events[200:] + events[:200], events[100:300][::-1] + events[:100]]
    errors: list[BaseException] = []
    start = threading.Barrier(len(orders))

    def send(batch):
        try:
            start.wait()
            for _ in range(3):
                services.events_ingest(product=product, events=batch)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(batch,)) for batch in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert Event.objects.filter(product=product).count() == 400
    assert Event.objects.filter(product=product).values("uuid").distinct().count() == 400
    assert ViolationType.objects.filter(product=product).count() == 12


@pytest.mark.django_db(transaction=True)
def test_a_batch_chosen_as_deadlock_victim_is_run_again_whole(monkeypatch):
    from django.db import OperationalError, transaction

    class Deadlock(Exception):
        pgcode = "40P01"

    product = ProductFactory()
    real = services._events_ingest_once
    calls = []

    def first_attempt_loses(**kwargs):
        calls.append(1)
        if len(calls) == 1:  # writes, then loses: rolled back as PostgreSQL would
            with transaction.atomic():
                real(**kwargs)
                raise OperationalError("deadlock detected") from Deadlock()
        return real(**kwargs)

    monkeypatch.setattr(services, "_events_ingest_once", first_attempt_loses)
    event = {"uuid": str(uuid.uuid4()), "event": "page_viewed", "distinct_id": "u1"}
    with pytest.raises(OperationalError), transaction.atomic():  # inside a caller's transaction: no retry
        services.events_ingest(product=product, events=[event])
    calls.clear()
    result = services.events_ingest(product=product, events=[event])
    assert len(calls) == 2 and result.accepted == 1
    assert Event.objects.filter(product=product).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_re_rolling_the_same_days_at_once_both_succeed():
    """rollup_dirty runs on every worker; two re-rolls of one day must not collide on keys."""
    from analytics import rollups
    from analytics.models import EventDailyRollup

    product = ProductFactory()
    now = timezone.now() - timedelta(hours=1)
    services.events_ingest(
        product=product,
        events=[
            {"event": f"e{i % 5}", "distinct_id": f"u{i}", "timestamp": (now - timedelta(days=i % 3)).isoformat()}
            for i in range(300)
        ],
    )
    errors: list[BaseException] = []
    start = threading.Barrier(3)
    first, last = (now - timedelta(days=2)).date(), now.date()

    def reroll():
        try:
            start.wait()
            for _ in range(3):
                rollups.rollup_range(product_id=product.pk, first=first, last=last)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=reroll) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sum(EventDailyRollup.objects.filter(product=product).values_list("count", flat=True)) == 300
