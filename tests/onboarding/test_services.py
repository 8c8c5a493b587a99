import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from onboarding import selectors, services
from onboarding.models import Enrollment, EnrollmentTask, Track
from portal.models import AuditEntry, Notification
from portal.services import audit_record
from tests.factories import UserFactory
from tests.onboarding.factories import (
    ArticleFactory,
    ModuleFactory,
    TaskFactory,
    TrackFactory,
    answers_for,
    published_track,
)

TODAY = timezone.localdate


@pytest.fixture
def manager(db):
    return UserFactory(role="pm")


@pytest.fixture
def newbie(db, manager):
    user = UserFactory(role="pm")
    user.manager = manager
    user.save()
    return user


def test_publish_refuses_a_track_without_tasks(ops_lead):
    track = TrackFactory(title="Empty")
    with pytest.raises(ValidationError) as exc:
        services.track_publish(track=track, by=ops_lead)
    assert exc.value.message_dict == {"tasks": ["“Empty” has no active tasks: add at least one before publishing."]}


def test_only_ops_leads_publish(pm):
    track = TrackFactory()
    TaskFactory(module=ModuleFactory(track=track), track=track)
    with pytest.raises(PermissionDenied, match="Only ops leads can change shared standards."):
        services.track_publish(track=track, by=pm)


def test_publish_is_audited(ops_lead):
    track = published_track(by=ops_lead)
    entry = AuditEntry.objects.get(action="track.publish")
    assert entry.target_id == str(track.pk)
    assert entry.changes["version"] == 1
    assert len(entry.changes["added"]) == 4


def test_enrollment_gets_tasks_with_real_due_dates(ops_lead, newbie):
    track = published_track(by=ops_lead, offsets=(0, 7, 30))
    start = TODAY() - dt.timedelta(days=3)
    enrollment = services.enrollment_create(user=newbie, track=track, start_on=start, by=ops_lead)
    dues = sorted(enrollment.items.values_list("due_on", flat=True))
    assert dues == [start, start + dt.timedelta(days=7), start + dt.timedelta(days=30)]
    assert enrollment.manager == newbie.manager
    assert Notification.objects.filter(user=newbie, kind="onboarding.enrolled").count() == 1


def test_enrollment_needs_a_published_track_and_is_once_per_person(ops_lead, newbie):
    draft = TrackFactory(title="Draft track")
    with pytest.raises(ValidationError) as exc:
        services.enrollment_create(user=newbie, track=draft, start_on=TODAY(), by=ops_lead)
    assert exc.value.message_dict["track"] == [
        "“Draft track” is not published yet; an ops lead publishes it in the admin."
    ]
    track = published_track(by=ops_lead)
    services.enrollment_create(user=newbie, track=track, start_on=TODAY(), by=newbie)
    with pytest.raises(ValidationError) as exc:
        services.enrollment_create(user=newbie, track=track, start_on=TODAY(), by=ops_lead)
    assert exc.value.message_dict["user"] == [f"{newbie.display_name} is already enrolled in “{track.title}”."]


def test_who_may_enroll_whom(ops_lead, newbie, manager, viewer):
    track = published_track(by=ops_lead)
    stranger = UserFactory(role="pm")
    with pytest.raises(PermissionDenied, match="their manager or an ops lead"):
        services.enrollment_create(user=newbie, track=track, start_on=TODAY(), by=stranger)
    with pytest.raises(PermissionDenied):
        services.enrollment_create(user=viewer, track=track, start_on=TODAY(), by=viewer)
    enrollment = services.enrollment_create(user=newbie, track=track, start_on=TODAY(), by=manager)
    assert enrollment.enrolled_by == manager


