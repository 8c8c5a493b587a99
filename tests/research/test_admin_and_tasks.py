import time

import pytest

from portal.models import AuditEntry
from research.models import ContactLog, EligibilityRule, Participant
from research.tasks import participant_stats_refresh
from tests.factories import UserFactory
from tests.research.factories import HighlightFactory, InsightFactory, ParticipantFactory, StudyFactory


@pytest.fixture
def staff_researcher(db):
    user = UserFactory(role="researcher")
    user.refresh_from_db()
    return user


def test_research_ops_use_the_admin(client, staff_researcher, django_assert_max_num_queries):
    HighlightFactory()
    InsightFactory()
    StudyFactory()
    client.force_login(staff_researcher)
    for model in ["eligibilityrule", "tag", "participant", "study", "session", "incentive", "highlight", "insight"]:
        with django_assert_max_num_queries(20):
            response = client.get(f"/admin/research/{model}/")
        assert response.status_code == 200, model
    response = client.post(
        "/admin/research/eligibilityrule/add/",
        {
            "name": "Enterprise accounts",
            "description": "",
            "cooldown_days": 90,
            "max_sessions": 1,
            "window_days": 365,
            "no_show_limit": 1,
            "consent_scope": "research",
            "require_consent": "on",
            "exclude_opted_out": "on",
        },
    )
    assert response.status_code == 302
    rule = EligibilityRule.objects.get(name="Enterprise accounts")
    assert AuditEntry.objects.filter(action="eligibility_rule.create", target_id=str(rule.pk)).exists()


def test_participants_cannot_be_deleted_in_the_admin(client, staff_researcher):
    person = ParticipantFactory()
    client.force_login(staff_researcher)
    assert client.get(f"/admin/research/participant/{person.pk}/delete/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_nightly_stats_task_repairs_columns_edited_outside_services(celery_worker_thread):
    person = ParticipantFactory()
    ContactLog.objects.bulk_create([ContactLog(participant=person, kind="invited", at=person.created_at)])
    assert Participant.objects.get(pk=person.pk).last_contacted_at is None
    result = participant_stats_refresh.delay([person.pk])
    deadline = time.monotonic() + 20
    while Participant.objects.get(pk=person.pk).last_contacted_at is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert Participant.objects.get(pk=person.pk).last_contacted_at == person.created_at
    assert result.id
