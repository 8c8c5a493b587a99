from django.core.management import call_command

from research.models import ContactLog, Highlight, Insight, Participant, Session, Study


def _counts():
    return tuple(m.objects.count() for m in (Participant, ContactLog, Study, Session, Highlight, Insight))


def test_seed_demo_is_idempotent_and_covers_every_status(db):
    call_command("seed_demo", "--small", "--only", "research")
    first = _counts()
    call_command("seed_demo", "--small", "--only", "research")
    assert _counts() == first
    assert set(Study.objects.values_list("status", flat=True)) == {
        "planning",
        "recruiting",
        "fieldwork",
        "synthesis",
        "shared",
        "archived",
    }
    assert Insight.objects.filter(status="published", highlights__isnull=False).exists()
    assert first[0] == 60
