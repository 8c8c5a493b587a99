"""Feedback Celery tasks: thin, ids in, idempotent (see portal/celery.py)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from feedback import services
from feedback.models import FeedbackItem, ItemState, PipelineRun
from portal.celery import schedule
from portal.models import Product

RETRY_DELAYS = [10, 60, 300]


@shared_task(name="feedback.process_items", bind=True, max_retries=len(RETRY_DELAYS))
def process_items(self, item_ids: list[int]) -> dict:
    pending = list(
        FeedbackItem.objects.filter(pk__in=item_ids)
        .exclude(state=ItemState.PROCESSED, error="")
        .values_list("id", flat=True)
    )
    if not pending:
        return {}
    counts = services.items_process(item_ids=pending)
    product_ids = set(FeedbackItem.objects.filter(pk__in=item_ids).values_list("product_id", flat=True))
    for product_id in product_ids:
        refresh_signals_soon(product_id)
    failed = list(
        FeedbackItem.objects.filter(
            pk__in=item_ids, state=ItemState.FAILED, attempts__lt=services.MAX_ATTEMPTS
        ).values_list("id", flat=True)
    )
    if failed and self.request.retries < self.max_retries:
        raise self.retry(args=[failed], countdown=RETRY_DELAYS[self.request.retries])
    return counts


def refresh_signals_soon(product_id: int | None, delay: int = 5) -> None:
    """Coalesce: many batches for one product within a few seconds refresh its signal once."""
    if cache.add(f"feedback:signals-queued:{product_id}", 1, timeout=delay):
        refresh_signals.apply_async(args=[product_id], countdown=delay)


@shared_task(name="feedback.refresh_signals")
def refresh_signals(product_id: int | None = None) -> dict:
    product = Product.objects.filter(pk=product_id).first() if product_id else None
    if product_id and product is None:
        return {}
    return services.signals_refresh(product=product)


@shared_task(name="feedback.refresh_all_signals")
def refresh_all_signals() -> dict:
    return services.signals_refresh(all_products=True)


@shared_task(name="feedback.recluster")
def recluster(run_id: int) -> None:
    run = PipelineRun.objects.filter(pk=run_id).select_related("product").first()
    if run is None or run.status == "done":
        return
    PipelineRun.objects.filter(pk=run.pk).update(status="running")
    try:
        summary = services.themes_recluster(product=run.product)
        summary.update(services.signals_refresh(product=run.product))
    except Exception as exc:
        services.run_finish(run, error=f"{type(exc).__name__}: {exc}")
        raise
    services.run_finish(run, summary=summary)


@shared_task(name="feedback.recluster_all")
def recluster_all() -> None:
    for product in [None, *Product.objects.all()]:
        run = services.run_start(kind="recluster", product=product)
        recluster.delay(run.pk)


@shared_task(name="feedback.retry_failed")
def retry_failed() -> int:
    # Failed items below the attempt limit, and pending ones whose task was lost (broker down).
    stale = timezone.now() - timedelta(minutes=10)
    ids = list(
        FeedbackItem.objects.filter(
            Q(state=ItemState.FAILED) | Q(state=ItemState.PENDING, updated_at__lt=stale),
            attempts__lt=services.MAX_ATTEMPTS,
        ).values_list("id", flat=True)[:5000]
    )
    for start in range(0, len(ids), services.PROCESS_CHUNK):
        process_items.delay(ids[start : start + services.PROCESS_CHUNK])
    return len(ids)


schedule("feedback.refresh_all_signals", "feedback.refresh_all_signals", 3600)
schedule("feedback.recluster_all", "feedback.recluster_all", 24 * 3600)
schedule("feedback.retry_failed", "feedback.retry_failed", 15 * 60)


@shared_task(name="feedback.close_the_loop")
def close_the_loop() -> int:
    return services.shipped_loops_notify()


schedule("feedback.close_the_loop", "feedback.close_the_loop", 15 * 60)
