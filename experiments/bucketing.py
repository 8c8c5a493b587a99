"""Deterministic assignment of units to variants (pure Python, no Django).

Algorithm (stable across restarts, machines and Python versions):

1. ``h = sha256(f"{experiment_key}:{unit_id}")`` (UTF-8);
2. ``u = int(first 15 hex digits of h) / 16**15`` — a uniform number in [0, 1);
3. walk the variants in their defined order, accumulating weights (normalised to sum to 1), and
   pick the first variant whose cumulative weight exceeds ``u``.

Because the experiment key is part of the hashed string, a unit's bucket in one experiment says
nothing about its bucket in another (assignments are independent between experiments).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

_SCALE = 16**15


def bucket(experiment_key: str, unit_id: str) -> float:
    """The unit's position in [0, 1) for this experiment."""
    digest = hashlib.sha256(f"{experiment_key}:{unit_id}".encode()).hexdigest()
    return int(digest[:15], 16) / _SCALE


def choose(experiment_key: str, unit_id: str, weights: Sequence[float]) -> int:
    """Index of the variant the unit gets, honouring ``weights`` (which need not be normalised)."""
    total = float(sum(weights))
    if not weights or total <= 0 or any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative with a positive sum")
    position = bucket(experiment_key, unit_id) * total
    cumulative = 0.0
    last_positive = 0
    for index, weight in enumerate(weights):
        if weight <= 0:
            continue
        last_positive = index
        cumulative += weight
        if position < cumulative:
            return index
    return last_positive  # rounding at the very top of the range
