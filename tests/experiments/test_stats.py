"""experiments.stats against reference values computed with GrowthBook's gbstats 0.8.0.

The reference numbers were produced by running gbstats (TwoSidedTTest, SequentialTwoSidedTTest,
EffectBayesianABTest, RegressionAdjustedStatistic, check_srm) on exactly these summary statistics
and are hard-coded here; agreement is required to 1e-6.
"""

from __future__ import annotations

import math

import pytest

from experiments import bucketing
from experiments.stats import (
    CovariateStats,
    MeanStats,
    ProportionStats,
    RatioStats,
    bayesian,
    benjamini_hochberg,
    cuped,
    days_needed,
    frequentist,
    holm,
    sample_size,
    srm_p_value,
)

TOL = 1e-6
CONTROL = ProportionStats(10000, 1000)
TREATMENT = ProportionStats(10100, 1111)
MEAN_C = MeanStats(500, 21000.5, 1234567.25)
MEAN_T = MeanStats(480, 19800.0, 1100000.0)


def close(actual, expected):
    return actual == pytest.approx(expected, abs=TOL)


def test_proportion_relative_matches_gbstats():
    r = frequentist(CONTROL, TREATMENT)
    assert close(r.lift, 0.1)
    assert close(r.ci_low, 0.011073880450650234)
    assert close(r.ci_high, 0.18892611954934968)
    assert close(r.p_value, 0.027523750325522345)
    assert close(r.se, 0.045368567650886545)
    assert r.significant


def test_proportion_absolute_matches_gbstats():
    r = frequentist(CONTROL, TREATMENT, relative=False)
    assert close(r.lift, 0.01)
    assert close(r.ci_low, 0.001525490294565798)
    assert close(r.ci_high, 0.01847450970543419)
    assert close(r.p_value, 0.020737364250892343)
    assert close(r.se, 0.0043235482311327)


def test_mean_relative_and_absolute_match_gbstats():
    r = frequentist(MEAN_C, MEAN_T)
    assert close(r.lift, -0.01788052665412723)
    assert close(r.ci_low, -0.09314318165284924)
    assert close(r.ci_high, 0.057382128344594774)
    assert close(r.p_value, 0.641164397331248)
    assert close(r.se, 0.038352387431497444)
    assert not r.significant
    a = frequentist(MEAN_C, MEAN_T, relative=False)
    assert close(a.lift, -0.7509999999999977)
    assert close(a.ci_low, -3.9424634753807752)
    assert close(a.ci_high, 2.44046347538078)
    assert close(a.p_value, 0.6443404489549465)


def test_sequential_confidence_sequence_matches_gbstats():
    r = frequentist(CONTROL, TREATMENT, sequential=True)
    assert close(r.lift, 0.1)
    assert close(r.ci_low, -0.041898086635119375)
    assert close(r.ci_high, 0.24189808663511927)
    assert close(r.p_value, 0.5441305610070735)
    # wider than the fixed-horizon interval: the price of peeking
    fixed = frequentist(CONTROL, TREATMENT)
    assert r.ci_high - r.ci_low > fixed.ci_high - fixed.ci_low

    tuned = frequentist(CONTROL, TREATMENT, sequential=True, alpha=0.1, tuning=1000)
    assert close(tuned.ci_low, -0.0400794211258072)
    assert close(tuned.ci_high, 0.2400794211258071)
    assert close(tuned.p_value, 1.0)

    big = frequentist(ProportionStats(20000, 2000), ProportionStats(20000, 2300), sequential=True)
    assert close(big.ci_low, 0.04327125247396871)
    assert close(big.ci_high, 0.25672874752603125)
    assert close(big.p_value, 0.0003530312467032222)

    means = frequentist(MEAN_C, MEAN_T, sequential=True)
    assert close(means.ci_low, -0.14728626229356628)
    assert close(means.ci_high, 0.11152520898531182)


