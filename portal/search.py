"""Global search: every app registers a provider; results are permission-aware.

A provider is `fn(query: str, user, limit: int) -> list[SearchResult]`, registered at
import time from the app's `search.py` (autoloaded below). Providers use PostgreSQL
full-text search (SearchVector/SearchQuery/SearchRank with weights, SearchHeadline for
snippets) and must filter by what the user may see (no PII in results).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
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

Provider = Callable[[str, object, int], list[SearchResult]]
PROVIDERS: dict[str, tuple[str, Provider]] = {}


def fts(qs, *, query: str, fields: list[tuple[str, str]], headline: str | None = None, limit: int = 10):
    """Weighted full-text search over `fields` [(field, weight A-D)], best first, each row with
    `.rank` and (with `headline`) `.headline`: a snippet with HIGHLIGHT_START/STOP around hits."""
    from django.contrib.postgres.search import SearchHeadline

    sq = SearchQuery(query, search_type="websearch", config="english")
    vector = None
    for name, weight in fields:
        part = SearchVector(name, weight=weight, config="english")
        vector = part if vector is None else vector + part
    qs = qs.annotate(rank=SearchRank(vector, sq)).filter(rank__gt=0)
    if headline:
        qs = qs.annotate(
            headline=SearchHeadline(
                headline, sq, config="english", start_sel=HIGHLIGHT_START, stop_sel=HIGHLIGHT_STOP, max_words=30
            )
        )
    return list(qs.order_by("-rank")[:limit])


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

    vector = SearchVector("name", weight="A") + SearchVector("description", weight="B")
    sq = SearchQuery(query, search_type="websearch")
    rows = Product.objects.annotate(rank=SearchRank(vector, sq)).filter(rank__gt=0).order_by("-rank")[:limit]
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
