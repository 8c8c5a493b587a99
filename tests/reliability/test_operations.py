"""Operations: raw-event retention, task dispatch plumbing, deploy settings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from analytics.models import Event
from analytics.services import events_ingest
from portal.retention import raw_events_prune
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _events(product, ages_days: list[int]):
    now = timezone.now()
    events = [
        {"event": "page_viewed", "distinct_id": f"u{i}", "timestamp": (now - timedelta(days=age)).isoformat()}
        for i, age in enumerate(ages_days)
    ]
    events_ingest(product=product, events=events)


def test_prune_deletes_only_events_older_than_the_window_in_batches():
    product = ProductFactory()
    _events(product, [1, 10, 29, 31, 45, 100, 400])
    assert raw_events_prune(days=30, dry_run=True) == 4
    assert raw_events_prune(days=30, batch=3) == 4  # two batches
    ages = sorted((timezone.now() - t).days for t in Event.objects.values_list("timestamp", flat=True))
    assert ages == [1, 10, 29]


def test_prune_command_reports_and_refuses_a_zero_window(capsys):
    product = ProductFactory()
    _events(product, [5, 500])
    call_command("prune_raw_events", "--days", "30")
    assert "deleted 1 raw events older than 30 days" in capsys.readouterr().out
    assert Event.objects.count() == 1
    with pytest.raises(Exception, match="at least 1"):
        call_command("prune_raw_events", "--days", "0")


def test_retention_zero_disables_the_daily_task(settings):
    from portal.tasks import prune_raw_events

    product = ProductFactory()
    _events(product, [900])
    settings.RAW_EVENT_RETENTION_DAYS = 0
    assert prune_raw_events() == 0
    settings.RAW_EVENT_RETENTION_DAYS = 30
    assert prune_raw_events() == 1


def test_every_registered_task_can_be_dispatched_after_commit():
    """Services dispatch with delay_on_commit; the portal's task class must provide it."""
    from portal.celery import app

    app.loader.import_default_modules()
    tasks = [t for name, t in app.tasks.items() if not name.startswith("celery.")]
    assert len(tasks) >= 10
    assert [t.name for t in tasks if not callable(getattr(t, "delay_on_commit", None))] == []


def test_sweepers_and_retention_are_scheduled():
    from portal.celery import app

    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"feedback.retry_failed", "experiments.requeue_stale_snapshots", "portal.prune_raw_events"} <= scheduled
    assert "analytics.rollup_dirty" in scheduled
