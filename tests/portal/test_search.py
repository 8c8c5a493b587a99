"""Global search finds an item of every type, weighted, highlighted, permission-aware."""

from __future__ import annotations

import pytest

from analytics.services import dashboard_create, event_definition_create
from portal.search import HIGHLIGHT_START, search
from tests.experiments.factories import make_experiment
from tests.feedback.factories import ItemFactory, ThemeFactory
from tests.onboarding.factories import ArticleFactory, TrackFactory
from tests.research.factories import InsightFactory
from tests.tooling.factories import RoadmapItemFactory, TemplateFactory
from tooling.services import document_create_from_template
from tooling.standard_templates import install

WORD = "zeppelin"
EXPECTED = {
    "Dashboard",
    "Event definition",
    "Experiment",
    "Document",
    "Template",
    "Roadmap item",
    "Insight",
    "Feedback theme",
    "Track",
    "Article",
}


@pytest.fixture
def everything(db, pm, product, ops_lead):
    install(by=ops_lead)
    dashboard_create(product=product, name=f"{WORD.title()} funnel", description="Weekly conversion", by=pm)
    event_definition_create(product=product, name=f"{WORD}_launched", description=f"A {WORD} took off", by=pm)
    make_experiment(by=pm, product=product, name=f"{WORD.title()} banner test")
    document_create_from_template(kind="prd", product=product, owner=pm, title=f"{WORD.title()} delivery PRD")
    TemplateFactory(name=f"{WORD.title()} retro", status="published")
    RoadmapItemFactory(product=product, title=f"{WORD.title()} deliveries")
    InsightFactory(statement=f"Customers love {WORD} tracking", products=[product])
    theme = ThemeFactory(product=product, label=f"{WORD} delays")
    ItemFactory(theme=theme, product=product, text=f"jane.doe@example.com says my {WORD} is late")
    TrackFactory(title=f"{WORD.title()} onboarding", status="published")
    ArticleFactory(title=f"How {WORD}s fly", body=f"Everything about the {WORD} fleet.")


def test_every_type_is_found_with_highlighted_snippets(everything, pm):
    results = search(WORD, pm, limit=10)
    assert {r.kind for r in results} >= EXPECTED
    assert any(HIGHLIGHT_START in r.snippet for r in results)
    assert all(r.url.startswith("/") for r in results)


def test_title_matches_rank_above_body_matches(everything, pm):
    results = search(WORD, pm, kinds=["article"])
    assert results and results[0].title == f"How {WORD}s fly"


def test_type_filter_limits_results(everything, pm_client):
    body = pm_client.get("/search/", {"q": WORD, "type": "theme"}).content.decode()
    assert f"{WORD} delays" in body
    assert f"{WORD.title()} banner test" not in body
    assert "<mark>" in body


def test_search_never_shows_customer_pii(everything, pm_client):
    body = pm_client.get("/search/", {"q": WORD}).content.decode()
    assert "jane.doe@example.com" not in body


def test_drafts_of_standards_are_for_ops_leads_only(db, pm, ops_lead):
    TemplateFactory(name="Quokka draft", status="draft")
    assert not search("quokka", pm, kinds=["template"])
    assert [r.title for r in search("quokka", ops_lead, kinds=["template"])] == ["Quokka draft"]
