"""Memoising derived page parts (chart JSON built from stored, immutable results) in the cache.

A cache outage must never break a page (Redis down: pages still render from stored results),
so any cache error falls back to computing the value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

log = logging.getLogger(__name__)
T = TypeVar("T")
_MISSING = object()


def memoised(key: str, compute: Callable[[], T], *, timeout: int = 24 * 3600) -> T:
    try:
        value = cache.get(key, _MISSING)
    except Exception:  # noqa: BLE001 - the cache is an optimisation, never a dependency
        log.warning("cache unavailable; computing %s", key)
        return compute()
    if value is not _MISSING:
        return value
    value = compute()
    try:
        cache.set(key, value, timeout=timeout)
    except Exception:  # noqa: BLE001
        log.warning("cache unavailable; not storing %s", key)
    return value