def test_republishing_adds_new_tasks_keeps_progress_and_tells_enrollees(ops_lead, newbie):
    track = published_track(by=ops_lead, offsets=(0, 1, 30))
    start = TODAY() - dt.timedelta(days=20)
    enrollment = services.enrollment_create(user=newbie, track=track, start_on=start, by=ops_lead)
    first = enrollment.items.order_by("due_on").first()
    services.enrollment_task_complete(item=first, by=newbie)
    module = track.modules.get()
    early = TaskFactory(module=module, track=track, title="Meet the CEO", due_offset_days=2)
    late = TaskFactory(module=module, track=track, title="Write a retro", due_offset_days=60)
    retired = track.tasks.get(title=f"{track.title} task 2")
    retired.active = False
    retired.save()

    result = services.track_publish(track=track, by=ops_lead)

    assert result.summary == "2 new tasks, 1 retired"
    assert result.enrollments_updated == 1
    first.refresh_from_db()
    assert first.completed_at is not None  # progress kept
    assert EnrollmentTask.objects.filter(enrollment=enrollment, task=retired).exists()  # history kept
    # A new task whose natural date is already past gets a grace period instead of being overdue.
    assert enrollment.items.get(task=early).due_on == TODAY() + dt.timedelta(days=services.NEW_TASK_GRACE_DAYS)
    assert enrollment.items.get(task=late).due_on == start + dt.timedelta(days=60)
    note = Notification.objects.get(user=newbie, kind="onboarding.track_changed")
    assert note.title == f"“{track.title}” was updated: 2 new tasks, 1 retired"
    assert "+ Meet the CEO (due day 2)" in note.body
    assert f"− {track.title} task 2 (retired; your progress is kept)" in note.body
    # Publishing again with no change adds nothing and does not notify twice.
    again = services.track_publish(track=track, by=ops_lead)
    assert again.summary == "no task changes"
    assert Notification.objects.filter(user=newbie, kind="onboarding.track_changed").count() == 1


def test_completing_the_last_required_task_completes_the_enrollment(ops_lead, newbie, manager):
    track = published_track(by=ops_lead, offsets=(0, 1))
    enrollment = services.enrollment_create(user=newbie, track=track, start_on=TODAY(), by=manager)
    items = list(enrollment.items.all())
    services.enrollment_task_complete(item=items[0], by=newbie)
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE
    services.enrollment_task_complete(item=items[1], by=newbie)
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.COMPLETED
    assert Notification.objects.filter(user=manager, kind="onboarding.completed").count() == 1
    services.enrollment_task_reopen(item=items[1], by=newbie)
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE and enrollment.completed_at is None


def test_only_the_enrollee_ticks_off_their_tasks(ops_lead, newbie, manager):
    track = published_track(by=ops_lead)
    enrollment = services.enrollment_create(user=newbie, track=track, start_on=TODAY(), by=manager)
    with pytest.raises(PermissionDenied, match="Only the person enrolled can tick off their own tasks."):
        services.enrollment_task_complete(item=enrollment.items.first(), by=manager)


def test_quiz_grading_feedback_attempts_and_completion(ops_lead, newbie):
    track = published_track(by=ops_lead, offsets=(0,), quiz=True)
    quiz = track.quizzes.get()
    enrollment = services.enrollment_create(user=newbie, track=track, start_on=TODAY(), by=newbie)
    quiz_item = enrollment.items.get(task__quiz=quiz)

    failed = services.quiz_submit(enrollment=enrollment, quiz=quiz, answers=answers_for(quiz, right=0), by=newbie)
    assert failed.attempt.passed is False and failed.attempt.score == 0
    assert [r.correct for r in failed.questions] == [False, False]
    assert failed.questions[0].question.explanation == "Because the playbook says so."
    assert failed.attempts_left == 1

    passed = services.quiz_submit(enrollment=enrollment, quiz=quiz, answers=answers_for(quiz, right=1), by=newbie)
    assert passed.attempt.passed is True and passed.attempt.score == 0.5
    quiz_item.refresh_from_db()
    assert quiz_item.completed_at is not None
    with pytest.raises(ValidationError) as exc:
        services.quiz_submit(enrollment=enrollment, quiz=quiz, answers=answers_for(quiz, right=2), by=newbie)
    assert exc.value.message_dict == {"quiz": ["You already passed this quiz."]}