def test_bayesian_flat_and_proper_prior_match_gbstats():
    r = bayesian(CONTROL, TREATMENT)
    assert close(r.lift, 0.1)
    assert close(r.ci_low, 0.011079241374093343)
    assert close(r.ci_high, 0.18892075862590654)
    assert close(r.chance_to_win, 0.9862437769274183)
    assert close(r.risk_control, 0.10021910065922512)
    assert close(r.risk_treatment, 0.00021910065922517988)

    p = bayesian(CONTROL, TREATMENT, prior_mean=0.0, prior_sd=0.3)
    assert close(p.lift, 0.09776412688944768)
    assert close(p.ci_low, 0.009843065509164362)
    assert close(p.ci_high, 0.18568518826973096)
    assert close(p.se, 0.04485850866331903)
    assert close(p.chance_to_win, 0.9853485975733044)
    assert close(p.risk_control, 0.09799654898885327)
    assert close(p.risk_treatment, 0.00023242209940559292)

    m = bayesian(MEAN_C, MEAN_T)
    assert close(m.chance_to_win, 0.32053016903696374)
    assert close(m.risk_control, 0.007993480223669986)
    assert close(m.risk_treatment, 0.02587400687779722)
    a = bayesian(MEAN_C, MEAN_T, relative=False)
    assert close(a.ci_low, -3.9385047368220336)
    assert close(a.chance_to_win, 0.3221187581398346)
    assert close(a.risk_treatment, 1.0922756693859408)


def test_bayesian_inverse_metric_flips_win_and_risk():
    up = bayesian(CONTROL, TREATMENT)
    down = bayesian(CONTROL, TREATMENT, inverse=True)
    assert close(down.chance_to_win, 1 - up.chance_to_win)
    assert close(down.risk_control, up.risk_treatment)
    assert close(down.risk_treatment, up.risk_control)


# Revenue per order: per unit, the numerator is its revenue and the denominator its orders.
RATIO_C = RatioStats(12000, 219299.23, 20553900.1141, 3605.0, 4709.0, 286260.63)
RATIO_T = RatioStats(12000, 226385.76, 21513041.845, 3599.0, 4623.0, 291503.6)


def test_ratio_delta_method_variance_by_hand():
    # mu_m = 219299.23 / 12000, mu_d = 3605 / 12000; sample (n-1) moments of the per-unit sums
    n, mu_m, mu_d = 12000, 219299.23 / 12000, 3605.0 / 12000
    var_m = (20553900.1141 - 219299.23**2 / n) / (n - 1)
    var_d = (4709.0 - 3605.0**2 / n) / (n - 1)
    cov = (286260.63 - 219299.23 * 3605.0 / n) / (n - 1)
    by_hand = var_m / mu_d**2 - 2 * cov * mu_m / mu_d**3 + mu_m**2 * var_d / mu_d**4
    assert close(RATIO_C.mean, 219299.23 / 3605.0)
    assert close(RATIO_C.variance, by_hand)
    # gbstats RatioStatistic on the same sums
    assert close(RATIO_C.mean, 60.83196393897365)
    assert close(RATIO_C.variance, 2910.7568666770276)
    assert close(RATIO_T.mean, 62.9024062239511)
    assert close(RATIO_T.variance, 2902.195462641528)


