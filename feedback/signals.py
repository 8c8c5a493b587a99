"""Signal per theme and week, trend against the theme's own baseline, spikes. Pure Python.

- volume: items that week (duplicates counted once);
- unique accounts and ARR-weighted demand (each asking account's ARR counted once a week);
- trend: (volume − baseline) / max(baseline, 1), baseline = mean of the previous 8 weeks
  (pro-rated for the current, partial week);
- spike: volume ≥ SPIKE_MIN_VOLUME and ≥ SPIKE_RATIO × max(baseline, 1);
- alerts: one per spike; a theme that alerted stays quiet for HOLD_DOWN_WEEKS.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

BASELINE_WEEKS = 8
SPIKE_RATIO = 2.5
SPIKE_MIN_VOLUME = 8
HOLD_DOWN_WEEKS = 4
SCORE_WEEKS = 4
ARR_PER_POINT = 10_000.0  # $10k of asking ARR weighs as much as one more item


def week_start(value: date | datetime) -> date:
    d = value.date() if isinstance(value, datetime) else value
    return d - timedelta(days=d.weekday())


@dataclass
class Week:
    week: date
    volume: int = 0
    unique_accounts: int = 0
    arr_demand: float = 0.0
    mean_sentiment: float | None = None
    baseline: float = 0.0
    trend: float = 0.0
    is_spike: bool = False


def aggregate(rows: Iterable[tuple[date, int | None, float, float | None]]) -> dict[date, Week]:
    """rows: (week, account_id, account_arr, sentiment) for one theme's counted items."""
    weeks: dict[date, Week] = {}
    accounts: dict[date, dict[int, float]] = {}
    sentiments: dict[date, list[float]] = {}
    for week, account_id, arr, sentiment in rows:
        w = weeks.setdefault(week, Week(week))
        w.volume += 1
        if account_id is not None:
            accounts.setdefault(week, {})[account_id] = float(arr or 0)
        if sentiment is not None:
            sentiments.setdefault(week, []).append(sentiment)
    for week, w in weeks.items():
        seen = accounts.get(week, {})
        w.unique_accounts = len(seen)
        w.arr_demand = round(sum(seen.values()), 2)
        values = sentiments.get(week)
        w.mean_sentiment = round(sum(values) / len(values), 4) if values else None
    return weeks


def with_trends(weeks: dict[date, Week], *, until: date | None = None) -> list[Week]:
    """Fill empty weeks between the first and `until`, then baseline/trend/spike per week."""
    if not weeks:
        return []
    first = min(weeks)
    last = max(max(weeks), week_start(until) if until else first)
    series: list[Week] = []
    current = first
    while current <= last:
        series.append(weeks.get(current) or Week(current))
        current += timedelta(days=7)
    for i, w in enumerate(series):
        history = series[max(0, i - BASELINE_WEEKS) : i]
        w.baseline = round(sum(h.volume for h in history) / len(history), 3) if history else 0.0
        # The current week is partial: compare it with the share of a week that has passed.
        expected = w.baseline
        if until is not None and w.week == week_start(until):
            expected = w.baseline * ((until - w.week).days + 1) / 7
        w.trend = round((w.volume - expected) / max(expected, 1.0), 3)
        w.is_spike = bool(history) and w.volume >= SPIKE_MIN_VOLUME and w.volume >= SPIKE_RATIO * max(expected, 1.0)
    return series


def spikes_to_alert(series: list[Week], last_alert_week: date | None) -> list[Week]:
    """Spike weeks that deserve an alert: a spike lasting several weeks alerts once."""
    alerts = []
    last = last_alert_week
    for w in series:
        if not w.is_spike:
            continue
        if last is not None and (w.week - last).days < HOLD_DOWN_WEEKS * 7:
            continue
        alerts.append(w)
        last = w.week
    return alerts


def score(series: list[Week], *, today: date) -> float:
    """Recent demand: last SCORE_WEEKS weeks of volume plus ARR, boosted by negative sentiment."""
    since = week_start(today) - timedelta(days=7 * (SCORE_WEEKS - 1))
    total = 0.0
    for w in series:
        if w.week < since:
            continue
        negativity = max(0.0, -(w.mean_sentiment or 0.0))
        total += (w.volume + w.arr_demand / ARR_PER_POINT) * (1 + negativity)
    return round(total, 2)
