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


@pytest.mark.django_db(transaction=True)
def test_backup_restore_script_proves_a_populated_database_restores_identically():
    """scripts/backup_restore_check.sh (docs/operations.md) against a database with real rows:
    pg_dump, pg_restore into a scratch database, then every table's count and content hash."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    from portal.services import audit_record
    from tests.reliability import procs

    product = ProductFactory()
    _events(product, [1, 2, 3, 4, 5])
    audit_record(actor=None, action="backup.test", target=product, changes={"why": "restore check"})
    script = Path(__file__).resolve().parents[2] / "scripts" / "backup_restore_check.sh"
    done = subprocess.run(
        ["bash", str(script)],
        env=procs.child_env(DATABASE_URL=procs.test_database_url(), PYTHON=sys.executable),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(r"check OK: (\d+) tables, ([\d,]+) rows identical", done.stdout)
    assert found, done.stdout
    assert int(found.group(1)) > 50  # every app's tables, not an empty schema
    assert int(found.group(2).replace(",", "")) >= 5 + 1  # at least the rows made here
