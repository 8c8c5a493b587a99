"""Retention for raw analytics events: rows older than N days are deleted in batches.

Dashboards read rollups, which are kept; the raw rows are only needed to re-roll recent
days (late events) and for ad-hoc insight queries over the retention window.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

BATCH = 50_000


def raw_events_prune(*, days: int | None = None, batch: int = BATCH, dry_run: bool = False) -> int:
    """Delete raw events whose timestamp is older than `days` (default RAW_EVENT_RETENTION_DAYS).

    Deletes in batches of `batch` rows, each in its own short transaction, so a big first
    run never holds locks for long or bloats one transaction. Returns the number deleted
    (or that would be, with dry_run)."""
    from analytics.models import Event

    days = settings.RAW_EVENT_RETENTION_DAYS if days is None else days
    if days <= 0:
        return 0
    cutoff = timezone.now() - timedelta(days=days)
    old = Event.objects.filter(timestamp__lt=cutoff)
    if dry_run:
        return old.count()
    table = Event._meta.db_table
    deleted = 0
    while True:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f'DELETE FROM "{table}" WHERE ctid = ANY(ARRAY(SELECT ctid FROM "{table}" '  # noqa: S608 - table name from the model
                "WHERE timestamp < %s LIMIT %s))",
                [cutoff, batch],
            )
            count = cur.rowcount
        deleted += count
        if count < batch:
            return deleted
