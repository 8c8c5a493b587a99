from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from analytics.services import events_ingest
from experiments import engine, services
from experiments.models import Experiment, ResultSnapshot
from experiments.simulate import Effect, simulate
from portal.models import Notification
from tests.experiments.factories import MetricFactory, make_experiment


def _started(exp: Experiment, days_ago: float) -> Experiment:
    exp = services.experiment_start(experiment=exp, by=exp.owner)
    Experiment.objects.filter(pk=exp.pk).update(started_at=timezone.now() - timedelta(days=days_ago))
    exp.refresh_from_db()
    return exp


def _event(name, unit, at, **props):
    return {"event": name, "distinct_id": unit, "timestamp": at.isoformat(), "properties": props}


def test_sql_summaries_are_exact_and_multi_exposed_units_excluded(pm, product):
    revenue = MetricFactory(product=product, key="revenue", name="Revenue", kind="mean", event="order_completed",
                            value_property="amount", window_hours=48)  # fmt: skip
    exp = _started(make_experiment(by=pm, product=product, key="exact", secondary=[revenue]), days_ago=5)
    t0 = exp.started_at + timedelta(hours=1)
    x = "$exposure"
    events = [
        _event(x, "a1", t0, experiment="exact", variant="control"),
        _event(x, "a1", t0 + timedelta(hours=5), experiment="exact", variant="control"),  # repeat exposure
        _event(x, "a2", t0, experiment="exact", variant="control"),
        _event(x, "b1", t0, experiment="exact", variant="treatment"),
        _event(x, "b2", t0, experiment="exact", variant="treatment"),
        _event(x, "b3", t0, experiment="exact", variant="treatment"),
        _event(x, "m1", t0, experiment="exact", variant="control"),
        _event(x, "m1", t0, experiment="exact", variant="treatment"),  # saw both: excluded
        _event(x, "other", t0, experiment="another-exp", variant="treatment"),
        _event("order_completed", "a1", t0 + timedelta(hours=2), amount=10),
        _event("order_completed", "a1", t0 + timedelta(hours=3), amount=5),
        _event("order_completed", "a1", t0 - timedelta(days=2), amount=7),  # pre-exposure (CUPED covariate)
        _event("order_completed", "b1", t0 + timedelta(hours=1), amount=20),
        _event("order_completed", "b2", t0 + timedelta(hours=60), amount=99),  # outside the 48 h revenue window
        _event("order_completed", "m1", t0 + timedelta(hours=1), amount=50),
    ]
    events_ingest(product=product, events=events)
    specs = [engine.MetricSpec.of(em) for em in exp.experiment_metrics.select_related("metric")]
    summaries, counts, multi, daily = engine.summarise(
        product_id=product.pk, key="exact", start=exp.started_at, end=timezone.now(), metrics=specs
    )
    assert counts == {"control": 2, "treatment": 3}
    assert multi == 1
    conv_c, rev_c = summaries["control"]
    conv_t, rev_t = summaries["treatment"]
    assert (conv_c.n, conv_c.sum, conv_c.pre_sum, conv_c.sum_products) == (2, 1, 1, 1)
    assert (conv_t.n, conv_t.sum) == (3, 2)  # b2 converted at 60 h: inside the 7-day conversion window
    assert (rev_c.sum, rev_c.sum_squares, rev_c.pre_sum, rev_c.sum_products) == (15, 225, 7, 105)
    assert (rev_t.sum, rev_t.sum_squares) == (20, 400)
    assert sum(d["units"] for d in daily) == 5


