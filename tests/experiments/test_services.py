from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from experiments import services
from experiments.models import Experiment
from portal.models import AuditEntry
from tests.experiments.factories import MetricFactory, make_experiment


def test_create_records_audit_and_default_variants(pm, product):
    exp = make_experiment(by=pm, product=product, key="express-checkout")
    assert [(v.key, v.weight, v.position) for v in exp.variants.all()] == [("control", 0.5, 0), ("treatment", 0.5, 1)]
    assert exp.status == Experiment.Status.DRAFT
    assert exp.hypothesis == "If we show express checkout for returning buyers, then it will rise by 3%."
    assert AuditEntry.objects.filter(action="experiment.create", target_id=str(exp.pk)).count() == 1


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ([{"key": "control", "weight": 1}], "An experiment needs a control and at least one treatment."),
        (
            [{"key": "control", "weight": 0.5}, {"key": "b", "weight": 0.6}],
            "Variant weights must sum to 1 (they sum to 1.1).",
        ),
        (
            [{"key": "control", "weight": 0.5}, {"key": "control", "weight": 0.5}],
            "Variant 2: the key 'control' is used twice.",
        ),
        (
            [{"key": "control", "weight": "x"}, {"key": "b", "weight": 0.5}],
            "Variant 1: weight must be a number between 0 and 1.",
        ),
        (
            [{"key": "control", "weight": 0}, {"key": "b", "weight": 1}],
            "Variant 1 (control): weight must be above 0 and at most 1.",
        ),
    ],
)
def test_bad_variants_are_refused_with_the_reason(pm, product, variants, message):
    with pytest.raises(ValidationError) as err:
        make_experiment(by=pm, product=product, variants=variants)
    assert err.value.message_dict == {"variants": [message]}


def test_viewer_and_other_team_cannot_create(viewer, product, other_product, pm):
    with pytest.raises(PermissionDenied, match="viewers can read but not change"):
        make_experiment(by=viewer, product=product)
    with pytest.raises(PermissionDenied, match="you are not on its team"):
        make_experiment(by=pm, product=other_product)


def test_unknown_metric_and_duplicate_key(pm, product):
    with pytest.raises(ValidationError) as err:
        make_experiment(by=pm, product=product, primary="nope")
    assert err.value.message_dict["primary_metric"] == [
        f"Unknown metric 'nope': define it first (shared or for {product.name})."
    ]
    make_experiment(by=pm, product=product, key="dupe")
    with pytest.raises(ValidationError) as err:
        make_experiment(by=pm, product=product, key="dupe")
    assert "The key 'dupe' is taken" in err.value.message_dict["key"][0]


def test_lifecycle_and_frozen_variants(pm, product):
    exp = make_experiment(by=pm, product=product)
    services.experiment_update(
        experiment=exp, by=pm, variants=[{"key": "control", "weight": 0.3}, {"key": "treatment", "weight": 0.7}]
    )
    exp = services.experiment_start(experiment=exp, by=pm)
    assert exp.status == "running" and exp.started_at is not None
    entry = AuditEntry.objects.get(action="experiment.start", target_id=str(exp.pk))
    assert entry.changes["checklist_open"] == ["Guardrails chosen", "Duration planned"]  # advisory, not a gate
    with pytest.raises(ValidationError) as err:
        services.experiment_update(
            experiment=exp, by=pm, variants=[{"key": "control", "weight": 0.5}, {"key": "treatment", "weight": 0.5}]
        )
    assert err.value.message_dict["variants"] == [services.FROZEN_MESSAGE]
    # Same keys and weights: the labels may still be corrected while it runs.
    services.experiment_update(
        experiment=exp,
        by=pm,
        variants=[
            {"key": "control", "weight": 0.3, "name": "Current checkout"},
            {"key": "treatment", "weight": 0.7, "name": "Express checkout", "description": "saved card"},
        ],
    )
    assert [(v.key, v.name, v.description, v.weight) for v in exp.variants.all()] == [
        ("control", "Current checkout", "", 0.3),
        ("treatment", "Express checkout", "saved card", 0.7),
    ]
    with pytest.raises(ValidationError) as err:
        services.experiment_start(experiment=exp, by=pm)
    assert err.value.message_dict["status"] == ["Only a draft can start; this experiment is running."]
    with pytest.raises(ValidationError) as err:
        services.experiment_stop(experiment=exp, by=pm, reason="  ")
    assert "Say why you are stopping" in err.value.message_dict["reason"][0]
    exp = services.experiment_stop(experiment=exp, by=pm, reason="Reached the planned sample size.")
    assert exp.status == "stopped" and exp.stop_reason == "Reached the planned sample size."
    exp = services.experiment_decide(
        experiment=exp, by=pm, decision="shipped", rationale="Conversion up, no guardrail moved.", learnings="Works."
    )
    assert (exp.status, exp.decision, exp.decided_by) == ("decided", "shipped", pm)
    assert AuditEntry.objects.filter(action="experiment.decide", target_id=str(exp.pk)).exists()
    exp = services.experiment_archive(experiment=exp, by=pm)
    assert exp.status == "archived"


def test_decide_needs_a_rationale_and_a_known_decision(pm, product):
    exp = services.experiment_start(experiment=make_experiment(by=pm, product=product), by=pm)
    with pytest.raises(ValidationError) as err:
        services.experiment_decide(experiment=exp, by=pm, decision="maybe", rationale="x")
    assert err.value.message_dict["decision"] == ["Choose one of: shipped, rolled_back, inconclusive."]
    with pytest.raises(ValidationError) as err:
        services.experiment_decide(experiment=exp, by=pm, decision="shipped", rationale="")
    assert "Explain the decision" in err.value.message_dict["rationale"][0]


def test_metric_definition_rules(pm, product):
    with pytest.raises(ValidationError) as err:
        services.metric_create(
            by=pm, product=product, key="conv", name="Conv", event="x", kind="conversion", value_property="amount"
        )
    assert err.value.message_dict["value_property"] == [
        "Conversion metrics count units, not a property: leave it blank."
    ]
    m = services.metric_create(
        by=pm,
        product=product,
        key="rev",
        name="Revenue",
        event="order_completed",
        kind="mean",
        value_property="amount",
        window_hours=72,
    )  # noqa: E501
    assert m.definition == "Mean sum of 'amount' of 'order_completed' events per unit within 3 days of first exposure"
    assert MetricFactory(product=product).lower_is_better is False


def test_brief_created_from_tooling_template_and_links_checked(pm, product, other_product):
    from tooling.services import roadmap_item_create
    from tooling.standard_templates import install

    install()
    exp = make_experiment(by=pm, product=product, key="with-brief", create_brief=True)
    assert exp.brief is not None
    assert exp.brief.kind == "experiment_brief" and exp.brief.product == product
    foreign = roadmap_item_create(product=other_product, title="Elsewhere", by=None)
    with pytest.raises(ValidationError) as err:
        services.experiment_update(experiment=exp, by=pm, roadmap_item=foreign)
    assert err.value.message_dict["roadmap_item"] == ["“Elsewhere” belongs to another product."]


def test_brief_skipped_without_published_template(pm, product):
    exp = make_experiment(by=pm, product=product, key="no-brief", create_brief=True)
    assert exp.brief is None
