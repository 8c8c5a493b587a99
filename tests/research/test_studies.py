from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from portal.models import AuditEntry
from research import services
from research.models import ContactLog, Highlight, Tag
from tests.research.factories import ConsentFactory, ParticipantFactory, SessionFactory, StudyFactory


def test_pm_creates_a_study_for_their_product_only(pm, product, other_product):
    study = services.study_create(title="Why carts are abandoned", products=[product], by=pm)
    assert (study.status, study.owner) == ("planning", pm)
    assert AuditEntry.objects.filter(action="study.create", target_id=str(study.pk)).exists()
    with pytest.raises(ValidationError) as exc:
        services.study_create(title="Not mine", products=[other_product], by=pm)
    assert exc.value.message_dict == {"products": [f"You are not on the team of {other_product.name}."]}
    with pytest.raises(ValidationError) as exc:
        services.study_create(title="No product", products=[], by=pm)
    assert exc.value.message_dict == {"products": ["Pick at least one product the study informs."]}


def test_viewers_never_create_studies(viewer, product):
    with pytest.raises(PermissionDenied):
        services.study_create(title="x", products=[product], by=viewer)


def test_status_moves_one_step_or_to_archive(researcher):
    study = StudyFactory(owner=researcher, status="planning")
    services.study_set_status(study=study, status="recruiting", by=researcher)
    with pytest.raises(ValidationError) as exc:
        services.study_set_status(study=study, status="shared", by=researcher)
    assert exc.value.message_dict == {
        "status": ["A study moves one step at a time: from recruiting go to fieldwork or planning or archived."]
    }
    services.study_set_status(study=study, status="archived", by=researcher)
    assert study.status == "archived"
    assert AuditEntry.objects.filter(action="study.status", target_id=str(study.pk)).count() == 2


def test_outsiders_cannot_change_a_study(researcher, pm):
    study = StudyFactory(owner=researcher)
    with pytest.raises(PermissionDenied) as exc:
        services.study_set_status(study=study, status="fieldwork", by=pm)
    assert str(exc.value) == f"You can view “{study.title}” but not change it: you are not on its team."


def test_recruit_schedule_attend_and_pay(researcher, rule):
    study = StudyFactory(owner=researcher, eligibility_rule=rule)
    person = ParticipantFactory()
    ConsentFactory(participant=person)
    with pytest.raises(ValidationError) as exc:
        services.session_schedule(study=study, participant=person, scheduled_at=timezone.now(), by=researcher)
    assert exc.value.message_dict == {"participant": [f"Invite {person.pseudonym} to this study before scheduling."]}
    services.study_invite(study=study, participant_ids=[person.pk], by=researcher)
    session = services.session_schedule(
        study=study, participant=person, scheduled_at=timezone.now() + timedelta(days=1), by=researcher
    )
    services.session_set_status(session=session, status="completed", by=researcher)
    kinds = list(ContactLog.objects.filter(participant=person).order_by("pk").values_list("kind", flat=True))
    assert kinds == ["invited", "scheduled", "attended"]
    with pytest.raises(ValidationError) as exc:
        services.session_set_status(session=session, status="no_show", by=researcher)
    assert exc.value.message_dict == {"status": ["This session is already completed."]}
    with pytest.raises(ValidationError) as exc:
        services.incentive_set(session=session, amount="-5", currency="USD", by=researcher)
    assert exc.value.message_dict == {"amount": ["The incentive amount must be positive."]}
    incentive = services.incentive_set(session=session, amount="50", currency="eur", by=researcher)
    assert (incentive.amount, incentive.currency, incentive.status) == (Decimal("50"), "EUR", "owed")
    services.incentive_mark_paid(incentive=incentive, by=researcher)
    assert incentive.status == "paid" and incentive.paid_at is not None
    with pytest.raises(ValidationError):
        services.incentive_set(session=session, amount="60", currency="EUR", by=researcher)


def test_notes_are_sanitised_markdown(client, researcher):
    session = SessionFactory(study=StudyFactory(owner=researcher))
    services.session_update_notes(
        session=session, notes="**Bold** <script>alert(1)</script> [x](javascript:alert(1))", by=researcher
    )
    client.force_login(researcher)
    body = client.get(f"/research/sessions/{session.pk}/").content.decode()
    assert "<strong>Bold</strong>" in body
    assert "<script>alert(1)</script>" not in body
    assert 'href="javascript:' not in body


def test_highlights_are_excerpts_with_global_and_local_tags(researcher):
    session = SessionFactory(study=StudyFactory(owner=researcher), notes="I **really** wanted to pay with my wallet.")
    Tag.objects.create(name="Payment methods", slug="payment-methods")
    h = services.highlight_create(
        session=session,
        excerpt="really wanted to pay with my wallet",
        tags=["Payment methods", "Wallet love"],
        by=researcher,
    )
    assert h.participant == session.participant
    assert sorted((t.slug, t.is_global) for t in h.tags.all()) == [("payment-methods", True), ("wallet-love", False)]
    with pytest.raises(ValidationError) as exc:
        services.highlight_create(session=session, excerpt="something never said", by=researcher)
    assert exc.value.message_dict == {"excerpt": ["A highlight must be an excerpt of this session's notes."]}
    assert Highlight.objects.count() == 1