def test_ratio_metric_sums_numerator_denominator_and_cross_products(pm, product):
    per_order = MetricFactory(product=product, key="rev_per_order", name="Revenue per order", kind="ratio",
                              event="order_completed", value_property="amount",
                              denominator_event="order_completed", window_hours=48)  # fmt: skip
    exp = _started(make_experiment(by=pm, product=product, key="ratio", secondary=[per_order]), days_ago=5)
    t0 = exp.started_at + timedelta(hours=1)
    x = "$exposure"
    events = [
        _event(x, "a1", t0, experiment="ratio", variant="control"),
        _event(x, "a2", t0, experiment="ratio", variant="control"),
        _event(x, "a3", t0, experiment="ratio", variant="control"),
        _event(x, "b1", t0, experiment="ratio", variant="treatment"),
        _event(x, "b2", t0, experiment="ratio", variant="treatment"),
        _event("order_completed", "a1", t0 + timedelta(hours=2), amount=10),
        _event("order_completed", "a1", t0 + timedelta(hours=3), amount=30),
        _event("order_completed", "a2", t0 + timedelta(hours=1), amount=20),
        _event("order_completed", "a2", t0 - timedelta(days=1), amount=500),  # before exposure: not counted
        _event("order_completed", "a3", t0 + timedelta(hours=4), amount=5),
        _event("order_completed", "b1", t0 + timedelta(hours=1), amount=60),
        _event("order_completed", "b1", t0 + timedelta(hours=50), amount=900),  # after the 48 h window
        _event("order_completed", "b2", t0 + timedelta(hours=5), amount=15),
        _event("order_completed", "b2", t0 + timedelta(hours=6), amount="n/a"),  # an order without a number
    ]
    events_ingest(product=product, events=events)
    specs = [engine.MetricSpec.of(em) for em in exp.experiment_metrics.select_related("metric")]
    summaries, counts, _multi, _daily = engine.summarise(
        product_id=product.pk, key="ratio", start=exp.started_at, end=timezone.now(), metrics=specs,
        variants=["control", "treatment"],
    )  # fmt: skip
    ratio_c, ratio_t = summaries["control"][1], summaries["treatment"][1]
    # control units (revenue, orders): a1 (40, 2), a2 (20, 1), a3 (5, 1)
    assert (ratio_c.n, ratio_c.sum, ratio_c.sum_squares) == (3, 65, 40 * 40 + 20 * 20 + 5 * 5)
    assert (ratio_c.pre_sum, ratio_c.pre_sum_squares, ratio_c.sum_products) == (4, 4 + 1 + 1, 40 * 2 + 20 + 5)
    # treatment units: b1 (60, 1), b2 (15, 2)
    assert (ratio_t.n, ratio_t.sum, ratio_t.sum_squares) == (2, 75, 60 * 60 + 15 * 15)
    assert (ratio_t.pre_sum, ratio_t.pre_sum_squares, ratio_t.sum_products) == (3, 1 + 4, 60 * 1 + 15 * 2)
    row = engine.compare(specs[1], ratio_c, ratio_t, engine="fixed", alpha=0.05)
    assert row["control_mean"] == 16.25 and row["treatment_mean"] == 25.0
    assert row["cuped"] is False and row["enough_data"] is True
    assert row["lift"] == pytest.approx(25 / 16.25 - 1)


def test_ratio_metric_needs_a_denominator(pm, product):
    with pytest.raises(ValidationError) as exc:
        services.metric_create(by=pm, product=product, key="rpo", name="Revenue per order", kind="ratio",
                               event="order_completed", value_property="amount")  # fmt: skip
    assert "denominator_event" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.metric_create(by=pm, product=product, key="conv", name="Conversion", event="order_completed",
                               denominator_event="checkout_started")  # fmt: skip
    assert "denominator_event" in exc.value.message_dict
    metric = services.metric_create(by=pm, product=product, key="rpo", name="Revenue per order", kind="ratio",
                                    event="order_completed", value_property="amount",
                                    denominator_event="order_completed")  # fmt: skip
    assert metric.definition.startswith("Sum of 'amount' of 'order_completed' events divided by the number of")


def test_clear_winner_explained_and_guardrail_and_health(pm, product):
    refunds = MetricFactory(product=product, key="refunds", name="Refund rate", event="refund_requested",
                            direction="lower")  # fmt: skip
    exp = make_experiment(by=pm, product=product, key="winner", guardrails=[refunds], name="Express checkout")
    exp = _started(exp, days_ago=10)
    effects = {
        "control": Effect(rates={"order_completed": 0.20, "refund_requested": 0.02}),
        "treatment": Effect(rates={"order_completed": 0.34, "refund_requested": 0.10}),
    }
    simulate(exp, units=2000, start=exp.started_at, days=9, effects=effects, seed=3, pre_period=False)
    snap = services.results_compute(experiment=exp)
    assert snap.status == "ready" and snap.units == 2000
    primary = next(r for r in snap.results if r["metric"] == exp.experiment_metrics.get(role="primary").metric.key)
    assert primary["verdict"] == "win", (snap.results, snap.health)
    assert primary["sentence"].startswith("Treatment raised order conversion by ")
    assert "(95% CI " in primary["sentence"]
    assert primary["p_adjusted"] >= primary["p_value"]
    guard = next(r for r in snap.results if r["metric"] == "refunds")
    assert guard["verdict"] == "loss"
    codes = {c["code"] for c in snap.health}
    assert "guardrail" in codes and "srm" not in codes and "no_exposures" not in codes


