"""Reads for experiments: the querysets views and the API use (everyone signed in can read
experiments: cross-product learning is the point; writes are checked in services)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from experiments.models import EXPOSURE_EVENT, Experiment, ExperimentMetric, Metric, ResultSnapshot
from portal.models import Product


def experiment_list(
    *,
    product: str | None = None,
    status: str | None = None,
    q: str | None = None,
    metric: str | None = None,
    outcome: str | None = None,
    tag: str | None = None,
    owner_id: int | None = None,
) -> QuerySet[Experiment]:
    qs = Experiment.objects.select_related("product", "owner", "brief", "prd", "roadmap_item").prefetch_related(
        "variants",
        Prefetch("experiment_metrics", queryset=ExperimentMetric.objects.select_related("metric")),
    )
    if product:
        qs = qs.filter(product__slug=product)
    if status:
        qs = qs.filter(status=status)
    if outcome:
        qs = qs.filter(decision=outcome)
    if tag:
        qs = qs.filter(tags__contains=[tag.lower()])
    if metric:
        qs = qs.filter(experiment_metrics__metric__key=metric).distinct()
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    if q:
        vector = (
            SearchVector("name", weight="A")
            + SearchVector("hypothesis_change", "hypothesis_impact", "hypothesis_metric", weight="B")
            + SearchVector("learnings", "decision_rationale", weight="C")
        )
        qs = qs.annotate(search=vector).filter(
            Q(search=SearchQuery(q, search_type="websearch")) | Q(key__icontains=q) | Q(tags__contains=[q.lower()])
        )
    return qs.order_by("-created_at")


def experiment_get(key: str) -> Experiment:
    return experiment_list().get(key=key)


def snapshot_latest(experiment: Experiment) -> ResultSnapshot | None:
    return experiment.snapshots.filter(status=ResultSnapshot.Status.READY).order_by("-computed_at", "-pk").first()


def snapshot_pending(experiment: Experiment) -> ResultSnapshot | None:
    return experiment.snapshots.filter(
        status__in=[ResultSnapshot.Status.QUEUED, ResultSnapshot.Status.COMPUTING]
    ).first()


def snapshot_history(experiment: Experiment) -> list[ResultSnapshot]:
    """Ready snapshots in time order (for the cumulative-lift chart)."""
    return list(
        experiment.snapshots.filter(status=ResultSnapshot.Status.READY)
        .only("as_of", "results", "units", "computed_at")
        .order_by("as_of", "pk")
    )


def metric_list(*, product: Product | None = None) -> QuerySet[Metric]:
    qs = Metric.objects.select_related("product")
    if product is not None:
        qs = qs.filter(Q(product=product) | Q(product__isnull=True))
    return qs.order_by("name")


def product_daily_units(product: Product, *, days: int = 28) -> float:
    """Average distinct units a day seen in the product's analytics events over the last `days`."""
    since = timezone.now() - timedelta(days=days)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT coalesce(avg(n), 0) FROM (
                SELECT count(DISTINCT distinct_id) AS n FROM analytics_event
                WHERE product_id = %s AND timestamp >= %s AND event <> %s AND status = 'accepted'
                GROUP BY (timestamp AT TIME ZONE 'UTC')::date
            ) daily
            """,
            [product.pk, since, EXPOSURE_EVENT],
        )
        return float(cursor.fetchone()[0] or 0)


def tag_list() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT unnest(tags) FROM experiments_experiment ORDER BY 1")
        return [row[0] for row in cursor.fetchall()]