def test_ratio_frequentist_and_bayesian_match_gbstats():
    r = frequentist(RATIO_C, RATIO_T)
    assert close(r.lift, 0.03403543385603174)
    assert close(r.se, 0.011637935053853798)
    assert close(r.ci_low, 0.011224349793218662)
    assert close(r.ci_high, 0.05684651791884482)
    assert close(r.p_value, 0.003453048714246121)
    s = frequentist(RATIO_C, RATIO_T, sequential=True)
    assert close(s.ci_low, -0.002602701478169482)
    assert close(s.ci_high, 0.07067356919023296)
    assert close(s.p_value, 0.09690195946077872)
    b = bayesian(RATIO_C, RATIO_T)
    assert close(b.ci_low, 0.011225500296062077)
    assert close(b.ci_high, 0.0568453674160014)
    assert close(b.chance_to_win, 0.9982750890392009)
    assert close(b.risk_control, 0.03404122562423738)
    assert close(b.risk_treatment, 5.79176820563514e-06)
    inverse = bayesian(RATIO_C, RATIO_T, inverse=True)
    assert close(inverse.chance_to_win, 0.0017249109607990754)
    # a second, smaller pair: 2,000 units, revenue per order 62.50 vs 64.34
    small = frequentist(
        RatioStats(2000, 31250.0, 2493750.0, 500.0, 700.0, 40100.0),
        RatioStats(2050, 34100.0, 2741000.0, 530.0, 745.0, 43900.0),
    )
    assert close(small.lift, 0.029433962264150976)
    assert close(small.ci_low, -0.009509794668331)
    assert close(small.ci_high, 0.06837771919663295)
    assert close(small.p_value, 0.13847085739955456)


def test_ratio_without_denominator_is_not_enough_data():
    empty = RatioStats(100, 0.0, 0.0, 0.0, 0.0, 0.0)
    r = frequentist(empty, RATIO_T)
    assert r.enough_data is False
    assert r.reason == "Not enough data: the denominator of the ratio is 0 in control."
    b = bayesian(RATIO_C, empty)
    assert b.enough_data is False and b.lift is None
    assert b.reason == "Not enough data: the denominator of the ratio is 0 in treatment."


def test_cuped_matches_gbstats_regression_adjustment():
    control = CovariateStats(MeanStats(3000, 9000, 40000), MeanStats(3000, 8500, 36000), 34000)
    treatment = CovariateStats(MeanStats(3100, 9800, 45000), MeanStats(3100, 8800, 37500), 36500)
    c, t = cuped(control, treatment)
    assert close(c.theta, 0.7031396752985374)
    r = frequentist(c, t)
    assert close(r.lift, 0.052503333915235505)
    assert close(r.ci_low, 0.02564634416794281)
    assert close(r.ci_high, 0.0793603236625282)
    assert close(r.p_value, 0.00012820781604983011)
    assert close(r.se, 0.01370007645766631)
    b = bayesian(c, t)
    assert close(b.chance_to_win, 0.9999365346028063)
    assert close(b.risk_control, 0.05250353710509167)
    # the covariate removes variance: the adjusted interval is narrower than the raw one
    raw = frequentist(control.post, treatment.post)
    assert r.se < raw.se


def test_cuped_without_covariate_variance_falls_back_to_raw():
    control = CovariateStats(MeanStats(100, 300, 1000), MeanStats(100, 100, 100), 300)
    treatment = CovariateStats(MeanStats(100, 330, 1200), MeanStats(100, 100, 100), 330)
    c, t = cuped(control, treatment)
    assert c == control.post and t == treatment.post


def test_srm_matches_gbstats():
    assert close(srm_p_value([5000, 5200], [0.5, 0.5]), 0.0476703806561615)
    assert close(srm_p_value([3300, 3350, 3100], [1 / 3, 1 / 3, 1 / 3]), 0.004586604061523324)
    assert close(srm_p_value([1000, 900], [0.6, 0.4]), 5.52329479546646e-11)
    assert srm_p_value([0, 0], [0.5, 0.5]) == 1.0