def test_quiz_attempts_run_out(ops_lead, newbie):
    track = published_track(by=ops_lead, quiz=True)
    quiz = track.quizzes.get()
    enrollment = services.enrollment_create(user=newbie, track=track, start_on=TODAY(), by=newbie)
    for _ in range(2):
        services.quiz_submit(enrollment=enrollment, quiz=quiz, answers=answers_for(quiz, right=0), by=newbie)
    with pytest.raises(ValidationError) as exc:
        services.quiz_submit(enrollment=enrollment, quiz=quiz, answers=answers_for(quiz, right=2), by=newbie)
    assert exc.value.message_dict["quiz"] == ["No attempts left: 2 allowed. Ask your buddy or an ops lead to reset it."]


def test_quiz_rejects_missing_and_foreign_answers(ops_lead, newbie):
    track = published_track(by=ops_lead, quiz=True)
    quiz = track.quizzes.get()
    q1, q2 = quiz.questions.order_by("order")
    enrollment = services.enrollment_create(user=newbie, track=track, start_on=TODAY(), by=newbie)
    foreign = q2.choices.first().pk
    with pytest.raises(ValidationError) as exc:
        services.quiz_submit(enrollment=enrollment, quiz=quiz, answers={q1.pk: [foreign]}, by=newbie)
    assert exc.value.message_dict == {
        f"q{q1.pk}": ["Question 1: that choice does not belong to this question."],
        f"q{q2.pk}": ["Question 2: choose an answer."],
    }
    both = [c.pk for c in q1.choices.all()]
    with pytest.raises(ValidationError) as exc:
        services.quiz_submit(
            enrollment=enrollment, quiz=quiz, answers={q1.pk: both, q2.pk: [q2.choices.first().pk]}, by=newbie
        )
    assert exc.value.message_dict == {f"q{q1.pk}": ["Question 1: choose exactly one answer."]}
    assert enrollment.attempts.count() == 0


def test_duplicate_copies_modules_tasks_and_quizzes_as_a_draft(ops_lead):
    track = published_track(by=ops_lead, quiz=True)
    copy = services.track_duplicate(track=track, by=ops_lead)
    assert copy.status == Track.Status.DRAFT and copy.slug == f"{track.slug}-copy"
    assert copy.modules.count() == 1
    assert copy.tasks.count() == track.tasks.count()
    quiz_task = copy.tasks.get(kind="quiz")
    assert quiz_task.quiz.track == copy
    assert quiz_task.quiz.questions.count() == 2
    assert sorted(copy.tasks.values_list("due_offset_days", flat=True)) == sorted(
        track.tasks.values_list("due_offset_days", flat=True)
    )


def test_milestones_come_from_the_audit_log_since_the_start_date(ops_lead, newbie):
    track = published_track(by=ops_lead)
    start = TODAY() - dt.timedelta(days=10)
    enrollment = services.enrollment_create(user=newbie, track=track, start_on=start, by=ops_lead)
    old = audit_record(actor=newbie, action="dashboard.create", target_label="before the start")
    AuditEntry.objects.filter(pk=old.pk).update(at=timezone.now() - dt.timedelta(days=30))
    audit_record(actor=newbie, action="insight.view", target_label="An insight")
    doc = audit_record(actor=newbie, action="document.create", target_label="My PRD", changes={"kind": "prd"})
    other_doc = audit_record(actor=ops_lead, action="document.create", target_label="Not mine")
    # Approvals are recorded by the reviewer; only approvals of the new PM's own PRD count.
    AuditEntry.objects.filter(pk=doc.pk).update(target_type="tooling.document", target_id="42")
    AuditEntry.objects.filter(pk=other_doc.pk).update(target_type="tooling.document", target_id="43")
    approve = audit_record(actor=ops_lead, action="document.approve", target_label="Not mine")
    AuditEntry.objects.filter(pk=approve.pk).update(target_type="tooling.document", target_id="43")

    reached = {m["key"]: m["days"] for m in selectors.today_for(enrollment).milestones}
    assert reached == {
        "prd_created": 10,
        "prd_approved": None,
        "experiment_started": None,
        "insight_read": 10,
        "dashboard_created": None,
    }
    approve = audit_record(actor=ops_lead, action="document.approve", target_label="My PRD")
    AuditEntry.objects.filter(pk=approve.pk).update(target_type="tooling.document", target_id="42")
    reached = {m["key"]: m["days"] for m in selectors.today_for(enrollment).milestones}
    assert reached["prd_approved"] == 10


