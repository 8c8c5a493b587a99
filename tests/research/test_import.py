import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portal.models import AuditEntry
from research import services
from research.models import ConsentRecord, Participant
from tests.research.factories import ParticipantFactory

CSV = """Email Address,Full name,Company,country,timezone,plan,consent
ana@shop.test,Ana Costa,Bluebird,br,America/Sao_Paulo,pro,yes
bad-email,Nope,,US,,free,yes
,Empty,,US,,free,
ben@shop.test,Ben Hall,Helix,USA,,pro,yes
ANA@shop.test,Ana Again,,BR,,pro,
cara@shop.test,Cara Ito,Atlas,JP,Mars/Base,pro,
dev@shop.test,Dev Patel,Orchard,IN,Asia/Kolkata,enterprise,no
"""
MAPPING = {"email": "Email Address", "name": "Full name", "company": "Company"}


def test_import_creates_reports_rejected_rows_and_is_idempotent(researcher):
    result = services.participants_import(text=CSV, mapping=MAPPING, by=researcher)
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert result.rejected == [
        (3, "email “bad-email” is not a valid address"),
        (4, "email is empty"),
        (5, "country “USA” is not a two-letter ISO code"),
        (6, "duplicate of row 2 (same email)"),
        (7, "timezone “Mars/Base” is not an IANA timezone such as Europe/Berlin"),
    ]
    ana = Participant.objects.get(email="ana@shop.test")
    assert (ana.name, ana.company, ana.country, ana.attributes) == ("Ana Costa", "Bluebird", "BR", {"plan": "pro"})
    assert ConsentRecord.objects.filter(participant=ana, scope="research", granted=True).count() == 1
    assert not ConsentRecord.objects.filter(participant__email="dev@shop.test").exists()

    again = services.participants_import(text=CSV, mapping=MAPPING, by=researcher)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert Participant.objects.count() == 2
    assert ConsentRecord.objects.count() == 1
    assert AuditEntry.objects.filter(action="participant.import").count() == 2


def test_reimport_updates_changed_details_without_wiping_blanks(researcher):
    ParticipantFactory(email="ana@shop.test", name="Ana Costa", company="Bluebird", attributes={"plan": "free"})
    text = "email,name,company,plan\nana@shop.test,,Bluebird Bakery,pro\n"
    result = services.participants_import(text=text, by=researcher)
    assert (result.created, result.updated) == (0, 1)
    ana = Participant.objects.get(email="ana@shop.test")
    assert (ana.name, ana.company, ana.attributes) == ("Ana Costa", "Bluebird Bakery", {"plan": "pro"})


@pytest.mark.parametrize(
    ("text", "mapping", "message"),
    [
        ("", None, {"file": ["The file is empty or has no header row."]}),
        ("name\nAna\n", None, {"mapping": ["Map a column to email: participants are de-duplicated by email."]}),
        (
            "mail\na@b.test\n",
            {"email": "E-mail"},
            {"mapping": ["Column “E-mail” (mapped to email) is not in the file header."]},
        ),
    ],
)
def test_unusable_files_are_refused_with_a_reason(researcher, text, mapping, message):
    with pytest.raises(ValidationError) as exc:
        services.participants_import(text=text, mapping=mapping, by=researcher)
    assert exc.value.message_dict == message


def test_only_researchers_import(pm):
    with pytest.raises(PermissionDenied):
        services.participants_import(text="email\na@b.test\n", by=pm)


def test_import_page_shows_rejected_rows(client, researcher):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(researcher)
    upload = SimpleUploadedFile("panel.csv", CSV.encode(), content_type="text/csv")
    response = client.post(
        "/research/participants/import/",
        {"file": upload, "email_column": "Email Address", "name_column": "Full name", "company_column": "Company"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert '<td class="num">6</td><td>duplicate of row 2 (same email)</td>' in body


def test_import_api_reports_json_and_400s(api_client, researcher, pm):
    api_client.force_authenticate(researcher)
    ok = api_client.post("/api/v1/research/participants/import", {"csv": CSV, "mapping": MAPPING}, format="json")
    assert ok.status_code == 200
    assert ok.json()["created"] == 2
    assert {"row": 3, "reason": "email “bad-email” is not a valid address"} in ok.json()["rejected"]
    bad = api_client.post("/api/v1/research/participants/import", {"csv": "name\nx\n"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"mapping": ["Map a column to email: participants are de-duplicated by email."]}
    empty = api_client.post("/api/v1/research/participants/import", {}, format="json")
    assert empty.status_code == 400
    assert "file" in empty.json()["errors"]
    api_client.force_authenticate(pm)
    assert api_client.post("/api/v1/research/participants/import", {"csv": CSV}, format="json").status_code == 403