@pytest.mark.parametrize(
    ("control", "treatment", "reason"),
    [
        (ProportionStats(0, 0), ProportionStats(100, 10), "Not enough data: no units in control yet."),
        (ProportionStats(100, 10), ProportionStats(0, 0), "Not enough data: no units in treatment yet."),
        (
            ProportionStats(100, 0),
            ProportionStats(100, 5),
            "Not enough data: the control mean is 0, so a relative lift is undefined.",
        ),
        (
            ProportionStats(100, 10),
            ProportionStats(100, 0),
            "Not enough data: a variant has no variation in this metric (every unit has the same value).",
        ),
        (
            MeanStats(50, 100, 200),
            MeanStats(50, 120, 288),
            "Not enough data: a variant has no variation in this metric (every unit has the same value).",
        ),  # noqa: E501
        (MeanStats(1, 3, 9), MeanStats(5, 10, 30), "Not enough data: each variant needs at least two units."),
    ],
)
def test_not_enough_data_is_a_clear_result_never_nan(control, treatment, reason):
    for result in (
        frequentist(control, treatment),
        frequentist(control, treatment, sequential=True),
        bayesian(control, treatment),
    ):
        assert result.enough_data is False
        assert result.reason == reason
        assert result.lift is None and result.ci_low is None and result.ci_high is None
    assert frequentist(control, treatment).significant is False


def test_bad_parameters_raise_clear_errors():
    with pytest.raises(ValueError, match="alpha must be between 0 and 1"):
        frequentist(CONTROL, TREATMENT, alpha=1.5)
    with pytest.raises(ValueError, match="tuning must be a positive"):
        frequentist(CONTROL, TREATMENT, sequential=True, tuning=0)
    with pytest.raises(ValueError, match="prior_sd must be positive"):
        bayesian(CONTROL, TREATMENT, prior_sd=0)


def test_holm_and_benjamini_hochberg():
    p = [0.01, 0.04, 0.03, None, 0.005]
    # Holm: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 with a running max
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, None, 0.02])
    # BH: sorted p * m / rank with a running min from the top
    assert benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, None, 0.02])
    assert holm([]) == [] and benjamini_hochberg([None]) == [None]


def test_sample_size_for_conversion_and_mean():
    s = sample_size(baseline=0.10, mde=0.05, alpha=0.05, power=0.8)
    # textbook: (1.96 + 0.8416)^2 * (0.09 + 0.1005 * 0.8995) / 0.005^2 per arm ≈ 57,760
    assert s.per_variant == [57760, 57760]
    assert s.total == 115520
    uneven = sample_size(baseline=0.10, mde=0.05, weights=[0.8, 0.2])
    assert uneven.total > s.total and uneven.per_variant[0] == 4 * uneven.per_variant[1]
    m = sample_size(baseline=50.0, mde=0.1, sd=20.0)
    assert m.per_variant == [252, 252]  # 2 * 400 * 7.849 / 25
    assert days_needed(115520, 10000) == 12
    assert days_needed(100, 0) is None
    with pytest.raises(ValueError, match="baseline conversion rate must be between 0 and 1"):
        sample_size(baseline=1.5, mde=0.1)
    with pytest.raises(ValueError, match="mde must be a positive relative lift"):
        sample_size(baseline=0.1, mde=0)


def test_bucketing_is_deterministic_weighted_and_independent():
    assert bucketing.bucket("exp-a", "user-1") == bucketing.bucket("exp-a", "user-1")
    # documented algorithm: first 15 hex digits of sha256("key:unit") / 16**15
    import hashlib

    digest = hashlib.sha256(b"exp-a:user-1").hexdigest()
    assert bucketing.bucket("exp-a", "user-1") == int(digest[:15], 16) / 16**15

    units = [f"u{i}" for i in range(20000)]
    picks = [bucketing.choose("exp-a", u, [0.2, 0.8]) for u in units]
    share = picks.count(0) / len(picks)
    assert 0.19 < share < 0.21
    assert bucketing.choose("exp-a", "u1", [0, 1]) == 1
    # independence: the bucket in exp-a does not predict the bucket in exp-b
    both = sum(1 for u in units if bucketing.choose("exp-a", u, [0.5, 0.5]) == bucketing.choose("exp-b", u, [0.5, 0.5]))
    assert 0.48 < both / len(units) < 0.52
    assert not math.isnan(bucketing.bucket("x", ""))