def test_today_groups_overdue_due_soon_and_phases(ops_lead, newbie):
    track = published_track(by=ops_lead, offsets=(0, 1, 7, 30, 60, 90))
    enrollment = services.enrollment_create(
        user=newbie, track=track, start_on=TODAY() - dt.timedelta(days=3), by=newbie
    )
    services.enrollment_task_complete(item=enrollment.items.get(task__due_offset_days=0), by=newbie)
    view = selectors.today_for(enrollment)
    assert [i.task.due_offset_days for i in view.overdue] == [1]
    assert [i.task.due_offset_days for i in view.due_soon] == [7]
    assert [i.task.due_offset_days for i in view.upcoming] == [30, 60, 90]
    assert [(p.label, p.done, p.total) for p in view.phases] == [
        ("Day 1", 1, 2),
        ("Week 1", 0, 1),
        ("30 days", 0, 1),
        ("60 days", 0, 1),
        ("90 days", 0, 1),
    ]
    assert view.required_done == 1 and view.required_total == 6


def test_overdue_reminders_and_stale_notices_are_sent_once(ops_lead, newbie):
    track = published_track(by=ops_lead, offsets=(0, 1, 30))
    services.enrollment_create(user=newbie, track=track, start_on=TODAY() - dt.timedelta(days=5), by=newbie)
    assert services.overdue_reminders_send() == 2
    assert services.overdue_reminders_send() == 0
    Track.objects.filter(pk=track.pk).update(last_reviewed_on=TODAY() - dt.timedelta(days=200))
    assert services.stale_notices_send() == 1
    assert services.stale_notices_send() == 0
    note = Notification.objects.get(kind="onboarding.track_stale")
    assert note.user == track.owner
    assert note.title.startswith(f"Review “{track.title}”")


def test_weak_articles_are_flagged_to_their_owner(db):
    article = ArticleFactory(title="Release notes")
    for useful in (True, False, False):
        services.article_vote(article=article, user=UserFactory(), useful=useful)
    assert list(services.weak_articles()) == [article]
    assert services.stale_notices_send() == 1
    assert Notification.objects.get(kind="onboarding.article_weak").user == article.owner


def test_one_vote_per_person_per_article(db, pm):
    article = ArticleFactory()
    services.article_vote(article=article, user=pm, useful=True)
    services.article_vote(article=article, user=pm, useful=False, comment="Out of date")
    assert article.votes.count() == 1
    assert article.votes.get().useful is False


def test_article_full_text_search_uses_stemming_and_ranks_titles_first(ops_lead):
    a = services.article_save(title="Experiment guardrails", body="Pick metrics that must not regress.", by=ops_lead)
    b = services.article_save(title="Dashboards", body="A chart per experiment and its guardrails.", by=ops_lead)
    services.article_save(title="Roadmaps", body="Now, next, later.", by=ops_lead)
    found = list(selectors.article_list(query="guardrail"))
    assert found == [a, b]
    assert "\x01guardrails\x02" in found[1].headline
