"""Notification gaps filled by the portal, and the monthly product-ops report."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from experiments.models import Experiment, ResultSnapshot
from experiments.services import experiment_decide, experiment_start
from portal import alerts, reports
from portal.models import MonthlyReport, Notification, ReportSubscription
from tests.experiments.factories import make_experiment
from tests.research.factories import InsightFactory
from tests.tooling.factories import TemplateFactory
from tooling.models import Template
from tooling.services import launch_create


def test_guardrail_regression_notifies_the_owner_once(pm, product):
    experiment = experiment_start(experiment=make_experiment(by=pm, product=product, name="Express pay"), by=pm)
    ResultSnapshot.objects.create(
        experiment=experiment,
        status="ready",
        computed_at=timezone.now(),
        health=[{"code": "guardrail", "level": "error", "message": "Guardrail regression: refunds up 4.1%"}],
    )
    assert alerts.guardrail_alerts_send() == 1
    assert alerts.guardrail_alerts_send() == 0
    note = Notification.objects.get(kind="experiment.guardrail", user=pm)
    assert "refunds up 4.1%" in note.body and note.url == experiment.get_absolute_url()


def test_stale_published_templates_notify_their_owner_monthly(ops_lead):
    template = TemplateFactory(name="Launch retro", status="published", owner=ops_lead)
    TemplateFactory(name="Fresh PRD", status="published", owner=ops_lead)
    Template.objects.filter(pk=template.pk).update(updated_at=timezone.now() - timedelta(days=200))
    assert alerts.stale_template_notices_send() == 1
    assert alerts.stale_template_notices_send() == 0
    assert Notification.objects.get(kind="standards.stale").title.startswith("Template “Launch retro”")


def _month_data(pm, product):
    experiment = experiment_start(experiment=make_experiment(by=pm, product=product, name="Promo banner"), by=pm)
    experiment_decide(experiment=experiment, by=pm, decision="shipped", rationale="Clear win", learnings="Banners work")
    launch_create(product=product, feature="Saved carts", tier="T2", launch_date=timezone.localdate(), owner=pm)
    InsightFactory(statement="Shoppers want saved carts", products=[product])


def test_report_counts_the_month_and_renders_page_print_and_csv(client, pm, product, ops_lead):
    _month_data(pm, product)
    month = timezone.now().date().replace(day=1)
    report = reports.report_generate(unit=product.unit, month=month)
    assert report.data["experiments"]["ran"] == 1 and report.data["experiments"]["decided"] == 1
    assert [launch["feature"] for launch in report.data["launches"]] == ["Saved carts"]
    assert [i["statement"] for i in report.data["research"]] == ["Shoppers want saved carts"]
    client.force_login(pm)
    page = client.get(report.get_absolute_url()).content.decode()
    assert "Promo banner" in page and "Banners work" in page
    printable = client.get(report.get_absolute_url() + "?print=1").content.decode()
    assert "Use your browser's Print" in printable and "topbar" not in printable
    csv = b"".join(client.get(report.get_absolute_url() + "?export=launches").streaming_content).decode()
    assert csv.splitlines()[1].startswith("Saved carts,")
    assert reports.report_generate(unit=product.unit, month=month).pk == report.pk  # one per unit and month


def test_only_ops_leads_generate_reports_and_bad_months_are_explained(client, pm, ops_lead, product):
    client.force_login(pm)
    assert client.post("/reports/generate", {"unit": product.unit.slug, "month": "2026-10"}).status_code == 403
    client.force_login(ops_lead)
    response = client.post("/reports/generate", {"unit": product.unit.slug, "month": "October"}, follow=True)
    assert "Give the month as YYYY-MM" in response.content.decode()
    response = client.post("/reports/generate", {"unit": product.unit.slug, "month": "2026-10"})
    assert response.status_code == 302
    assert MonthlyReport.objects.filter(unit=product.unit, month="2026-10-01").exists()


def test_subscribing_from_the_reports_page(client, pm, product):
    client.force_login(pm)
    client.post("/reports/subscribe", {"unit": product.unit.slug, "subscribed": "1"})
    assert ReportSubscription.objects.filter(user=pm, unit=product.unit).exists()
    client.post("/reports/subscribe", {"unit": product.unit.slug, "subscribed": "0"})
    assert not ReportSubscription.objects.filter(user=pm).exists()


@pytest.mark.django_db(transaction=True)
def test_beat_task_generates_last_months_reports_and_emails_subscribers(celery_worker_thread):
    from portal.tasks import monthly_reports
    from tests.factories import ProductFactory, UserFactory

    product = ProductFactory()
    subscriber = UserFactory(role="viewer")
    ReportSubscription.objects.create(user=subscriber, unit=None)
    monthly_reports.delay()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not mail.outbox:
        time.sleep(0.2)
    last_month = reports.previous_month()
    assert MonthlyReport.objects.filter(unit=product.unit, month=last_month).exists()
    assert [m.to for m in mail.outbox] == [[subscriber.email]]
    assert f"{product.unit.name}, {last_month:%B %Y}" in mail.outbox[0].subject
    assert reports.monthly_reports_run() == 0  # idempotent: nothing new, nobody notified twice
    assert Notification.objects.filter(kind="report.monthly").count() == 1


def test_experiment_status_is_a_real_choice():
    assert "running" in Experiment.Status.values
