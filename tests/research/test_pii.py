"""Names and emails are for researchers and the study's team; everyone else sees pseudonyms —
enforced in the queryset and the API, proven here on pages, API and search."""

import pytest

from research import selectors
from research.models import ContactLog
from tests.factories import UserFactory
from tests.research.factories import (
    HighlightFactory,
    InsightFactory,
    ParticipantFactory,
    SessionFactory,
    StudyFactory,
)

EMAIL = "secret.person@customer.test"
NAME = "Zelda Quartermaine"


@pytest.fixture
def setup(db, researcher):
    person = ParticipantFactory(email=EMAIL, name=NAME, company="Hush Corp")
    study = StudyFactory(owner=researcher, title="Delivery fee interviews")
    session = SessionFactory(study=study, participant=person, notes="Delivery fee was a surprise at checkout")
    ContactLog.objects.create(participant=person, study=study, kind="invited", at=session.scheduled_at)
    highlight = HighlightFactory(session=session, excerpt="Delivery fee was a surprise")
    insight = InsightFactory(statement="Delivery fee surprise drives abandonment", products=list(study.products.all()))
    insight.highlights.add(highlight)
    return {"person": person, "study": study, "session": session, "highlight": highlight, "insight": insight}


def _pages(s):
    return [
        "/research/",
        "/research/participants/",
        f"/research/participants/{s['person'].pk}/",
        "/research/participants/?q=secret",
        f"/research/studies/{s['study'].pk}/",
        f"/research/sessions/{s['session'].pk}/",
        "/research/insights/",
        f"/research/insights/{s['insight'].pk}/",
        "/research/search/?q=delivery+fee",
        "/search/?q=delivery",
        "/api/v1/research/participants",
        "/api/v1/research/participants?q=secret",
        f"/api/v1/research/participants/{s['person'].pk}",
        f"/api/v1/research/studies/{s['study'].pk}/candidates",
        "/api/v1/research/highlights",
        f"/api/v1/research/insights/{s['insight'].pk}",
        "/api/v1/research/search?q=delivery",
    ]


@pytest.mark.parametrize("role", ["pm", "viewer", "ops_lead"])
def test_no_name_or_email_leaks_to_people_outside_the_study(client, setup, role):
    client.force_login(UserFactory(role=role))
    for url in _pages(setup):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert EMAIL not in body, url
        assert NAME not in body, url
        assert "Hush Corp" not in body, url
    detail = client.get(f"/research/participants/{setup['person'].pk}/").content.decode()
    assert setup["person"].pseudonym in detail


def test_the_study_team_and_researchers_see_names(client, setup, researcher):
    teammate = UserFactory(role="pm")
    setup["study"].team.add(teammate)
    for user in (teammate, researcher):
        client.force_login(user)
        api = client.get(f"/api/v1/research/participants/{setup['person'].pk}").json()
        assert (api["name"], api["email"]) == (NAME, EMAIL)
        assert NAME in client.get(f"/research/sessions/{setup['session'].pk}/").content.decode()


def test_queryset_does_not_load_pii_for_outsiders(setup, pm):
    person = selectors.participant_get(user=pm, pk=setup["person"].pk)
    assert person.visible_email == "" and person.visible_name == ""
    assert {"name", "email", "company"} <= person.get_deferred_fields()
    assert person.label == setup["person"].pseudonym
    # An outsider cannot find someone by searching their email either.
    assert not selectors.participant_list(user=pm, q="secret.person").exists()


def test_pseudonym_is_stable(setup):
    person = setup["person"]
    assert person.pseudonym == f"P-{1000 + person.pk}"
    person.refresh_from_db()
    assert person.pseudonym == f"P-{1000 + person.pk}"


def test_participant_list_page_and_api_query_counts(client, researcher, django_assert_max_num_queries):
    for _ in range(30):
        ParticipantFactory()
    client.force_login(researcher)
    with django_assert_max_num_queries(10):
        assert client.get("/research/participants/").status_code == 200
    with django_assert_max_num_queries(6):
        data = client.get("/api/v1/research/participants").json()
    assert data["count"] == 30
