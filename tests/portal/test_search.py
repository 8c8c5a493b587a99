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
    "Event",
    "Experiment",
    "PRD",  # documents are labelled with their template kind
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
    body = pm_client.get("/search/", {"q": WORD, "type": "feedback_theme"}).content.decode()
    assert f"{WORD} delays" in body
    assert f"{WORD.title()} banner test" not in body
    articles = pm_client.get("/search/", {"q": WORD, "type": "article"}).content.decode()
    assert "<mark>" in articles  # highlighted snippet


def test_search_never_shows_customer_pii(everything, pm_client):
    body = pm_client.get("/search/", {"q": WORD}).content.decode()
    assert "jane.doe@example.com" not in body


def test_draft_templates_are_not_found(db, pm):
    TemplateFactory(name="Quokka draft", status="draft")
    TemplateFactory(name="Quokka retro", status="published")
    assert [r.title for r in search("quokka", pm, kinds=["template"])] == ["Quokka retro"]


def test_every_word_must_match(everything, pm):
    # ts_rank is above zero (1e-20) even for rows that match none of an AND query's words, so
    # filtering on rank listed every row; the providers filter on the stored vector with @@.
    assert search(f"{WORD} quasar", pm) == []
    assert {r.kind for r in search(f"{WORD} funnel", pm)} == {"Dashboard"}


def test_search_queries_are_bounded(everything, pm, django_assert_max_num_queries):
    from portal.search import PROVIDERS, _load_providers

    _load_providers()
    # One query per provider, plus research's prefetch of products for the rows it returns.
    with django_assert_max_num_queries(len(PROVIDERS) + 4):
        assert search(WORD, pm)


@pytest.mark.parametrize(
    "label",
    [
        "portal.Product",
        "analytics.Dashboard",
        "analytics.EventDefinition",
        "experiments.Experiment",
        "feedback.Theme",
        "onboarding.Track",
        "tooling.Template",
        "tooling.RoadmapItem",
        "tooling.Document",
        "tooling.DocumentSection",
    ],
)
def test_providers_can_use_the_gin_index_on_the_stored_vector(db, label):
    from django.apps import apps
    from django.db import connection, transaction

    from portal.search import query_of

    qs = apps.get_model(label).objects.filter(search_vector=query_of(WORD))
    sql, params = qs.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # tiny test tables: make the planner show the index
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Bitmap Index Scan on" in plan and "_search_gin" in plan, plan
