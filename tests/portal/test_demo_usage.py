"""The demo's usage history: ten weeks of portal use, ingested like live usage, from which the
adoption dashboard and the benefits scorecard compute their trends."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from portal import adoption, scorecard, usage
from portal.demo import load_org
from portal.demo_usage import seed_usage
from portal.models import AuditEntry


@pytest.fixture
def seeded(db):
    client = usage._redis()
    client.delete(usage.buffer_key())
    usage._portal_product_id = None
    call_command("seed_demo", "--small")
    yield
    client.delete(usage.buffer_key())


def _weeks_with(values) -> int:
    return sum(1 for v in values if v)


def test_seeded_history_gives_adoption_and_scorecard_trends_computed_from_events(seeded):
    # One test, one small seed (seeding is the slow part).
    events = adoption.usage_events()
    assert events.filter(event="page_viewed").count() > 200
    assert events.filter(event="search_performed").exists()
    assert events.filter(event="action_performed").exists()
    assert usage._redis().llen(usage.buffer_key()) == 0  # everything went through flush → events_ingest

    weekly = adoption.weekly_active_pms()
    assert _weeks_with(pms for _, pms, _ in weekly) >= 9  # ten weeks of history, not one spike
    assert {r["tool"] for r in adoption.use_per_tool() if r["views"]} >= {"analytics", "experiments", "tooling"}
    glance = adoption.glance()
    assert glance["searches"] > 0 and 0 < glance["searches_found"] <= glance["searches"]

    measures = {m.key: m for m in scorecard.measures()}
    dashboards_opened = measures["analytics"].series["Dashboards opened"]
    assert _weeks_with(dashboards_opened) >= 6
    learning = measures["learning"]
    assert learning.headline and learning.headline > 0
    assert _weeks_with(learning.series["Insights viewed from another product"]) >= 2
    leverage = measures["leverage"]
    assert _weeks_with(leverage.series["Self-serve actions"]) >= 3  # demo documents dated when they were written
    assert AuditEntry.objects.filter(action="insight.view").count() >= sum(
        learning.series["Insights viewed from another product"]
    )

    # Generated once: a second seed keeps the history as it is.
    before = events.count()
    assert seed_usage(load_org(), small=True) == "usage history already present"
    assert events.count() == before

    # Computed from the events, not stored figures: without them the usage trends are empty.
    events.delete()
    assert _weeks_with(pms for _, pms, _ in adoption.weekly_active_pms()) == 0
    after = {m.key: m for m in scorecard.measures()}
    assert _weeks_with(after["analytics"].series["Dashboards opened"]) == 0
    assert _weeks_with(after["learning"].series["Other products' pages viewed by PMs"]) == 0
