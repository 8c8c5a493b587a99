"""The results engine: SQL turns exposures + analytics events into per-variant summary statistics,
experiments.stats turns those into results, health checks and plain-language sentences.

One pass over the data per refresh:

1. exposures (`$exposure` analytics events of this experiment) are grouped per unit into a temporary
   table: first exposure time and variant; units seen in more than one variant are counted and
   excluded (their behaviour cannot be attributed to one variant);
2. each unit's metric events are joined once (all metrics at a time) within
   [first exposure - 14 days, first exposure + longest window), giving per unit the metric value
   after exposure and the same metric in the 14 days before exposure (the CUPED covariate);
3. per variant and metric: n, sum, sum of squares, covariate sums and the post*pre products.

`compute()` does no writes; experiments.services.results_compute stores its output as a snapshot.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from experiments import stats
from experiments.models import EXPOSURE_EVENT, Experiment, ExperimentMetric, Metric, Variant

CUPED_LOOKBACK = timedelta(days=14)
SRM_THRESHOLD = 0.001
MIN_DAYS = 7


@dataclass
class MetricSpec:
    key: str
    name: str
    role: str
    kind: str
    event: str
    value_property: str
    window_hours: int
    lower_is_better: bool
    denominator_event: str = ""
    denominator_property: str = ""

    @classmethod
    def of(cls, em: ExperimentMetric) -> MetricSpec:
        m = em.metric
        return cls(
            key=m.key,
            name=m.name,
            role=em.role,
            kind=m.kind,
            event=m.event,
            value_property=m.value_property,
            window_hours=m.window_hours,
            lower_is_better=m.direction == Metric.Direction.LOWER,
            denominator_event=m.denominator_event,
            denominator_property=m.denominator_property,
        )


@dataclass
class Summary:
    """Per-variant sums for one metric, straight from SQL."""

    n: int = 0
    sum: float = 0.0
    sum_squares: float = 0.0
    pre_sum: float = 0.0
    pre_sum_squares: float = 0.0
    sum_products: float = 0.0


@dataclass
class Computed:
    as_of: datetime
    units: int = 0
    multi_exposed_units: int = 0
    srm_p_value: float | None = None
    variants: list[dict] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)
    health: list[dict] = field(default_factory=list)
    daily_exposures: list[dict] = field(default_factory=list)
    sql_ms: int = 0
    stats_ms: int = 0


# ---------------------------------------------------------------------------------------------
# SQL


def _metric_sql(index: int, spec: MetricSpec) -> tuple[list[str], str, str]:
    """Columns the metric needs from each event row (computed once per row, JSON read once), and
    the per-unit expressions over them: the value after exposure and the second value, which is
    the same metric before exposure (the CUPED covariate) or, for a ratio, the denominator."""
    i = index
    post = f"e.ts >= u.first_at AND e.ts < u.first_at + make_interval(hours => %(win{i})s)"
    pre = "e.ts < u.first_at"

    def value(prop: str) -> str:
        return (
            f"CASE WHEN jsonb_typeof(properties -> %({prop})s) = 'number' "
            f"THEN (properties ->> %({prop})s)::float8 ELSE 0 END"
        )

    def total(flag: str, val: str | None, when: str) -> str:
        if val is None:
            return f"count(*) FILTER (WHERE {flag} AND {when})::float8"
        return f"coalesce(sum({val}) FILTER (WHERE {flag} AND {when}), 0)::float8"

    columns = [f"event = %(ev{i})s AS e{i}"]
    if spec.kind == Metric.Kind.CONVERSION:
        return (
            columns,
            f"(count(*) FILTER (WHERE e.e{i} AND {post}) > 0)::int::float8",
            f"(count(*) FILTER (WHERE e.e{i} AND {pre}) > 0)::int::float8",
        )
    num = None
    if spec.value_property:
        columns.append(f"CASE WHEN event = %(ev{i})s THEN {value(f'prop{i}')} END AS v{i}")
        num = f"e.v{i}"
    if spec.kind == Metric.Kind.RATIO:
        columns.append(f"event = %(den{i})s AS d{i}")
        den = None
        if spec.denominator_property:
            columns.append(f"CASE WHEN event = %(den{i})s THEN {value(f'dprop{i}')} END AS dv{i}")
            den = f"e.dv{i}"
        return columns, total(f"e.e{i}", num, post), total(f"e.d{i}", den, post)
    return columns, total(f"e.e{i}", num, post), total(f"e.e{i}", num, pre)


def summarise(
    *,
    product_id: int,
    key: str,
    start: datetime,
    end: datetime,
    metrics: list[MetricSpec],
    variants: Sequence[str] | None = None,
) -> tuple[dict[str, list[Summary]], dict[str, int], int, list[dict]]:
    """Run the SQL. Returns (per variant key: one Summary per metric), units per variant,
    units exposed to several variants, and daily first exposures per variant.

    For a ratio metric the Summary holds the numerator in sum/sum_squares, the denominator in
    pre_sum/pre_sum_squares and their cross products in sum_products (no CUPED for ratios)."""
    if variants is None:
        variants = list(Variant.objects.filter(experiment__key=key).order_by("position").values_list("key", flat=True))
    variants = list(variants)
    events = {m.event for m in metrics} | {m.denominator_event for m in metrics if m.kind == Metric.Kind.RATIO}
    params: dict = {
        "product": product_id,
        "exposure": EXPOSURE_EVENT,
        "key": key,
        "start": start,
        "end": end,
        "lookback": CUPED_LOOKBACK,
        "variants": variants or [""],
        "events": sorted(events) or [""],
        "maxwin": max([m.window_hours for m in metrics] or [1]),
    }
    event_columns: list[str] = []
    columns = []
    selects = []
    for i, spec in enumerate(metrics):
        params[f"ev{i}"] = spec.event
        params[f"win{i}"] = spec.window_hours
        params[f"prop{i}"] = spec.value_property
        params[f"den{i}"] = spec.denominator_event
        params[f"dprop{i}"] = spec.denominator_property
        needed, post, pre = _metric_sql(i, spec)
        event_columns += needed
        columns += [f"{post} AS m{i}", f"{pre} AS p{i}"]
        m, p = f"a.m{i}", f"a.p{i}"
        selects += [f"sum({m})", f"sum({m} * {m})", f"sum({p})", f"sum({p} * {p})", f"sum({m} * {p})"]
    per_event_cols = (", " + ", ".join(event_columns)) if event_columns else ""
    per_unit_cols = (", " + ", ".join(columns)) if columns else ""
    sums = (", " + ", ".join(selects)) if selects else ""
    no_sums = ", NULL::float8" * len(selects)
    # One statement, one pass over each input:
    # - units: the experiment's exposures grouped per unit once (first exposure, variant as its
    #   position in the experiment's variants, 0 for an unknown key; several variants = multi);
    # - ev: the metric events of the analysis period read once, each JSON property extracted once
    #   per row into a column shared by all metrics;
    # - active: per unit, every metric at once (FILTER clauses), only for units with events: a unit
    #   without events adds 0 to every sum, so the per-variant sums need only those, and the unit
    #   counts (per variant and per day, GROUPING SETS) come from the units alone.
    sql = f"""
        WITH units AS MATERIALIZED (
            SELECT distinct_id, min(timestamp) AS first_at, min(v) AS variant, max(v) <> min(v) AS multi
            FROM (
                SELECT distinct_id, timestamp,
                       coalesce(array_position(%(variants)s::text[], properties ->> 'variant'), 0) AS v
                FROM analytics_event
                WHERE product_id = %(product)s AND event = %(exposure)s
                  AND properties ->> 'experiment' = %(key)s
                  AND timestamp >= %(start)s AND timestamp < %(end)s
            ) exposures
            GROUP BY distinct_id
        ), ev AS (
            SELECT distinct_id, timestamp AS ts{per_event_cols}
            FROM analytics_event
            WHERE product_id = %(product)s AND event = ANY(%(events)s) AND status = 'accepted'
              AND timestamp >= %(start)s::timestamptz - %(lookback)s AND timestamp < %(end)s
        ), active AS (
            SELECT min(u.variant) AS variant{per_unit_cols}
            FROM units u
            JOIN ev e
              ON e.distinct_id = u.distinct_id
             AND e.ts >= u.first_at - %(lookback)s
             AND e.ts < LEAST(u.first_at + make_interval(hours => %(maxwin)s), %(end)s)
            WHERE NOT u.multi AND u.variant > 0
            GROUP BY u.distinct_id
        )
        SELECT 'sums', variant, NULL::date, 1, count(*){sums} FROM active a GROUP BY variant
        UNION ALL
        SELECT CASE WHEN multi THEN 'multi' ELSE 'units' END, variant, (first_at AT TIME ZONE 'UTC')::date,
               GROUPING((first_at AT TIME ZONE 'UTC')::date), count(*){no_sums}
        FROM units
        GROUP BY GROUPING SETS ((multi, variant), (multi, variant, (first_at AT TIME ZONE 'UTC')::date))
    """  # noqa: S608 - only generated column expressions; values are parameters
    with transaction.atomic(), connection.cursor() as cursor:
        # Hash aggregates over a million units need more than the default 4 MB to stay in memory.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # The planner cannot estimate the JSON filter and would sort a million unit ids with the
        # locale's collation; hash aggregates and hash joins are several times faster here.
        cursor.execute("SET LOCAL enable_sort = off")
        # Every unit is its own group: partial aggregates in parallel workers do not shrink the
        # rows, they add a second hash pass (measured slower on this 2-core machine).
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        # Events that arrived since the table was last analysed are estimated at ~1 row, and the
        # planner then loops over every unit re-scanning the product's events (minutes instead of
        # milliseconds: the slow demo seed). Joining units to events is always a hash join.
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(sql, params)
        result = cursor.fetchall()
    multi = 0
    counts: dict[str, int] = {}
    sums_by_variant: dict[str, list[float]] = {}
    daily = []
    for kind, position, day, all_days, n, *values in result:
        if kind == "multi":
            multi += int(n) if all_days else 0
            continue
        if not position:
            continue  # exposures naming a variant the experiment does not have
        variant = variants[position - 1]
        if kind == "sums":
            sums_by_variant[variant] = [float(v or 0) for v in values]
        elif all_days:
            counts[variant] = int(n)
        else:
            daily.append({"day": day.isoformat(), "variant": variant, "units": int(n)})
    daily.sort(key=lambda d: (d["day"], d["variant"]))
    summaries: dict[str, list[Summary]] = {}
    for variant, n in counts.items():
        values = sums_by_variant.get(variant, [0.0] * len(selects))
        summaries[variant] = [Summary(n, *values[i * 5 : i * 5 + 5]) for i in range(len(metrics))]
    return summaries, counts, multi, daily


# ---------------------------------------------------------------------------------------------
# Statistics and explanations


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _signed_pct(value: float) -> str:
    return f"{value * 100:+.1f}%"


def _arm_stats(spec: MetricSpec, s: Summary) -> stats.CovariateStats:
    if spec.kind == Metric.Kind.CONVERSION:
        return stats.CovariateStats(
            stats.ProportionStats(s.n, s.sum), stats.ProportionStats(s.n, s.pre_sum), s.sum_products
        )
    return stats.CovariateStats(
        stats.MeanStats(s.n, s.sum, s.sum_squares), stats.MeanStats(s.n, s.pre_sum, s.pre_sum_squares), s.sum_products
    )


def compare(
    spec: MetricSpec,
    control: Summary,
    treatment: Summary,
    *,
    engine: str,
    alpha: float,
) -> dict:
    """One metric, one treatment vs control: the numbers the page and the API show."""
    if spec.kind == Metric.Kind.RATIO:
        c = stats.RatioStats(control.n, control.sum, control.sum_squares, control.pre_sum,
                             control.pre_sum_squares, control.sum_products)  # fmt: skip
        t = stats.RatioStats(treatment.n, treatment.sum, treatment.sum_squares, treatment.pre_sum,
                             treatment.pre_sum_squares, treatment.sum_products)  # fmt: skip
        c_mean, t_mean = c.mean, t.mean
    else:
        c_arm, t_arm = _arm_stats(spec, control), _arm_stats(spec, treatment)
        c, t = stats.cuped(c_arm, t_arm)
        c_mean, t_mean = c_arm.post.mean, t_arm.post.mean
    cuped_used = isinstance(c, stats.AdjustedStats)
    out = {
        "control_mean": c_mean if control.n else None,
        "treatment_mean": t_mean if treatment.n else None,
        "control_n": control.n,
        "treatment_n": treatment.n,
        "cuped": cuped_used,
        "engine": engine,
    }
    if engine == "bayesian":
        b = stats.bayesian(c, t, alpha=alpha, inverse=spec.lower_is_better)
        out.update(
            lift=b.lift,
            ci_low=b.ci_low,
            ci_high=b.ci_high,
            p_value=None,
            chance_to_win=b.chance_to_win,
            risk_control=b.risk_control,
            risk_treatment=b.risk_treatment,
            enough_data=b.enough_data,
            reason=b.reason,
        )
    else:
        f = stats.frequentist(c, t, alpha=alpha, sequential=engine == "frequentist")
        out.update(
            lift=f.lift,
            ci_low=f.ci_low,
            ci_high=f.ci_high,
            p_value=f.p_value,
            chance_to_win=None,
            enough_data=f.enough_data,
            reason=f.reason,
        )
    return out


def verdict(row: dict, alpha: float, lower_is_better: bool) -> str:
    """win / loss / flat / not_enough_data, direction-aware."""
    if not row["enough_data"]:
        return "not_enough_data"
    if row["engine"] == "bayesian":
        ctw = row["chance_to_win"]
        if ctw >= 1 - alpha / 2:
            return "win"
        if ctw <= alpha / 2:
            return "loss"
        return "flat"
    # The pre-registered primary metric is judged on its own p-value; secondary and guardrail
    # metrics on the multiple-testing adjusted one (reading many metrics inflates false wins).
    p = row["p_value"] if row["role"] == "primary" or row.get("p_adjusted") is None else row["p_adjusted"]
    if p is None or p >= alpha:
        return "flat"
    better = row["lift"] < 0 if lower_is_better else row["lift"] > 0
    return "win" if better else "loss"


def _p_text(row: dict) -> str:
    if row["role"] != "primary" and row.get("p_adjusted") is not None:
        return f"adjusted p = {row['p_adjusted']:.2f}"
    return f"p = {row['p_value']:.2f}"


def sentence(row: dict, variant_name: str, metric_name: str, alpha: float) -> str:
    """A sentence a PM can paste: 'Treatment raised checkout conversion by 4.1% (95% CI 1.2%–7.0%).'"""
    metric = metric_name[:1].lower() + metric_name[1:]
    if not row["enough_data"]:
        return f"{variant_name} vs control on {metric}: {row['reason']}"
    level = f"{round((1 - alpha) * 100)}%"
    interval = f"{level} {'credible interval' if row['engine'] == 'bayesian' else 'CI'}"
    low, high = row["ci_low"], row["ci_high"]
    joiner = " to " if low < 0 else "–"
    ci = f"({interval} {_pct(low)}{joiner}{_pct(high)})"
    lift = row["lift"]
    if row["verdict"] in ("win", "loss"):
        verb = "raised" if lift > 0 else "lowered"
        return f"{variant_name} {verb} {metric} by {abs(lift) * 100:.1f}% {ci}."
    detail = f"chance to win {row['chance_to_win'] * 100:.0f}%" if row["engine"] == "bayesian" else _p_text(row)
    return f"No clear effect of {variant_name} on {metric}: {_signed_pct(lift)} {ci}, {detail}."


def compute(experiment: Experiment, *, as_of: datetime | None = None) -> Computed:
    """Everything a snapshot holds, computed from the database as of `as_of` (default: now, or
    when the experiment stopped)."""
    end = as_of or experiment.stopped_at or timezone.now()
    start = experiment.started_at or (end - timedelta(days=90))
    variants = list(experiment.variants.all())
    ems = list(experiment.experiment_metrics.select_related("metric"))
    specs = [MetricSpec.of(em) for em in ems]
    out = Computed(as_of=end)

    began = time.perf_counter()
    summaries, counts, multi, daily = summarise(
        product_id=experiment.product_id,
        key=experiment.key,
        start=start,
        end=end,
        metrics=specs,
        variants=[v.key for v in variants],
    )
    out.sql_ms = round((time.perf_counter() - began) * 1000)
    began = time.perf_counter()

    out.units = sum(counts.get(v.key, 0) for v in variants)
    out.multi_exposed_units = multi
    out.daily_exposures = daily
    out.variants = [
        {"key": v.key, "name": v.name, "weight": v.weight, "units": counts.get(v.key, 0), "control": v.position == 0}
        for v in variants
    ]
    if out.units:
        out.srm_p_value = stats.srm_p_value([counts.get(v.key, 0) for v in variants], [v.weight for v in variants])
    control = variants[0] if variants else None
    alpha = experiment.alpha
    for index, spec in enumerate(specs):
        for variant in variants[1:]:
            empty = Summary()
            c = summaries.get(control.key, [empty] * len(specs))[index]
            t = summaries.get(variant.key, [empty] * len(specs))[index]
            row = compare(spec, c, t, engine=experiment.engine, alpha=alpha)
            row.update(
                metric=spec.key,
                metric_name=spec.name,
                role=spec.role,
                kind=spec.kind,
                lower_is_better=spec.lower_is_better,
                variant=variant.key,
                variant_name=variant.name,
            )
            out.results.append(row)
    p_values = [r["p_value"] for r in out.results]
    adjust = stats.benjamini_hochberg if experiment.correction == "bh" else stats.holm
    for row, adjusted in zip(out.results, adjust(p_values), strict=True):
        row["p_adjusted"] = adjusted
        row["verdict"] = verdict(row, alpha, row["lower_is_better"])
        row["sentence"] = sentence(row, row["variant_name"], row["metric_name"], alpha)
    out.health = health_checks(experiment, out, specs)
    out.stats_ms = round((time.perf_counter() - began) * 1000)
    return out


def health_checks(experiment: Experiment, out: Computed, specs: list[MetricSpec]) -> list[dict]:
    checks: list[dict] = []
    if out.units == 0:
        checks.append(
            {
                "code": "no_exposures",
                "level": "warning",
                "message": "No exposures yet: call GET /api/v1/experiments/"
                f"{experiment.key}/assignment?unit_id=… where the variant is shown.",
            }
        )
        return checks
    if out.srm_p_value is not None and out.srm_p_value < SRM_THRESHOLD:
        split = ", ".join(f"{v['name']} {v['units']:,}" for v in out.variants)
        planned = ", ".join(f"{v['weight'] * 100:.0f}%" for v in out.variants)
        checks.append(
            {
                "code": "srm",
                "level": "error",
                "message": f"Sample ratio mismatch (p = {out.srm_p_value:.1e}): observed {split} against a planned "
                f"{planned} split. Assignment or logging is broken; do not trust these results until it is fixed.",
            }
        )
    if out.multi_exposed_units:
        checks.append(
            {
                "code": "multi_exposure",
                "level": "info",
                "message": f"{out.multi_exposed_units:,} units saw more than one variant and were excluded.",
            }
        )
    for row in out.results:
        if row["role"] == "guardrail" and row["verdict"] == "loss":
            checks.append(
                {
                    "code": "guardrail",
                    "level": "error",
                    "message": f"Guardrail regression: {row['sentence']}",
                }
            )
    primary = next((s for s in specs if s.role == "primary"), None)
    needed = None
    if primary is not None:
        row = next((r for r in out.results if r["metric"] == primary.key), None)
        baseline = row["control_mean"] if row else None
        try:
            if primary.kind == Metric.Kind.CONVERSION and baseline and 0 < baseline < 1:
                needed = stats.sample_size(
                    baseline=baseline,
                    mde=experiment.mde,
                    alpha=experiment.alpha,
                    power=experiment.power,
                    weights=[v["weight"] for v in out.variants],
                ).total
        except ValueError:
            needed = None
    days = (out.as_of - experiment.started_at).days if experiment.started_at else 0
    if experiment.status != Experiment.Status.RUNNING:
        if needed and out.units < needed:
            checks.append(
                {
                    "code": "underpowered",
                    "level": "warning",
                    "message": f"Stopped with {out.units:,} of the {needed:,} units needed for a "
                    f"{experiment.mde * 100:.0f}% effect ({out.units / needed * 100:.0f}%): a real effect of that "
                    "size could have been missed, so read 'no clear effect' as inconclusive.",
                }
            )
    elif (needed and out.units < needed) or days < MIN_DAYS:
        parts = []
        if needed and out.units < needed:
            parts.append(f"{out.units:,} of the {needed:,} units needed ({out.units / needed * 100:.0f}%)")
        if days < MIN_DAYS:
            parts.append(f"{days} of at least {MIN_DAYS} days (a full weekly cycle)")
        checks.append(
            {"code": "too_early", "level": "info", "message": "Too early to call: " + " and ".join(parts) + "."}
        )
    if not checks:
        checks.append(
            {
                "code": "healthy",
                "level": "ok",
                "message": "Healthy: traffic split as planned, no guardrail regressions.",
            }
        )
    return checks
