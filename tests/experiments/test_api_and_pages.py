from __future__ import annotations

import pytest
from django.urls import reverse

from analytics.models import Event
from experiments import services
from experiments.models import Experiment
from tests.experiments.factories import MetricFactory, make_experiment
from tests.factories import UserFactory


@pytest.fixture
def running(pm, product):
    exp = make_experiment(by=pm, product=product, key="api-exp", name="Express checkout")
    return services.experiment_start(experiment=exp, by=pm)


def test_assignment_is_deterministic_and_records_exposure(api_client, pm, running):
    api_client.force_authenticate(pm)
    url = "/api/v1/experiments/api-exp/assignment"
    first = api_client.get(url, {"unit_id": "user-42"}).json()
    again = api_client.get(url, {"unit_id": "user-42"}).json()
    assert first == again
    assert first["variant"] in ("control", "treatment") and first["in_experiment"] is True
    exposures = Event.objects.filter(event="$exposure", distinct_id="user-42")
    assert exposures.count() == 2
    assert exposures.first().properties == {"experiment": "api-exp", "variant": first["variant"]}


def test_assignment_bad_input_and_not_running(api_client, pm, product):
    api_client.force_authenticate(pm)
    make_experiment(by=pm, product=product, key="drafty")
    response = api_client.get("/api/v1/experiments/drafty/assignment", {"unit_id": "u1"})
    assert response.status_code == 200
    assert response.json()["in_experiment"] is False
    assert response.json()["reason"] == "The experiment is draft: everyone gets Control."
    response = api_client.get("/api/v1/experiments/drafty/assignment")
    assert response.status_code == 400
    assert response.json()["errors"] == {"unit_id": ["unit_id is required (the user or device id the variant is for)."]}
    assert api_client.get("/api/v1/experiments/nope/assignment", {"unit_id": "u"}).status_code == 404


