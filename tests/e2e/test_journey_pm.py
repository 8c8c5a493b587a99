"""Journey 1: a PM logs in, lands on home, opens an experiment and reads its results (computed
by a real Celery worker), then creates a new experiment from a template and starts it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics import services as analytics_services
from analytics.services import events_ingest
from experiments import services
from experiments.models import Experiment
from experiments.simulate import Effect, simulate
from tests.experiments.factories import ExperimentTemplateFactory, MetricFactory, make_experiment
from tests.factories import ProductFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _running_experiment(product, pm, metric):
    exp = make_experiment(by=pm, product=product, primary=metric, key="express-checkout", name="Express checkout")
    exp = services.experiment_start(experiment=exp, by=pm)
    started = timezone.now() - timedelta(days=7)
    Experiment.objects.filter(pk=exp.pk).update(started_at=started)
    exp.refresh_from_db()
    simulate(
        exp,
        units=600,
        start=started,
        days=6,
        effects={
            "control": Effect(rates={"order_completed": 0.10}),
            "treatment": Effect(rates={"order_completed": 0.16}),
        },
        seed=7,
    )
    return exp


def _usage(product):
    """Six weeks of believable usage: 60 shoppers browsing, adding to cart and ordering."""
    now = timezone.now()
    events = []
    for day in range(42):
        at = now - timedelta(days=day, hours=3)
        for user in range(60):
            if (user * 7 + day) % 3 == 0:
                continue
            uid = f"shopper-{user}"
            events.append({"event": "product_viewed", "distinct_id": uid, "timestamp": at.isoformat()})
            if user % 2 == 0:
                events.append({"event": "cart_added", "distinct_id": uid, "timestamp": at.isoformat()})
    events_ingest(product=product, events=events)


def _tiles_done(page, timeout=90_000):
    """Every tile has a computed result (no placeholder, no pending poll) and its chart drawn."""
    page.wait_for_function(
        "() => document.querySelectorAll('.tile').length > 0"
        " && !document.querySelector('.tile-placeholder, .tile[data-poll-url]')"
        " && [...document.querySelectorAll('[data-chart]')].every(e => e.getAttribute('data-drawn'))",
        timeout=timeout,
    )


def test_pm_reads_experiment_results_and_starts_one_from_a_template(journey, celery_worker_thread):
    product = ProductFactory(name="Checkout", slug="checkout")
    pm = UserFactory(username="paula", first_name="Paula", role="pm")
    product.members.add(pm)
    metric = MetricFactory(product=product, key="order_conversion", name="Order conversion", event="order_completed")
    _running_experiment(product, pm, metric)
    _usage(product)
    analytics_services.dashboard_templates_ensure_defaults()
    analytics_services.dashboards_ensure_standard(products=[product])
    ExperimentTemplateFactory(
        name="Checkout change",
        description="A change to the checkout flow",
        hypothesis_change="simplify the payment step",
        hypothesis_audience="all web buyers",
        hypothesis_impact="rise by 2%",
        default_duration_days=14,
    )
    page = journey.page

    journey.login("paula")
    assert page.locator("h1").inner_text().startswith("Good to see you, Paula")
    journey.wait_for_charts()
    journey.assert_accessible()

    # Product health dashboard: tiles are computed by the worker; a new date range redraws them.
    journey.goto("/analytics/checkout/d/product-health/")
    assert page.locator("h1").inner_text().startswith("Product health")
    _tiles_done(page)
    first_chart = page.locator("[data-chart]").first
    before = first_chart.get_attribute("data-drawn")
    page.get_by_label("From", exact=True).fill("-14d")
    page.get_by_role("button", name="Apply to all tiles").click()
    page.wait_for_load_state()
    assert "date_from=-14d" in page.url
    _tiles_done(page)
    assert page.locator("[data-chart]").count() >= 1
    assert before and page.locator("[data-chart]").first.get_attribute("data-drawn")
    journey.screenshot("product-health")
    journey.assert_accessible()
    journey.assert_no_console_errors()

    # Open the experiment from the library and refresh its results through the worker.
    page.get_by_role("link", name="Experiments", exact=True).first.click()
    page.wait_for_load_state()
    journey.assert_accessible()
    page.get_by_role("link", name="Express checkout").first.click()
    page.wait_for_load_state()
    assert "Results not computed yet" in page.locator("#results").inner_text()
    page.locator("#results").get_by_role("button", name="Refresh").click()
    page.wait_for_load_state()
    # The results card polls its fragment until the worker has stored the snapshot.
    page.wait_for_function(
        "() => document.querySelector('#results') && document.querySelector('#results').innerText.includes('units')"
        " && !document.querySelector('#results-live[data-poll-url], #results [data-poll-url]')",
        timeout=60_000,
    )
    results = page.locator("#results").inner_text()
    assert "Order conversion" in results and "Treatment" in results
    # the exposures card came with the results (it used to keep saying "No exposures yet")
    assert "No exposures yet" not in page.locator("#results-live").inner_text()
    assert page.locator("#exposure-chart").count() == 1
    journey.wait_for_charts()
    journey.screenshot("experiment-results")
    journey.assert_accessible()
    journey.assert_no_console_errors()

    # Create a new experiment from the template and start it.
    journey.goto("/experiments/new/")
    page.get_by_role("link", name="Checkout change").click()
    page.wait_for_load_state()
    assert page.locator("#id_hypothesis_change").input_value() == "simplify the payment step"
    page.select_option("#id_product", str(product.pk))
    page.fill("#id_name", "One-page payment")
    page.fill("#id_key", "one-page-payment")
    page.select_option("#id_primary_metric", str(metric.pk))
    journey.assert_accessible()
    page.get_by_role("button", name="Create experiment").click()
    page.wait_for_load_state()
    created = Experiment.objects.get(key="one-page-payment")
    assert created.status == "draft" and created.hypothesis_change == "simplify the payment step"
    page.get_by_role("button", name="Start experiment").click()
    page.wait_for_load_state()
    created.refresh_from_db()
    assert created.status == "running" and created.started_at is not None
    assert "Running" in page.locator("h1").inner_text()
    journey.assert_accessible()
    journey.assert_no_console_errors()
