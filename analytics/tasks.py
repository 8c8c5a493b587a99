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


@shared_task(name="analytics.tile_refresh")
def tile_refresh(result_id: int) -> None:
    from analytics import services

    services.tile_result_compute(result_id=result_id)


@shared_task(name="analytics.refresh_stale_tiles")
def refresh_stale_tiles() -> int:
    """Beat: keep every dashboard's saved view warm (stale-while-revalidate)."""
    from analytics import services
    from analytics.models import Dashboard

    queued = 0
    for dashboard in Dashboard.objects.prefetch_related("tiles"):
        effective = services.effective_filters(dashboard=dashboard)
        results = services.tile_results_request(tiles=list(dashboard.tiles.all()), effective=effective)
        queued += sum(1 for r in results.values() if r.status == "queued")
    return queued


@shared_task(name="analytics.ensure_standard_dashboards")
def ensure_standard_dashboards() -> int:
    from analytics import services

    return services.dashboards_ensure_standard()


@shared_task(name="analytics.violation_alert")
def violation_alert(violation_id: int) -> None:
    from analytics import services

    services.violation_alert_send(violation_id=violation_id)


schedule("analytics.refresh_stale_tiles", "analytics.refresh_stale_tiles", 300)
schedule("analytics.ensure_standard_dashboards", "analytics.ensure_standard_dashboards", 3600)