def test_session_page_adds_highlight_and_shows_form_errors(client, researcher):
    session = SessionFactory(study=StudyFactory(owner=researcher), notes="Checkout was slow on my phone.")
    client.force_login(researcher)
    bad = client.post(f"/research/sessions/{session.pk}/", {"excerpt": "made up", "tags": ""})
    assert bad.status_code == 400
    assert "A highlight must be an excerpt of this session" in bad.content.decode()
    ok = client.post(f"/research/sessions/{session.pk}/", {"excerpt": "Checkout was slow", "tags": "speed"})
    assert ok.status_code == 302
    assert session.highlights.get().excerpt == "Checkout was slow"


def test_study_pages_for_each_role_and_query_counts(client, researcher, viewer, django_assert_max_num_queries):
    study = StudyFactory(owner=researcher)
    for _ in range(5):
        SessionFactory(study=study)
    for _ in range(8):
        StudyFactory(owner=researcher)
    client.force_login(viewer)
    with django_assert_max_num_queries(10):
        assert client.get("/research/studies/").status_code == 200
    body = client.get(f"/research/studies/{study.pk}/").content.decode()
    assert "You can view this study but not change it" in body
    assert client.post(f"/research/studies/{study.pk}/status", {"status": "fieldwork"}).status_code == 403
    client.force_login(researcher)
    response = client.post(f"/research/studies/{study.pk}/status", {"status": "shared"})
    assert response.status_code == 302
    follow = client.get(f"/research/studies/{study.pk}/").content.decode()
    assert "A study moves one step at a time" in follow


def test_create_study_form_shows_field_errors(client, pm, product):
    client.force_login(pm)
    response = client.post(
        "/research/studies/new/",
        {
            "title": "Cart study",
            "products": [product.pk],
            "method": "interview",
            "target_sessions": 8,
            "screener": "[{oops",
        },
    )
    assert response.status_code == 400
    assert "Not valid JSON" in response.content.decode()
    ok = client.post(
        "/research/studies/new/",
        {
            "title": "Cart study",
            "products": [product.pk],
            "method": "interview",
            "target_sessions": 8,
            "screener": '[{"attribute": "plan", "op": "eq", "value": "pro"}]',
        },
    )
    assert ok.status_code == 302


def test_edit_study_screener_changes_candidates(client, researcher, rule):
    from tests.research.factories import ConsentFactory as Consent

    study = StudyFactory(owner=researcher, eligibility_rule=rule)
    pro = ParticipantFactory(attributes={"plan": "pro"})
    free = ParticipantFactory(attributes={"plan": "free"})
    Consent(participant=pro)
    Consent(participant=free)
    client.force_login(researcher)
    form = client.get(f"/research/studies/{study.pk}/edit/")
    assert form.status_code == 200
    response = client.post(
        f"/research/studies/{study.pk}/edit/",
        {
            "title": study.title,
            "products": [p.pk for p in study.products.all()],
            "method": "interview",
            "target_sessions": 6,
            "eligibility_rule": rule.pk,
            "screener": '[{"attribute": "plan", "op": "eq", "value": "pro"}]',
        },
    )
    assert response.status_code == 302
    data = client.get(f"/api/v1/research/studies/{study.pk}/candidates").json()
    assert (data["screened"], [c["id"] for c in data["candidates"]]) == (1, [pro.pk])


def test_invite_api_refuses_bad_input_with_reasons(api_client, researcher, pm, rule):
    study = StudyFactory(owner=researcher, eligibility_rule=rule)
    person = ParticipantFactory()
    api_client.force_authenticate(researcher)
    empty = api_client.post(f"/api/v1/research/studies/{study.pk}/invite", {"participants": []}, format="json")
    assert empty.status_code == 400 and "participants" in empty.json()["errors"]
    no_consent = api_client.post(
        f"/api/v1/research/studies/{study.pk}/invite", {"participants": [person.pk]}, format="json"
    )
    assert no_consent.status_code == 400
    assert no_consent.json()["errors"] == {"participants": [f"Not eligible for this study: {person.pseudonym}."]}
    ConsentFactory(participant=person)
    ok = api_client.post(f"/api/v1/research/studies/{study.pk}/invite", {"participants": [person.pk]}, format="json")
    assert ok.json() == {"invited": 1}
    api_client.force_authenticate(pm)
    other = api_client.post(f"/api/v1/research/studies/{study.pk}/invite", {"participants": [person.pk]}, format="json")
    assert other.status_code == 403


def test_malformed_ids_are_4xx_not_500(client, researcher):
    study = StudyFactory(owner=researcher, status="recruiting")
    client.force_login(researcher)
    response = client.post(f"/research/studies/{study.pk}/invite", {"participant": ["abc"]}, follow=True)
    assert response.status_code == 200
    assert "Participant ids must be numbers." in response.content.decode()
    assert client.get("/research/insights/new/?study=abc").status_code == 404
    assert client.get("/research/participants/?q=P-abc&page=zz").status_code == 200
