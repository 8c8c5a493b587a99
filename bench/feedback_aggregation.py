"""Feedback: ingestion throughput, full aggregation (sentiment + areas + duplicates + themes +
signals) and the incremental path, on generated items in throw-away bench products.

Targets (issue #7): full aggregation of 100,000 items <= 60 s; incremental run on 1,000 new
items <= 5 s; ingestion API items/s reported. To stay under 2 minutes the full run uses
BENCH_FEEDBACK_ITEMS items (default 6,000) and extrapolates linearly to 100,000 (every
stage is linear: per-item lexicon scoring, batched upserts, mini-batch k-means).
Baselines measured in the same run: a bare bulk INSERT of the same rows (ingestion) and
VADER alone over the same texts (aggregation).
"""

from __future__ import annotations

import os
import time

from bench.common import setup_django, verdict

TARGET_FULL_100K_S = 60.0
TARGET_INCREMENTAL_S = 5.0
BENCH_PREFIX = "bench-fb-"


def _bench_products():
    from feedback.demo import THEMES
    from portal.models import BusinessUnit, Product

    unit, _ = BusinessUnit.objects.get_or_create(slug="bench-feedback", defaults={"name": "Bench (feedback)"})
    return {
        slug: Product.objects.get_or_create(
            slug=f"{BENCH_PREFIX}{slug}", defaults={"name": f"Bench feedback {slug}", "unit": unit}
        )[0]
        for slug in THEMES
    }


def _cleanup() -> None:
    from feedback.models import FeedbackItem, FeedbackSource, PipelineRun, Theme
    from portal.models import BusinessUnit, Product

    products = Product.objects.filter(slug__startswith=BENCH_PREFIX)
    FeedbackItem.objects.filter(product__in=products).delete()
    FeedbackItem.objects.filter(source__slug__startswith=BENCH_PREFIX).delete()
    Theme.objects.filter(product__in=products).delete()
    PipelineRun.objects.filter(product__in=products).delete()
    FeedbackSource.objects.filter(slug__startswith=BENCH_PREFIX).delete()
    products.delete()
    BusinessUnit.objects.filter(slug="bench-feedback").delete()


def _items(n: int, seed: int):
    from feedback import demo

    items = demo.generate(n, seed=seed, n_accounts=400)
    for item in items:
        item["product"] = f"{BENCH_PREFIX}{item['product']}"
        item["source"] = f"{BENCH_PREFIX}{item['source']}"
        item["account"]["name"] = f"{BENCH_PREFIX}{item['account']['name']}"
    return items


