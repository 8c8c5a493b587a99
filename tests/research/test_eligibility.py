from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from research import eligibility, services
from research.models import ContactLog
from tests.research.factories import ConsentFactory, ContactFactory, ParticipantFactory, StudyFactory


def _consenting(**kwargs):
    person = ParticipantFactory(**kwargs)
    ConsentFactory(participant=person)
    return person


@pytest.fixture
def panel(rule):
    now = timezone.now()
    people = {
        "fresh": _consenting(),
        "opted_out": _consenting(opted_out=True),
        "cooldown": _consenting(),
        "max_sessions": _consenting(),
        "no_show": _consenting(),
        "no_consent": ParticipantFactory(),
        "expired": ParticipantFactory(),
        "withdrawn": ParticipantFactory(),
        "old_contact": _consenting(),
    }
    ContactFactory(participant=people["cooldown"], kind="invited", at=now - timedelta(days=5))
    ContactFactory(participant=people["max_sessions"], kind="attended", at=now - timedelta(days=40))
    ContactFactory(participant=people["max_sessions"], kind="attended", at=now - timedelta(days=90))
    ContactFactory(participant=people["no_show"], kind="no_show", at=now - timedelta(days=50))
    ContactFactory(participant=people["no_show"], kind="no_show", at=now - timedelta(days=70))
    ConsentFactory(participant=people["expired"], expires_at=now - timedelta(days=1))
    ConsentFactory(participant=people["withdrawn"], withdrawn_at=now - timedelta(days=1))
    # Outside the 180-day window: these sessions no longer count.
    ContactFactory(participant=people["old_contact"], kind="attended", at=now - timedelta(days=300))
    ContactFactory(participant=people["old_contact"], kind="attended", at=now - timedelta(days=310))
    ParticipantFactory(erased_at=now, email="")  # erased people are never candidates
    return people


def test_each_rule_excludes_and_is_counted(panel, rule):
    result = eligibility.evaluate(rule=rule)
    assert result.screened == 9
    assert result.excluded == {
        "in_study": 0,
        "opted_out": 1,
        "cooldown": 1,
        "max_sessions": 1,
        "no_show": 1,
        "consent": 3,
    }
    assert result.eligible == 2
    assert sorted(result.eligible_ids) == sorted([panel["fresh"].pk, panel["old_contact"].pk])


def test_rules_switched_off_in_the_admin_exclude_nobody(panel, rule):
    rule.require_consent = False
    rule.exclude_opted_out = False
    rule.max_sessions = 0
    rule.no_show_limit = 0
    rule.cooldown_days = 0
    result = eligibility.evaluate(rule=rule)
    assert result.eligible == 9
    assert set(result.excluded.values()) == {0}


def test_screener_filters_on_attributes_and_country(rule):
    pro_us = _consenting(attributes={"plan": "pro", "platform": "ios"}, country="US")
    _consenting(attributes={"plan": "free", "platform": "ios"}, country="US")
    ent_de = _consenting(attributes={"plan": "enterprise"}, country="DE")
    criteria = eligibility.validate_screener(
        [
            {"attribute": "plan", "op": "in", "value": "pro, enterprise"},
            {"attribute": "country", "op": "neq", "value": "gb"},
        ]
    )
    result = eligibility.evaluate(criteria=criteria, rule=rule)
    assert sorted(result.eligible_ids) == sorted([pro_us.pk, ent_de.pk])
    ios = eligibility.evaluate(criteria=[{"attribute": "platform", "op": "exists", "value": None}], rule=rule)
    assert ios.screened == 2


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        ({"attribute": "plan"}, "The screener must be a list of criteria."),
        (
            [{"attribute": "plan", "op": "like", "value": "x"}],
            "Criterion 1: unknown op “like”; use one of eq, neq, in, exists.",
        ),
        ([{"attribute": "", "op": "eq", "value": "x"}], "Criterion 1 has no attribute."),
        ([{"attribute": "plan", "op": "eq", "value": ""}], "Criterion 1: “plan” needs a value."),
    ],
)
def test_bad_screener_is_refused_with_the_criterion(db, criteria, message):
    with pytest.raises(ValidationError) as exc:
        eligibility.validate_screener(criteria)
    assert exc.value.message_dict == {"screener": [message]}


def test_invite_logs_contacts_and_refuses_ineligible_people(panel, rule, researcher):
    study = StudyFactory(owner=researcher, eligibility_rule=rule)
    with pytest.raises(ValidationError) as exc:
        services.study_invite(study=study, participant_ids=[panel["fresh"].pk, panel["cooldown"].pk], by=researcher)
    assert exc.value.message_dict == {"participants": [f"Not eligible for this study: {panel['cooldown'].pseudonym}."]}
    assert services.study_invite(study=study, participant_ids=[panel["fresh"].pk], by=researcher) == 1
    log = ContactLog.objects.get(study=study)
    assert (log.participant, log.kind, log.by) == (panel["fresh"], "invited", researcher)
    again = eligibility.evaluate(rule=rule, study_id=study.pk)
    assert again.excluded["in_study"] == 1
    assert panel["fresh"].pk not in again.eligible_ids


def test_candidates_page_shows_counts_per_rule(panel, rule, client, researcher, django_assert_max_num_queries):
    study = StudyFactory(owner=researcher, eligibility_rule=rule)
    client.force_login(researcher)
    with django_assert_max_num_queries(25):
        body = client.get(f"/research/studies/{study.pk}/").content.decode()
    assert "<strong>2</strong> eligible of 9 who pass the screener" in body
    assert 'No valid consent</td><td class="num">3</td>' in body
    assert panel["fresh"].name in body


def test_consent_and_contacts_through_services_update_eligibility_at_once(rule, researcher):
    person = ParticipantFactory()
    consent = services.consent_record(participant=person, by=researcher)
    assert eligibility.evaluate(rule=rule).eligible_ids == [person.pk]
    services.consent_withdraw(consent=consent, by=researcher)
    assert eligibility.evaluate(rule=rule).excluded["consent"] == 1
    services.consent_record(participant=person, by=researcher)
    services.contact_log(participant=person, kind="declined", by=researcher)
    result = eligibility.evaluate(rule=rule)
    assert (result.excluded["consent"], result.excluded["cooldown"], result.eligible) == (0, 1, 0)
