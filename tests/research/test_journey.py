"""The issue's "done when": a researcher imports a panel, recruits, records a session and a
highlight, publishes an insight; a PM from another product finds it by search and sees the
evidence without anyone's email."""

from django.core.files.uploadedfile import SimpleUploadedFile

from research.models import Insight, Participant, Session, Study
from tests.factories import ProductFactory, UserFactory

PANEL = "email,name,company,country,plan,consent\n" + "".join(
    f"shopper{i}@panel.test,Shopper {i},Acme {i},US,{'pro' if i % 2 else 'free'},yes\n" for i in range(6)
)


def test_researcher_to_pm_journey(client, researcher, rule):
    checkout, billing = ProductFactory(name="Checkout", slug="checkout"), ProductFactory(name="Billing", slug="billing")
    client.force_login(researcher)
    upload = SimpleUploadedFile("panel.csv", PANEL.encode(), content_type="text/csv")
    assert client.post("/research/participants/import/", {"file": upload}).status_code == 200
    assert Participant.objects.count() == 6

    client.post(
        "/research/studies/new/",
        {
            "title": "Checkout fees",
            "products": [checkout.pk],
            "method": "interview",
            "target_sessions": 3,
            "screener": '[{"attribute": "plan", "op": "eq", "value": "pro"}]',
            "eligibility_rule": rule.pk,
        },
    )
    study = Study.objects.get(title="Checkout fees")
    client.post(f"/research/studies/{study.pk}/status", {"status": "recruiting"})
    page = client.get(f"/research/studies/{study.pk}/").content.decode()
    assert "<strong>3</strong> eligible of 3 who pass the screener" in page
    person = Participant.objects.get(email="shopper1@panel.test")
    client.post(f"/research/studies/{study.pk}/invite", {"participant": [person.pk]})
    client.post(
        f"/research/studies/{study.pk}/sessions",
        {"participant": person.pk, "scheduled_at": "2026-11-20T10:00", "duration_minutes": 45},
    )
    session = Session.objects.get(study=study)
    client.post(f"/research/sessions/{session.pk}/status", {"status": "completed"})
    client.post(f"/research/sessions/{session.pk}/", {"notes": "The **shipping fee** appeared only at the end."})
    client.post(
        f"/research/sessions/{session.pk}/", {"excerpt": "shipping fee appeared only at the end", "tags": "pricing"}
    )
    highlight = session.highlights.get()
    client.post(
        f"/research/insights/new/?study={study.pk}",
        {
            "statement": "Late shipping fees make shoppers hesitate",
            "products": [checkout.pk],
            "confidence": "high",
            "tags": "pricing",
            "highlights": str(highlight.pk),
            "study": study.pk,
        },
    )
    insight = Insight.objects.get()
    client.post(f"/research/insights/{insight.pk}/publish")
    insight.refresh_from_db()
    assert insight.status == "published"

    billing_pm = UserFactory(role="pm")
    billing.members.add(billing_pm)
    client.force_login(billing_pm)
    results = client.get("/research/search/?q=shipping+fees").content.decode()
    assert insight.get_absolute_url() in results
    page = client.get(insight.get_absolute_url()).content.decode()
    assert "shipping fee appeared only at the end" in page
    assert person.pseudonym in page
    assert "shopper1@panel.test" not in page and "Shopper 1" not in page