def test_srm_flagged_and_owner_notified_once(pm, product):
    exp = _started(make_experiment(by=pm, product=product, key="srm-case"), days_ago=8)
    effects = {"control": Effect(rates={"order_completed": 0.05}), "treatment": Effect(rates={"order_completed": 0.05})}
    simulate(exp, units=2000, start=exp.started_at, days=7, effects=effects, drop_exposures={"treatment": 0.25},
             pre_period=False)  # fmt: skip
    first = services.results_compute(experiment=exp)
    services.results_compute(experiment=exp)
    assert first.srm_p_value < 0.001
    srm = next(c for c in first.health if c["code"] == "srm")
    assert srm["level"] == "error" and srm["message"].startswith("Sample ratio mismatch (p = ")
    assert Notification.objects.filter(user=pm, kind="experiment.srm").count() == 1


def test_no_exposures_and_not_enough_data_are_clear(pm, product):
    exp = _started(make_experiment(by=pm, product=product, key="empty"), days_ago=1)
    snap = services.results_compute(experiment=exp)
    assert snap.units == 0
    assert snap.health[0]["code"] == "no_exposures"
    row = snap.results[0]
    assert row["verdict"] == "not_enough_data"
    assert row["sentence"] == "Treatment vs control on order conversion: Not enough data: no units in control yet."
    assert row["lift"] is None


@pytest.mark.django_db(transaction=True)
def test_refresh_runs_on_a_real_worker(celery_worker_thread, pm, product):
    exp = _started(make_experiment(by=pm, product=product, key="worker"), days_ago=3)
    effects = {"control": Effect(rates={"order_completed": 0.2}), "treatment": Effect(rates={"order_completed": 0.3})}
    simulate(exp, units=400, start=exp.started_at, days=2, effects=effects, pre_period=False)
    snapshot = services.results_request(experiment=exp, by=pm)
    assert services.results_request(experiment=exp, by=pm).pk == snapshot.pk  # one pending at a time
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        snapshot.refresh_from_db()
        if snapshot.status == ResultSnapshot.Status.READY:
            break
        time.sleep(0.2)
    assert snapshot.status == ResultSnapshot.Status.READY
    assert snapshot.units == 400
    assert snapshot.results[0]["enough_data"] is True


def test_summary_never_loops_over_units_when_fresh_events_are_unanalysed(pm, product):
    """Regression (slow demo seed): events ingested since the last ANALYZE are estimated at one
    row, and the planner chose a nested loop re-scanning the product's events once per unit."""
    from django.db import connection, transaction

    exp = _started(make_experiment(by=pm, product=product, key="fresh"), days_ago=3)
    effects = {"control": Effect(rates={"order_completed": 0.3}), "treatment": Effect(rates={"order_completed": 0.3})}
    simulate(exp, units=300, start=exp.started_at, days=2, effects=effects, pre_period=False)
    statements = []

    def capture(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    specs = [engine.MetricSpec.of(em) for em in exp.experiment_metrics.select_related("metric")]
    with connection.execute_wrapper(capture):
        engine.summarise(product_id=product.pk, key="fresh", start=exp.started_at, end=timezone.now(), metrics=specs)
    settings = [(sql, params) for sql, params in statements if sql.startswith("SET LOCAL")]
    summary = next((sql, params) for sql, params in statements if "analytics_event" in sql)
    assert len(settings) >= 3
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, params in settings:
            cursor.execute(sql, params)  # as in the summary's transaction
        cursor.execute("EXPLAIN " + summary[0], summary[1])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Nested Loop" not in plan and "Hash Join" in plan
