"""Global search: every app registers a provider; results are permission-aware.

A provider is `fn(query: str, user, limit: int) -> list[SearchResult]`, registered at
import time from the app's `search_providers.py` (autoloaded below). Providers use
PostgreSQL full-text search over a stored, weighted, GIN-indexed `search_vector` column
(`search_vector_field`, queried with `ranked`: index scan, rank on the stored vector,
ts_headline only on the top rows) and must filter by what the user may see (no PII).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec

from django.conf import settings
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector, SearchVectorField
from django.db import models
from django.db.models import F
from django.shortcuts import render


@dataclass
class SearchResult:
    kind: str  # e.g. "Experiment"
    title: str
    url: str
    snippet: str = ""  # plain text; HIGHLIGHT_START/STOP mark hits (SearchHeadline start_sel/stop_sel)
    rank: float = 0.0
    product: str = ""


HIGHLIGHT_START, HIGHLIGHT_STOP = "\x01", "\x02"
SEARCH_CONFIG = "english"


def search_vector_field(*weighted: tuple) -> models.GeneratedField:
    """A stored tsvector column, `[(field or expression, weight A-D)]`, kept current by
    PostgreSQL (GENERATED ALWAYS AS ... STORED). With a GinIndex on it, a provider's
    `filter(search_vector=query)` is an index scan and SearchRank reads the stored vector
    instead of parsing every row's text on each search."""
    vector = None
    for expression, weight in weighted:
        part = SearchVector(expression, weight=weight, config=SEARCH_CONFIG)
        vector = part if vector is None else vector + part
    return models.GeneratedField(expression=vector, output_field=SearchVectorField(), db_persist=True)


Provider = Callable[[str, object, int], list[SearchResult]]
PROVIDERS: dict[str, tuple[str, Provider]] = {}


def query_of(text: str) -> SearchQuery:
    return SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)


def headline_of(expression, query: SearchQuery, **options) -> SearchHeadline:
    """A snippet with HIGHLIGHT_START/STOP around the hits."""
    options = {"max_words": 30, **options}
    return SearchHeadline(
        expression, query, config=SEARCH_CONFIG, start_sel=HIGHLIGHT_START, stop_sel=HIGHLIGHT_STOP, **options
    )


def ranked(qs, query: SearchQuery, *, limit: int, headline=None, then: str = "-pk", **headline_options) -> list:
    """Rows of `qs` whose stored `search_vector` matches `query` (a GIN index scan), best
    first, at most `limit`, each with `.rank` and, given a `headline` field or expression,
    `.headline`; ties broken by `then`. One bounded query: ts_rank reads the stored vector, and PostgreSQL evaluates
    ts_headline (an expensive function) only on the rows left after ORDER BY ... LIMIT."""
    qs = (
        qs.defer("search_vector")
        .filter(search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", then)
    )
    if headline is not None:
        qs = qs.annotate(headline=headline_of(headline, query, **headline_options))
    return list(qs[:limit])


def url_of(obj, fallback: str = "/") -> str:
    """The object's page, or a fallback while its app has no such page yet."""
    from django.urls import NoReverseMatch

    try:
        return obj.get_absolute_url()
    except (NoReverseMatch, AttributeError):
        return fallback


def register(kind: str, label: str):
    def decorator(fn: Provider) -> Provider:
        PROVIDERS[kind] = (label, fn)
        return fn

    return decorator


def _load_providers() -> None:
    for app_label in ["portal", *settings.PORTAL_APPS]:
        if find_spec(f"{app_label}.search_providers"):
            import_module(f"{app_label}.search_providers")


_executor = None


def _run_in_worker(provider: Provider, query: str, user, limit: int) -> list[SearchResult]:
    """Providers run on a small pool whose threads keep their own DB connections
    (CONN_MAX_AGE), so a search costs the slowest provider, not the sum of all."""
    from django.db import close_old_connections

    close_old_connections()
    try:
        return provider(query, user, limit)
    except Exception:
        close_old_connections()
        raise


def _pool():
    global _executor
    if _executor is None:
        from concurrent.futures import ThreadPoolExecutor

        _executor = ThreadPoolExecutor(max_workers=settings.SEARCH_WORKERS, thread_name_prefix="search")
    return _executor


def search(query: str, user, *, kinds: list[str] | None = None, limit: int = 10) -> list[SearchResult]:
    _load_providers()
    chosen = [provider for kind, (_label, provider) in PROVIDERS.items() if not kinds or kind in kinds]
    results: list[SearchResult] = []
    # Parallel only outside a transaction: worker threads have their own connections and
    # would not see uncommitted rows (tests, or a search inside an atomic block).
    from django.db import connection

    if settings.SEARCH_WORKERS > 1 and len(chosen) > 1 and not connection.in_atomic_block:
        futures = [_pool().submit(_run_in_worker, provider, query, user, limit) for provider in chosen]
        for future in futures:
            results.extend(future.result())
    else:
        for provider in chosen:
            results.extend(provider(query, user, limit))
    return sorted(results, key=lambda r: r.rank, reverse=True)


@register("product", "Products")
def _products(query: str, user, limit: int) -> list[SearchResult]:
    from portal.models import Product

    rows = ranked(Product.objects.all(), query_of(query), limit=limit)
    return [SearchResult("Product", p.name, "/", p.description[:200], float(p.rank), p.name) for p in rows]


def search_view(request):
    query = request.GET.get("q", "").strip()[:200]
    kinds = [k for k in request.GET.getlist("type") if k]
    results = search(query, request.user, kinds=kinds or None) if query else []
    if query:
        from portal import usage

        usage.track("search_performed", request.user, results=len(results), found=bool(results), types=",".join(kinds))
    labels = {kind: label for kind, (label, _fn) in PROVIDERS.items()}
    return render(
        request,
        "portal/search.html",
        {"search_query": query, "results": results, "kinds": labels, "selected": kinds},
    )
