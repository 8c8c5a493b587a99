"""The edit page: PMs of the product (and ops leads) change a draft freely; once started the
service's freeze on variants, weights and metrics shows as a form error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from experiments import services
from experiments.forms import ExperimentEditForm
from experiments.models import Experiment
from tests.experiments.factories import MetricFactory, make_experiment
from tests.factories import UserFactory


@pytest.fixture
def draft(pm, product):
    return make_experiment(by=pm, product=product, key="edit-me", name="Bigger buttons", tags=["checkout"])


def _post_data(experiment: Experiment, **overrides) -> dict:
    data = ExperimentEditForm.initial_for(experiment)
    data["primary_metric"] = data["primary_metric"].pk
    data["secondary_metrics"] = [m.pk for m in data["secondary_metrics"]]
    data["guardrail_metrics"] = [m.pk for m in data["guardrail_metrics"]]
    for name in ("prd", "roadmap_item", "planned_start", "planned_end"):
        data[name] = data[name] or ""
    data.update(overrides)
    return data


def test_owner_edits_a_draft_everything(client, pm, product, draft):
    refunds = MetricFactory(product=product, key="refunds", name="Refund rate", event="refund_requested")
    revenue = MetricFactory(product=product, key="revenue", name="Revenue", kind="mean", event="order_completed",
                            value_property="amount")  # fmt: skip
    client.force_login(pm)
    page = client.get(reverse("experiments:edit", args=["edit-me"]))
    assert page.status_code == 200
    assert "control: Control = 0.5" in page.content.decode()
    response = client.post(
        reverse("experiments:edit", args=["edit-me"]),
        _post_data(
            draft,
            hypothesis_change="make the pay button twice as big",
            variants="control: Control = 0.4\nbig: Big = 0.3\nhuge: Huge = 0.3",
            primary_metric=revenue.pk,
            guardrail_metrics=[refunds.pk],
            mde=10,
            tags="checkout, buttons",
        ),
    )
    assert response.status_code == 302 and response.url == draft.get_absolute_url()
    draft.refresh_from_db()
    assert draft.hypothesis_change == "make the pay button twice as big"
    assert draft.mde == pytest.approx(0.1)
    assert draft.tags == ["buttons", "checkout"]
    assert [(v.key, v.weight) for v in draft.variants.all()] == [("control", 0.4), ("big", 0.3), ("huge", 0.3)]
    roles = {em.role: em.metric.key for em in draft.experiment_metrics.select_related("metric")}
    assert roles == {"primary": "revenue", "guardrail": "refunds"}
    detail = client.get(draft.get_absolute_url()).content.decode()
    assert reverse("experiments:edit", args=["edit-me"]) in detail


def test_bad_weights_on_a_draft_name_the_field(client, pm, draft):
    client.force_login(pm)
    response = client.post(
        reverse("experiments:edit", args=["edit-me"]), _post_data(draft, variants="control: Control = 0.5\nb: B = 0.6")
    )
    assert response.status_code == 200
    assert "Variant weights must sum to 1 (they sum to 1.1)." in response.content.decode()
    assert [v.weight for v in draft.variants.all()] == [0.5, 0.5]


def test_running_experiment_refuses_new_weights_but_takes_wording(client, pm, draft):
    running = services.experiment_start(experiment=draft, by=pm)
    client.force_login(pm)
    page = client.get(reverse("experiments:edit", args=["edit-me"])).content.decode()
    assert "variants, weights and metrics are frozen" in page
    response = client.post(
        reverse("experiments:edit", args=["edit-me"]),
        _post_data(running, variants="control: Control = 0.7\ntreatment: Treatment = 0.3"),
    )
    assert response.status_code == 200
    assert services.FROZEN_MESSAGE in response.content.decode()
    assert [v.weight for v in running.variants.all()] == [0.5, 0.5]
    response = client.post(
        reverse("experiments:edit", args=["edit-me"]), _post_data(running, hypothesis_impact="rise by 4%")
    )
    assert response.status_code == 302
    running.refresh_from_db()
    assert running.hypothesis_impact == "rise by 4%" and running.status == "running"


def test_only_the_product_team_and_ops_leads_can_edit(client, draft, ops_lead, viewer):
    outsider = UserFactory(role="pm")  # a PM of another product
    for user in (viewer, outsider):
        client.force_login(user)
        assert client.get(reverse("experiments:edit", args=["edit-me"])).status_code == 403
        response = client.post(reverse("experiments:edit", args=["edit-me"]), _post_data(draft, name="Hijacked"))
        assert response.status_code == 403
        detail = client.get(draft.get_absolute_url()).content.decode()
        assert reverse("experiments:edit", args=["edit-me"]) not in detail
    draft.refresh_from_db()
    assert draft.name == "Bigger buttons"
    client.force_login(ops_lead)
    response = client.post(reverse("experiments:edit", args=["edit-me"]), _post_data(draft, name="Bigger pay buttons"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.name == "Bigger pay buttons"
