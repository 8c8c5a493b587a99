"""Experiment statistics: pure Python (numpy/scipy), no Django. Analysts import it from notebooks.

Inputs are per-variant summary statistics (what SQL can compute in one pass):

- ``ProportionStats(n, conversions)`` for conversion metrics (binomial variance p(1-p));
- ``MeanStats(n, sum, sum_squares)`` for count/sum metrics (sample variance, n-1);
- ``RatioStats(n, num_sum, num_sum_squares, den_sum, den_sum_squares, cross_sum)`` for ratio metrics
  (sum of a numerator over sum of a denominator across units, e.g. revenue per order), with the
  delta-method variance of the ratio from per-unit sums, as gbstats' ``RatioStatistic``;
- ``cuped(control, treatment)`` turns ``CovariateStats`` (post + pre-exposure sums and the sum of
  post*pre products) into ``AdjustedStats`` with a pooled theta, usable in the same tests.

Tests (both compare treatment against control):

- ``frequentist(...)``: Welch t-test. Relative lift (mean_t - mean_c) / mean_c with its variance
  by the delta method; Welch-Satterthwaite degrees of freedom. With ``sequential=True`` the
  interval is an asymptotic confidence sequence (Waudby-Smith et al. 2023, arXiv 2103.06476,
  eq. 9 for the half-width, eq. 155 for the always-valid p-value, eq. 161 for rho given the
  ``tuning`` sample size), so results may be looked at every day without inflating errors.
- ``bayesian(...)``: Gaussian posterior of the lift (flat prior unless ``prior_sd`` is given),
  chance to win and expected loss ("risk") of choosing either arm.

Conventions follow GrowthBook's gbstats so that the same summary statistics give the same
numbers (tests/experiments/test_stats.py holds values checked against gbstats 0.8.0).

When a comparison cannot be made (no units, zero variance, a 0% control for a relative lift,
fewer than two units) the result has ``enough_data=False``, a ``reason`` sentence and ``None``
for the numbers: never NaN, never an exception.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as sps

__all__ = [
    "AdjustedStats",
    "BayesianResult",
    "CovariateStats",
    "FrequentistResult",
    "MeanStats",
    "ProportionStats",
    "RatioStats",
    "SampleSize",
    "bayesian",
    "benjamini_hochberg",
    "cuped",
    "days_needed",
    "frequentist",
    "holm",
    "sample_size",
    "srm_p_value",
]


# ---------------------------------------------------------------------------------------------
# Summary statistics


@dataclass(frozen=True)
class ProportionStats:
    """A conversion metric: ``conversions`` of ``n`` units did the thing."""

    n: int
    conversions: float

    @property
    def sum(self) -> float:
        return float(self.conversions)

    @property
    def sum_squares(self) -> float:
        return float(self.conversions)  # x in {0, 1}: x*x == x

    @property
    def mean(self) -> float:
        return self.conversions / self.n if self.n > 0 else 0.0

    @property
    def unadjusted_mean(self) -> float:
        return self.mean

    @property
    def variance(self) -> float:
        p = self.mean
        return p * (1.0 - p)


@dataclass(frozen=True)
class MeanStats:
    """A per-unit numeric metric: ``sum`` and ``sum_squares`` of the per-unit values over ``n`` units."""

    n: int
    sum: float
    sum_squares: float

    @property
    def mean(self) -> float:
        return self.sum / self.n if self.n > 0 else 0.0

    @property
    def unadjusted_mean(self) -> float:
        return self.mean

    @property
    def variance(self) -> float:
        if self.n <= 1:
            return 0.0
        return (self.sum_squares - self.sum * self.sum / self.n) / (self.n - 1)


Stats = ProportionStats | MeanStats


@dataclass(frozen=True)
class RatioStats:
    """A ratio metric: sum over units of a numerator divided by the sum of a denominator.

    Units are the randomisation units (n of them); each contributes a numerator value (e.g. its
    revenue) and a denominator value (e.g. its orders). ``cross_sum`` is the sum over units of
    numerator * denominator. The metric is ``num_sum / den_sum``; its unit-level variance comes from
    the delta method (gbstats ``RatioStatistic``), so ``variance / n`` is the variance of the ratio:

        var = var_m / mu_d**2 - 2 * cov_md * mu_m / mu_d**3 + mu_m**2 * var_d / mu_d**4

    with mu_m, mu_d the per-unit means and var_m, var_d, cov_md the sample (n-1) moments.
    """

    n: int
    num_sum: float
    num_sum_squares: float
    den_sum: float
    den_sum_squares: float
    cross_sum: float

    @property
    def numerator(self) -> MeanStats:
        return MeanStats(self.n, self.num_sum, self.num_sum_squares)

    @property
    def denominator(self) -> MeanStats:
        return MeanStats(self.n, self.den_sum, self.den_sum_squares)

    @property
    def covariance(self) -> float:
        if self.n <= 1:
            return 0.0
        return (self.cross_sum - self.num_sum * self.den_sum / self.n) / (self.n - 1)

    @property
    def mean(self) -> float:
        return self.num_sum / self.den_sum if self.den_sum != 0 else 0.0

    @property
    def unadjusted_mean(self) -> float:
        return self.mean

    @property
    def variance(self) -> float:
        mu_d = self.denominator.mean
        if mu_d == 0 or self.n <= 1:
            return 0.0
        mu_m = self.numerator.mean
        return (
            self.numerator.variance / mu_d**2
            - 2 * self.covariance * mu_m / mu_d**3
            + mu_m**2 * self.denominator.variance / mu_d**4
        )


@dataclass(frozen=True)
class CovariateStats:
    """One arm's metric after exposure (``post``), the same metric before exposure (``pre``,
    the CUPED covariate) and the sum over units of post * pre."""

    post: Stats
    pre: Stats
    sum_products: float

    @property
    def n(self) -> int:
        return self.post.n


@dataclass(frozen=True)
class AdjustedStats:
    """A CUPED-adjusted arm: mean and variance of post - theta * pre."""

    n: int
    mean: float
    unadjusted_mean: float
    variance: float
    theta: float


AnyStats = ProportionStats | MeanStats | RatioStats | AdjustedStats


def _covariance(n: int, a: Stats, b: Stats, sum_products: float) -> float:
    if n <= 1:
        return 0.0
    if isinstance(a, ProportionStats) and isinstance(b, ProportionStats):
        return sum_products / n - a.sum * b.sum / (n * n)
    return (sum_products - a.sum * b.sum / n) / (n - 1)


def _pooled(a: Stats, b: Stats) -> Stats:
    if isinstance(a, ProportionStats) and isinstance(b, ProportionStats):
        return ProportionStats(a.n + b.n, a.conversions + b.conversions)
    return MeanStats(a.n + b.n, a.sum + b.sum, a.sum_squares + b.sum_squares)


def cuped(control: CovariateStats, treatment: CovariateStats) -> tuple[AnyStats, AnyStats]:
    """CUPED (Deng et al. 2013): subtract theta * (pre-exposure covariate) from the metric.

    Theta is estimated once on both arms pooled, so the adjustment does not bias the lift. When
    the pooled metric or covariate has no variance the unadjusted statistics are returned.
    """
    n = control.n + treatment.n
    post = _pooled(control.post, treatment.post)
    pre = _pooled(control.pre, treatment.pre)
    if pre.variance <= 0 or post.variance <= 0:
        return control.post, treatment.post
    theta = _covariance(n, post, pre, control.sum_products + treatment.sum_products) / pre.variance
    if theta == 0:
        return control.post, treatment.post

    def adjust(arm: CovariateStats) -> AdjustedStats:
        variance = 0.0
        if arm.n > 1:
            cov = _covariance(arm.n, arm.post, arm.pre, arm.sum_products)
            variance = arm.post.variance + theta * theta * arm.pre.variance - 2 * theta * cov
        return AdjustedStats(
            n=arm.n,
            mean=arm.post.mean - theta * arm.pre.mean,
            unadjusted_mean=arm.post.mean,
            variance=variance,
            theta=theta,
        )

    return adjust(control), adjust(treatment)


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class FrequentistResult:
    lift: float | None  # relative (0.041 = +4.1%) or absolute difference of means
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    se: float | None
    dof: float | None = None
    relative: bool = True
    sequential: bool = False
    alpha: float = 0.05
    enough_data: bool = True
    reason: str = ""

    @property
    def significant(self) -> bool:
        return self.enough_data and self.p_value is not None and self.p_value < self.alpha


@dataclass(frozen=True)
class BayesianResult:
    lift: float | None
    ci_low: float | None
    ci_high: float | None
    chance_to_win: float | None
    risk_control: float | None  # expected loss of keeping control if treatment is better
    risk_treatment: float | None  # expected loss of shipping treatment if control is better
    se: float | None = None
    relative: bool = True
    enough_data: bool = True
    reason: str = ""


def _not_enough_data(arms: tuple[AnyStats, AnyStats], relative: bool) -> str:
    """The sentence explaining why no comparison can be made, or '' when it can."""
    control, treatment = arms
    if control.n == 0 or treatment.n == 0:
        which = "control" if control.n == 0 else "treatment"
        return f"Not enough data: no units in {which} yet."
    if control.n < 2 or treatment.n < 2:
        return "Not enough data: each variant needs at least two units."
    for arm, which in ((control, "control"), (treatment, "treatment")):
        if isinstance(arm, RatioStats) and arm.den_sum == 0:
            return f"Not enough data: the denominator of the ratio is 0 in {which}."
    if relative and (control.mean == 0 or control.unadjusted_mean == 0):
        return "Not enough data: the control mean is 0, so a relative lift is undefined."
    if control.variance <= 0 or treatment.variance <= 0:
        return "Not enough data: a variant has no variation in this metric (every unit has the same value)."
    return ""


def _effect(control: AnyStats, treatment: AnyStats, relative: bool) -> tuple[float, float]:
    """Point estimate and its variance (delta method for the relative lift)."""
    if relative:
        base = control.unadjusted_mean
        estimate = (treatment.mean - control.mean) / base
        var_t = treatment.variance / treatment.n
        var_c = control.variance / control.n
        variance = var_t / base**2 + var_c * treatment.unadjusted_mean**2 / base**4
    else:
        estimate = treatment.mean - control.mean
        variance = treatment.variance / treatment.n + control.variance / control.n
    return estimate, variance


def _welch_dof(control: AnyStats, treatment: AnyStats) -> float:
    vc, vt = control.variance / control.n, treatment.variance / treatment.n
    return (vc + vt) ** 2 / (vt**2 / (treatment.n - 1) + vc**2 / (control.n - 1))


def _rho_squared(alpha: float, tuning: float) -> float:
    return (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


def frequentist(
    control: AnyStats,
    treatment: AnyStats,
    *,
    alpha: float = 0.05,
    relative: bool = True,
    sequential: bool = False,
    tuning: float = 5000,
) -> FrequentistResult:
    """Two-sided Welch t-test of treatment against control (see module docstring)."""
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    if sequential and tuning <= 0:
        raise ValueError("tuning must be a positive number of units")
    reason = _not_enough_data((control, treatment), relative)
    if reason:
        return FrequentistResult(
            None, None, None, None, None, relative=relative, sequential=sequential, alpha=alpha,
            enough_data=False, reason=reason,
        )  # fmt: skip
    estimate, variance = _effect(control, treatment, relative)
    se = math.sqrt(variance)
    dof = _welch_dof(control, treatment)
    if sequential:
        total = control.n + treatment.n
        rho2 = _rho_squared(alpha, tuning)
        grow = total * rho2 + 1
        half = math.sqrt(variance * total) * math.sqrt(2 * grow * math.log(math.sqrt(grow) / alpha) / (total**2 * rho2))
        # always-valid p-value = 1 / e-value, computed in logs so a huge e-value cannot overflow
        log_evalue = rho2 * (estimate**2 * total / variance) / (2 * grow) - 0.5 * math.log(grow)
        p_value = min(1.0, math.exp(-log_evalue))
    else:
        half = float(sps.t.ppf(1 - alpha / 2, dof)) * se
        p_value = float(2 * sps.t.sf(abs(estimate) / se, dof))
    if not _finite(estimate, se, half, p_value):
        return FrequentistResult(
            None, None, None, None, None, relative=relative, sequential=sequential, alpha=alpha,
            enough_data=False, reason="Not enough data: the estimate is numerically unstable.",
        )  # fmt: skip
    return FrequentistResult(
        lift=estimate,
        ci_low=estimate - half,
        ci_high=estimate + half,
        p_value=p_value,
        se=se,
        dof=dof,
        relative=relative,
        sequential=sequential,
        alpha=alpha,
    )


def _expected_positive_part(mu: float, sigma: float) -> float:
    """E[max(X, 0)] for X ~ N(mu, sigma^2)."""
    z = mu / sigma
    return float(mu * sps.norm.cdf(z) + sigma * sps.norm.pdf(z))


def bayesian(
    control: AnyStats,
    treatment: AnyStats,
    *,
    prior_mean: float = 0.0,
    prior_sd: float | None = None,
    alpha: float = 0.05,
    relative: bool = True,
    inverse: bool = False,
) -> BayesianResult:
    """Gaussian posterior of the lift; flat prior when ``prior_sd`` is None.

    ``chance_to_win`` is P(treatment better); with ``inverse=True`` (lower is better) "better"
    means a negative lift. ``risk_control`` is the expected loss of keeping control,
    ``risk_treatment`` that of shipping treatment (in lift units).
    """
    if prior_sd is not None and prior_sd <= 0:
        raise ValueError("prior_sd must be positive (or None for a flat prior)")
    reason = _not_enough_data((control, treatment), relative)
    if reason:
        return BayesianResult(None, None, None, None, None, None, relative=relative, enough_data=False, reason=reason)
    data_mean, data_variance = _effect(control, treatment, relative)
    precision = 1 / data_variance
    mean = data_mean
    if prior_sd is not None:
        prior_precision = 1 / prior_sd**2
        mean = (data_mean * precision + prior_mean * prior_precision) / (precision + prior_precision)
        precision += prior_precision
    sd = math.sqrt(1 / precision)
    low, high = (float(v) for v in sps.norm.ppf([alpha / 2, 1 - alpha / 2], mean, sd))
    p_up = float(sps.norm.sf(0, mean, sd))
    gain_if_up = _expected_positive_part(mean, sd)  # E[max(lift, 0)]
    loss_if_down = _expected_positive_part(-mean, sd)  # E[max(-lift, 0)]
    risk_control, risk_treatment = (loss_if_down, gain_if_up) if inverse else (gain_if_up, loss_if_down)
    return BayesianResult(
        lift=mean,
        ci_low=low,
        ci_high=high,
        chance_to_win=(1 - p_up) if inverse else p_up,
        risk_control=risk_control,
        risk_treatment=risk_treatment,
        se=sd,
        relative=relative,
    )


# ---------------------------------------------------------------------------------------------
# Health and multiple testing


def srm_p_value(observed_counts: Sequence[int], weights: Sequence[float]) -> float:
    """Chi-square goodness-of-fit p-value of the observed split against the planned weights.

    1.0 when there is nothing to test (no units). Flag a sample-ratio mismatch at p < 0.001.
    """
    if len(observed_counts) != len(weights):
        raise ValueError("observed_counts and weights must have the same length")
    total = float(sum(observed_counts))
    total_weight = float(sum(weights))
    if total <= 0 or total_weight <= 0 or len(observed_counts) < 2:
        return 1.0
    chi2 = 0.0
    for observed, weight in zip(observed_counts, weights, strict=True):
        if weight <= 0:
            continue
        expected = weight / total_weight * total
        chi2 += (observed - expected) ** 2 / expected
    return float(sps.chi2.sf(chi2, len(observed_counts) - 1))


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm-Bonferroni adjusted p-values (family-wise error); ``None`` entries stay ``None``."""
    index = [i for i, p in enumerate(p_values) if p is not None]
    ordered = sorted(index, key=lambda i: p_values[i])
    m = len(ordered)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, i in enumerate(ordered):
        running = max(running, min(1.0, (m - rank) * float(p_values[i])))
        adjusted[i] = running
    return adjusted


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate); ``None`` stays ``None``."""
    index = [i for i, p in enumerate(p_values) if p is not None]
    ordered = sorted(index, key=lambda i: p_values[i])
    m = len(ordered)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 1.0
    for rank in range(m - 1, -1, -1):
        i = ordered[rank]
        running = min(running, float(p_values[i]) * m / (rank + 1))
        adjusted[i] = min(1.0, running)
    return adjusted


# ---------------------------------------------------------------------------------------------
# Power


@dataclass(frozen=True)
class SampleSize:
    per_variant: list[int]  # units needed in each variant, in the order of the weights
    total: int
    effect: float  # absolute difference the test is powered for


def sample_size(
    *,
    baseline: float,
    mde: float,
    alpha: float = 0.05,
    power: float = 0.8,
    weights: Sequence[float] = (0.5, 0.5),
    sd: float | None = None,
) -> SampleSize:
    """Units needed to detect a relative lift of ``mde`` with a two-sided test.

    ``baseline`` is the control conversion rate (0-1) when ``sd`` is None, else the control mean of
    a numeric metric with standard deviation ``sd``. ``weights[0]`` is control; each treatment is
    compared with control and the least-allocated comparison decides the total.
    """
    if mde <= 0:
        raise ValueError("mde must be a positive relative lift, e.g. 0.05 for 5%")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError("alpha and power must be between 0 and 1")
    if len(weights) < 2 or any(w <= 0 for w in weights):
        raise ValueError("weights need a control and at least one treatment, all above 0")
    if sd is None:
        if not 0 < baseline < 1:
            raise ValueError("baseline conversion rate must be between 0 and 1 (exclusive)")
        treated = baseline * (1 + mde)
        if treated >= 1:
            raise ValueError("baseline × (1 + mde) must stay below 100%")
        var_c, var_t = baseline * (1 - baseline), treated * (1 - treated)
    else:
        if sd <= 0 or baseline == 0:
            raise ValueError("a mean metric needs a non-zero baseline mean and a positive sd")
        var_c = var_t = sd * sd
    total_weight = float(sum(weights))
    shares = [w / total_weight for w in weights]
    effect = abs(baseline * mde)
    z = float(sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power))
    total = max(((var_c / shares[0] + var_t / share) * z * z / effect**2) for share in shares[1:])
    per_variant = [math.ceil(total * share) for share in shares]
    return SampleSize(per_variant=per_variant, total=sum(per_variant), effect=effect)


def days_needed(total_units: int, daily_units: float) -> int | None:
    """Whole days to reach ``total_units`` at ``daily_units`` a day (None without traffic)."""
    if daily_units <= 0:
        return None
    return max(1, math.ceil(total_units / daily_units))