def main() -> dict:
    setup_django()
    from django.db import transaction
    from rest_framework.test import APIClient

    from feedback import demo, services, themes
    from feedback.models import FeedbackItem, FeedbackSource
    from feedback.sentiment import sentiment_score
    from portal.models import User

    n = int(os.environ.get("BENCH_FEEDBACK_ITEMS", "6000"))
    _cleanup()
    products = _bench_products()
    for slug, name, kind in demo.SOURCES:
        FeedbackSource.objects.get_or_create(slug=f"{BENCH_PREFIX}{slug}", defaults={"name": name, "kind": kind})
    themes.cluster_texts(["warm up scikit-learn import"] * 40)  # import cost is not aggregation
    try:
        items = _items(n + 2000, seed=4242)
        full, api_batch, incremental = items[:n], items[n : n + 1000], items[n + 1000 :]

        # 1. ingestion: the service on the full set, and the HTTP API on one 1,000-item request
        started = time.perf_counter()
        for start in range(0, n, services.MAX_ITEMS_PER_REQUEST):
            services.items_ingest(items=full[start : start + services.MAX_ITEMS_PER_REQUEST])
        ingest_s = time.perf_counter() - started
        client = APIClient()
        client.force_authenticate(User.objects.filter(role="ops_lead").first())
        started = time.perf_counter()
        response = client.post("/api/v1/feedback/items", {"items": api_batch}, format="json")
        api_s = time.perf_counter() - started
        assert response.status_code == 200, response.content[:300]
        api_ids = list(
            FeedbackItem.objects.filter(external_id__in=[i["external_id"] for i in api_batch]).values_list(
                "id", flat=True
            )
        )
        FeedbackItem.objects.filter(pk__in=api_ids).delete()
        source = FeedbackSource.objects.get(slug=f"{BENCH_PREFIX}zendesk")
        rows = [FeedbackItem(source=source, external_id=f"raw-{i}", text=it["text"], created_at=it["created_at"])
                for i, it in enumerate(api_batch)]  # fmt: skip
        started = time.perf_counter()
        with transaction.atomic():
            FeedbackItem.objects.bulk_create(rows)
        raw_s = time.perf_counter() - started
        FeedbackItem.objects.filter(source=source, external_id__startswith="raw-").delete()

        # 2. full aggregation of everything stored
        ids = list(
            FeedbackItem.objects.filter(product__in=products.values()).order_by("id").values_list("id", flat=True)
        )
        started = time.perf_counter()
        for start in range(0, len(ids), 1000):
            services.items_process(item_ids=ids[start : start + 1000])
        process_s = time.perf_counter() - started
        started = time.perf_counter()
        for product in products.values():
            services.themes_recluster(product=product)
        cluster_s = time.perf_counter() - started
        started = time.perf_counter()
        for product in products.values():
            services.signals_refresh(product=product)
        signals_s = time.perf_counter() - started
        full_s = process_s + cluster_s + signals_s
        texts = [i["text"] for i in full]
        started = time.perf_counter()
        for text in texts:
            sentiment_score(text)
        vader_s = time.perf_counter() - started

        # 3. incremental: 1,000 new items stored, processed (join existing themes), signals refreshed
        started = time.perf_counter()
        services.items_ingest(items=incremental)
        new_ids = list(
            FeedbackItem.objects.filter(external_id__in=[i["external_id"] for i in incremental]).values_list(
                "id", flat=True
            )
        )
        services.items_process(item_ids=new_ids)
        for product in products.values():
            services.signals_refresh(product=product)
        incremental_s = time.perf_counter() - started
        joined = FeedbackItem.objects.filter(pk__in=new_ids, theme__isnull=False).count()
    finally:
        _cleanup()

    per_100k = full_s * 100_000 / n
    print(f"== feedback: {n:,} items (extrapolated to 100,000), {len(products)} products ==")
    print(f"ingestion service        {n / ingest_s:10,.0f} items/s  ({ingest_s:.1f} s for {n:,})")
    print(f"ingestion API (1 x 1,000) {1000 / api_s:9,.0f} items/s  (baseline bare bulk INSERT {1000 / raw_s:,.0f} "
          f"rows/s; API is {raw_s / api_s:.2f}x of it)")  # fmt: skip
    print(f"full aggregation         {full_s:10.1f} s   (process {process_s:.1f} + themes {cluster_s:.1f} + "
          f"signals {signals_s:.1f}); baseline VADER alone {vader_s:.1f} s = {full_s / vader_s:.2f}x")  # fmt: skip
    print(f"  extrapolated to 100,000 items: {per_100k:.1f} s (target <= {TARGET_FULL_100K_S:.0f} s): "
          f"{verdict(per_100k <= TARGET_FULL_100K_S)}")  # fmt: skip
    print(f"incremental 1,000 items  {incremental_s:10.2f} s   ({joined} joined existing themes) "
          f"(target <= {TARGET_INCREMENTAL_S:.0f} s): {verdict(incremental_s <= TARGET_INCREMENTAL_S)}")  # fmt: skip
    return {
        "ingest_items_per_s": n / ingest_s,
        "api_items_per_s": 1000 / api_s,
        "full_s": full_s,
        "full_100k_s": per_100k,
        "incremental_s": incremental_s,
    }


if __name__ == "__main__":
    main()
