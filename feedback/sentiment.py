"""Sentiment and survey scores. Pure Python: no Django import.

- `sentiment_score`: VADER's compound score in [-1, 1] (offline lexicon model), cached per
  distinct text (feedback repeats itself: "Thanks!", forwarded tickets, survey boilerplate),
  so a 100,000-item run scores each distinct text once. `vader_compound` is the uncached call.
- `nps`: % promoters − % detractors with a 95% normal-approximation interval.
- `csat`: % satisfied (4–5 of 5, or 8–10 of 10) with a 95% Wilson interval.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

Z95 = 1.959964


@lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_compound(text: str) -> float:
    """Compound VADER score in [-1, 1]; long texts are scored on their first 2,000 characters."""
    if not text or not text.strip():
        return 0.0
    return round(float(_analyzer().polarity_scores(text[:2000])["compound"]), 4)


@lru_cache(maxsize=100_000)
def _cached_compound(text: str) -> float:
    return vader_compound(text)


def sentiment_score(text: str) -> float:
    """The same score as `vader_compound`, computed once per distinct text."""
    return _cached_compound((text or "")[:2000])


@dataclass(frozen=True)
class Score:
    value: float  # NPS in [-100, 100]; CSAT in [0, 100]
    low: float
    high: float
    n: int

    def as_dict(self) -> dict:
        return {"value": round(self.value, 1), "low": round(self.low, 1), "high": round(self.high, 1), "n": self.n}


def nps(ratings: Iterable[int]) -> Score | None:
    """Net Promoter Score of 0–10 ratings: promoters 9–10, detractors 0–6."""
    values = [r for r in ratings if r is not None]
    n = len(values)
    if n == 0:
        return None
    p = sum(1 for r in values if r >= 9) / n
    d = sum(1 for r in values if r <= 6) / n
    score = p - d
    # Each response is +1 / 0 / -1; its variance is p + d - (p - d)^2.
    variance = max(p + d - score**2, 0.0)
    half = Z95 * math.sqrt(variance / n)
    return Score(100 * score, 100 * max(score - half, -1), 100 * min(score + half, 1), n)


def nps_counts(promoters: int, passives: int, detractors: int) -> Score | None:
    return nps([10] * promoters + [7] * passives + [0] * detractors)


def wilson(successes: int, n: int) -> tuple[float, float]:
    if n == 0:
        return (0.0, 0.0)
    p = successes / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return (max(centre - half, 0.0), min(centre + half, 1.0))


def csat_satisfied(rating: int) -> bool:
    """Ratings 1–5 are a five-point CSAT scale; 6–10 a ten-point one."""
    return rating >= 4 if rating <= 5 else rating >= 8


def csat(ratings: Iterable[int]) -> Score | None:
    values = [r for r in ratings if r is not None]
    n = len(values)
    if n == 0:
        return None
    satisfied = sum(1 for r in values if csat_satisfied(r))
    low, high = wilson(satisfied, n)
    return Score(100 * satisfied / n, 100 * low, 100 * high, n)


def csat_counts(satisfied: int, n: int) -> Score | None:
    if n == 0:
        return None
    low, high = wilson(satisfied, n)
    return Score(100 * satisfied / n, 100 * low, 100 * high, n)
