import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portal.models import AuditEntry
from research import services
from research.models import ConsentRecord, ContactLog, Participant
from tests.research.factories import (
    ConsentFactory,
    ContactFactory,
    HighlightFactory,
    ParticipantFactory,
    SessionFactory,
)


@pytest.fixture
def person(db):
    p = ParticipantFactory(email="erase.me@customer.test", name="Erin Ease", attributes={"plan": "pro"})
    ConsentFactory(participant=p)
    ContactFactory(participant=p, kind="invited")
    ContactFactory(participant=p, kind="attended")
    ContactFactory(participant=p, kind="attended")
    HighlightFactory(session=SessionFactory(participant=p))
    return p


def test_erasure_wipes_personal_fields_keeps_counts_and_is_audited(person, researcher):
    services.participant_erase(participant=person, by=researcher, reason="GDPR request 42")
    person.refresh_from_db()
    assert (person.name, person.email, person.company, person.attributes) == ("", "", "", {})
    assert person.is_erased and person.opted_out
    assert person.erased_summary["contacts"] == {"invited": 1, "attended": 2}
    assert (person.erased_summary["consents"], person.erased_summary["sessions"]) == (1, 1)
    assert not ContactLog.objects.filter(participant=person).exists()
    assert not ConsentRecord.objects.filter(participant=person).exists()
    assert person.highlights.count() == 1  # study evidence stays, under the pseudonym
    entry = AuditEntry.objects.get(action="participant.erase")
    assert entry.target_label == person.pseudonym
    assert "erase.me" not in json.dumps(entry.changes) and "Erin" not in json.dumps(entry.changes)
    with pytest.raises(ValidationError) as exc:
        services.participant_erase(participant=person, by=researcher)
    assert exc.value.message_dict == {
        "participant": ["This participant was already erased; erasure cannot be repeated."]
    }


def test_erased_people_are_not_reimported(person, researcher):
    services.participant_erase(participant=person, by=researcher)
    result = services.participants_import(text="email,name\nerase.me@customer.test,Erin\n", by=researcher)
    assert result.created == 0
    assert result.rejected == [(2, "this person asked to be erased; they cannot be re-imported")]
    assert Participant.objects.count() == 1


def test_only_researchers_erase_and_export(person, pm):
    with pytest.raises(PermissionDenied):
        services.participant_erase(participant=person, by=pm)
    with pytest.raises(PermissionDenied):
        services.participant_export(participant=person, by=pm)


def test_export_contains_everything_about_one_person(client, person, researcher):
    client.force_login(researcher)
    response = client.get(f"/research/participants/{person.pk}/export.json")
    assert response["Content-Disposition"] == f'attachment; filename="{person.pseudonym}.json"'
    data = json.loads(response.content)
    assert data["profile"]["email"] == "erase.me@customer.test"
    assert data["profile"]["attributes"] == {"plan": "pro"}
    assert sorted(c["kind"] for c in data["contacts"]) == ["attended", "attended", "invited"]
    assert len(data["consents"]) == 1 and len(data["sessions"]) == 1 and len(data["highlights"]) == 1
    assert AuditEntry.objects.filter(action="participant.export", target_id=str(person.pk)).exists()


def test_erase_page_needs_the_pseudonym_typed(client, person, researcher):
    client.force_login(researcher)
    client.post(f"/research/participants/{person.pk}/erase", {"confirm": "yes"})
    person.refresh_from_db()
    assert not person.is_erased
    client.post(f"/research/participants/{person.pk}/erase", {"confirm": person.pseudonym})
    person.refresh_from_db()
    assert person.is_erased


def test_erase_api(api_client, person, researcher, pm):
    api_client.force_authenticate(pm)
    assert api_client.post(f"/api/v1/research/participants/{person.pk}/erase", {}, format="json").status_code == 403
    api_client.force_authenticate(researcher)
    response = api_client.post(f"/api/v1/research/participants/{person.pk}/erase", {"reason": "request"}, format="json")
    assert response.status_code == 200
    assert response.json()["erased"] is True and response.json()["email"] == ""
    again = api_client.post(f"/api/v1/research/participants/{person.pk}/erase", {}, format="json")
    assert again.status_code == 400
    assert again.json()["errors"]["participant"] == ["This participant was already erased; erasure cannot be repeated."]