def test_api_create_validation_and_lifecycle(api_client, pm, product):
    MetricFactory(product=product, key="conv")
    api_client.force_authenticate(pm)
    body = {
        "product": product.slug,
        "key": "api-new",
        "name": "New",
        "hypothesis_change": "a",
        "hypothesis_audience": "b",
        "hypothesis_impact": "c",
        "primary_metric": "conv",
        "variants": [{"key": "control", "weight": 0.5}, {"key": "b", "weight": 0.4}],
    }
    response = api_client.post("/api/v1/experiments/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"variants": ["Variant weights must sum to 1 (they sum to 0.9)."]}
    body["variants"][1]["weight"] = 0.5
    response = api_client.post("/api/v1/experiments/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["variants"][1] == {"key": "b", "name": "B", "weight": 0.5}
    assert api_client.post("/api/v1/experiments/api-new/start").json()["status"] == "running"
    response = api_client.post("/api/v1/experiments/api-new/stop", {"reason": ""}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    response = api_client.post(
        "/api/v1/experiments/api-new/decide", {"decision": "inconclusive", "rationale": "Flat."}, format="json"
    )
    assert response.json()["status"] == "decided"


def test_viewer_cannot_write_through_api(api_client, viewer, running):
    api_client.force_authenticate(viewer)
    response = api_client.post("/api/v1/experiments/api-exp/stop", {"reason": "x"}, format="json")
    assert response.status_code == 403


def test_power_api(api_client, pm):
    api_client.force_authenticate(pm)
    response = api_client.get("/api/v1/experiments/power", {"baseline": 0.1, "mde": 0.05})
    assert response.json()["per_variant"] == [57760, 57760]
    response = api_client.get("/api/v1/experiments/power", {"baseline": 2, "mde": 0.05})
    assert response.status_code == 400
    assert "baseline conversion rate must be between 0 and 1" in response.json()["detail"]


def test_list_api_and_library_query_counts(api_client, client, pm, product, django_assert_max_num_queries):
    for _ in range(6):
        make_experiment(by=pm, product=product)
    api_client.force_authenticate(pm)
    with django_assert_max_num_queries(8):
        response = api_client.get("/api/v1/experiments/")
    assert response.json()["count"] == 6
    client.force_login(pm)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("experiments:index"))
    assert response.status_code == 200
    assert b"Experiment library" in response.content


def test_library_search_finds_another_products_learning(client, pm, product, other_product):
    other_pm = UserFactory(role="pm")
    other_product.members.add(other_pm)
    exp = make_experiment(by=other_pm, product=other_product, key="trust-badges", name="Trust badges")
    exp = services.experiment_start(experiment=exp, by=other_pm)
    learned = "Security badges near the pay button lift conversion."
    services.experiment_decide(experiment=exp, by=other_pm, decision="shipped", rationale="Won.", learnings=learned)
    client.force_login(pm)
    response = client.get(reverse("experiments:index"), {"q": "badges pay"})
    assert b"Trust badges" in response.content
    response = client.get(reverse("experiments:index"), {"outcome": "rolled_back"})
    assert b"Trust badges" not in response.content


def test_pages_render_for_each_state(client, pm, product, running):
    client.force_login(pm)
    services.results_compute(experiment=running)
    for url in (
        reverse("experiments:detail", args=["api-exp"]),
        reverse("experiments:results", args=["api-exp"]),
        reverse("experiments:create"),
        reverse("experiments:power") + "?baseline=10&mde=5&alpha=0.05&power=0.8&variants=2&metric_type=conversion",
        reverse("experiments:metrics"),
        reverse("experiments:guide"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    detail = client.get(reverse("experiments:detail", args=["api-exp"])).content.decode()
    assert "No exposures yet" in detail and "Pre-launch checklist" in detail


def test_create_page_flow_and_errors(client, pm, product):
    metric = MetricFactory(product=product)
    client.force_login(pm)
    data = {
        "product": product.pk,
        "name": "Bigger buttons",
        "key": "bigger-buttons",
        "hypothesis_change": "make the pay button bigger",
        "hypothesis_audience": "mobile web buyers",
        "hypothesis_metric": "order conversion",
        "hypothesis_impact": "rise by 2%",
        "variants": "control: Control = 0.5\ntreatment: Big button = 0.6",
        "primary_metric": metric.pk,
        "mde": 5,
        "alpha": 0.05,
        "power": 0.8,
        "engine": "frequentist",
    }
    response = client.post(reverse("experiments:create"), data)
    assert response.status_code == 200
    assert "Variant weights must sum to 1 (they sum to 1.1)." in response.content.decode()
    data["variants"] = "control: Control = 0.5\ntreatment: Big button = 0.5"
    response = client.post(reverse("experiments:create"), data)
    assert response.status_code == 302
    exp = Experiment.objects.get(key="bigger-buttons")
    assert exp.mde == 0.05 and exp.variants.get(position=1).name == "Big button"
    response = client.post(reverse("experiments:start", args=["bigger-buttons"]))
    assert Experiment.objects.get(key="bigger-buttons").status == "running"


def test_viewer_sees_read_only_page(client, viewer, pm, running):
    client.force_login(viewer)
    body = client.get(reverse("experiments:detail", args=["api-exp"])).content.decode()
    assert "You can view this experiment but not change it" in body
    client.post(reverse("experiments:stop", args=["api-exp"]), {"reason": "x"})
    assert Experiment.objects.get(key="api-exp").status == "running"
    assert client.get(reverse("experiments:create")).status_code == 403


def test_global_search_finds_experiments_and_admin_lists(client, pm, product, admin_user):
    from portal.search import search

    exp = make_experiment(by=pm, product=product, key="badges", name="Trust badges near pay")
    exp = services.experiment_start(experiment=exp, by=pm)
    services.experiment_decide(
        experiment=exp, by=pm, decision="shipped", rationale="Won.", learnings="Badges reassure first-time buyers."
    )
    results = [r for r in search("reassure buyers", pm) if r.kind == "Experiment"]
    assert [r.title for r in results] == ["Trust badges near pay (shipped)"]
    assert "\x01reassure\x02" in results[0].snippet
    client.force_login(admin_user)
    for name in ("experiment", "experimenttemplate", "bestpractice", "metric", "resultsnapshot"):
        assert client.get(f"/admin/experiments/{name}/").status_code == 200, name


def test_exposures_card_follows_the_polled_results_regression(client, pm, product, running):
    """Regression: with 600 simulated units the page kept saying "No exposures yet" after the
    worker's refresh landed, because only the results card was polled; the charts were not."""
    from datetime import timedelta

    from django.utils import timezone

    from experiments.simulate import Effect, simulate

    started = timezone.now() - timedelta(days=2)
    Experiment.objects.filter(pk=running.pk).update(started_at=started)
    running.refresh_from_db()
    effects = {"control": Effect(rates={"order_completed": 0.1}), "treatment": Effect(rates={"order_completed": 0.1})}
    simulate(running, units=600, start=started, days=1, effects=effects, pre_period=False)
    client.force_login(pm)
    before = client.get(reverse("experiments:detail", args=["api-exp"])).content.decode()
    assert "No exposures yet" not in before  # nothing computed yet is not "no exposures"
    assert "Exposures not counted yet" in before
    services.results_request(experiment=running, by=pm)
    pending = client.get(reverse("experiments:detail", args=["api-exp"])).content.decode()
    assert 'id="results-live" data-poll-url="/experiments/api-exp/results"' in pending
    services.results_compute(experiment=running, snapshot=running.snapshots.get(status="queued"))
    fragment = client.get(reverse("experiments:results", args=["api-exp"])).content.decode()
    assert fragment.startswith('<div id="results-live"') and "data-poll-url" not in fragment
    assert "600 units" in fragment and "exposure-chart" in fragment
    assert "No exposures yet" not in fragment and "Exposures not counted yet" not in fragment


def test_stale_no_exposures_snapshot_is_refreshed_in_the_background(client, pm, running):
    from datetime import timedelta

    from django.utils import timezone

    from experiments.models import ResultSnapshot

    empty = services.results_compute(experiment=running)
    assert empty.units == 0
    client.force_login(pm)
    client.get(reverse("experiments:detail", args=["api-exp"]))
    assert not running.snapshots.filter(status="queued").exists()  # fresh: nothing to recheck
    ResultSnapshot.objects.filter(pk=empty.pk).update(computed_at=timezone.now() - timedelta(minutes=10))
    services.assignment_get(experiment=running, unit_id="user-1")
    body = client.get(reverse("experiments:detail", args=["api-exp"])).content.decode()
    assert running.snapshots.filter(status="queued").count() == 1
    assert "data-poll-url" in body
    client.get(reverse("experiments:detail", args=["api-exp"]))
    assert running.snapshots.filter(status="queued").count() == 1  # one pending refresh at most


def test_metrics_page_defines_a_ratio_metric(client, pm, product):
    from experiments.models import Metric

    client.force_login(pm)
    data = {
        "product": product.pk,
        "key": "revenue_per_order",
        "name": "Revenue per order",
        "kind": "ratio",
        "event": "order_completed",
        "value_property": "amount",
        "window_hours": 168,
        "direction": "higher",
    }
    response = client.post(reverse("experiments:metrics"), data)
    assert response.status_code == 200
    assert "A ratio metric needs a denominator event" in response.content.decode()
    response = client.post(reverse("experiments:metrics"), {**data, "denominator_event": "order_completed"})
    assert response.status_code == 302
    metric = Metric.objects.get(key="revenue_per_order")
    assert metric.kind == "ratio" and metric.denominator_event == "order_completed"
    listing = client.get(reverse("experiments:metrics")).content.decode()
    assert "divided by the number of &#x27;order_completed&#x27; events" in listing


def test_memoised_charts_follow_each_new_snapshot(client, pm, running):
    """Charts are memoised per latest snapshot: a new snapshot shows at once, never a stale chart."""
    from experiments.models import ResultSnapshot

    client.force_login(pm)
    services.results_compute(experiment=running)
    url = reverse("experiments:detail", args=["api-exp"])
    assert "No exposures yet" in client.get(url).content.decode()
    first = ResultSnapshot.objects.filter(experiment=running, status="ready").latest("computed_at")
    ResultSnapshot.objects.filter(pk=first.pk).update(
        daily_exposures=[{"day": "2026-11-20", "variant": "Control", "units": 4321}]
    )  # (a ready snapshot never changes in the app; here it proves the cached chart is reused)
    assert "4321" not in client.get(url).content.decode()
    services.results_compute(experiment=running)
    newest = ResultSnapshot.objects.filter(experiment=running, status="ready").latest("computed_at")
    ResultSnapshot.objects.filter(pk=newest.pk).update(
        daily_exposures=[{"day": "2026-11-21", "variant": "Control", "units": 8765}]
    )
    assert newest.pk != first.pk
    assert "8765" in client.get(url).content.decode()
