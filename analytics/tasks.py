"""Analytics Celery tasks: thin, idempotent, ids in (see portal/celery.py)."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

from portal.celery import schedule

ROLLUP_PENDING_KEY = "analytics:rollup-pending"


@shared_task(name="analytics.rollup_dirty")
def rollup_dirty() -> int:
    """Re-roll every (product, day) that received new or late events. Safe to run twice."""
    from analytics import rollups

    cache.delete(ROLLUP_PENDING_KEY)
    return rollups.rollup_dirty_days()


schedule("analytics.rollup_dirty", "analytics.rollup_dirty", 60)
