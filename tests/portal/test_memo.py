"""Memoised page parts: computed once per key, and a cache outage only costs a recomputation."""

import uuid

from django.core.cache import cache

from portal.memo import memoised


def test_a_value_is_computed_once_per_key():
    key = f"test-memo:{uuid.uuid4()}"
    calls = []
    assert memoised(key, lambda: calls.append(1) or {"chart": 1}) == {"chart": 1}
    assert memoised(key, lambda: calls.append(1) or {"chart": 2}) == {"chart": 1}
    assert calls == [1]


def test_a_cache_outage_computes_instead_of_failing(monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "set", down)
    assert memoised(f"test-memo:{uuid.uuid4()}", lambda: "fresh") == "fresh"
