import datetime as dt
import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from onboarding import services
from onboarding.milestones import annotate_milestones
from onboarding.models import Article, Enrollment, EnrollmentTask, QuizAttempt, Task, Track
from onboarding.tasks import send_overdue_reminders, send_stale_notices
from portal.models import AuditEntry, Notification
from portal.services import audit_record
from tests.factories import UserFactory
from tests.onboarding.factories import published_track


def _counts():
    return (
        Track.objects.count(),
        Task.objects.count(),
        Enrollment.objects.count(),
        EnrollmentTask.objects.filter(completed_at__isnull=False).count(),
        QuizAttempt.objects.count(),
        Article.objects.count(),
        AuditEntry.objects.filter(target_id__startswith="onboarding-demo-").count(),
    )


def test_seed_demo_is_idempotent_and_newpm_is_three_weeks_in(db):
    # Another app's demo made a PRD for lucas "now" (as the tooling demo does).
    lucas_user = UserFactory(username="lucas")
    audit_record(actor=lucas_user, action="document.create", target_label="Their PRD", changes={"kind": "prd"})
    call_command("seed_demo", "--small", "--only", "onboarding")
    first = _counts()
    call_command("seed_demo", "--small", "--only", "onboarding")
    assert _counts() == first

    track = Track.objects.get(slug="new-pm-90-days")
    assert track.status == Track.Status.PUBLISHED
    assert track.modules.count() >= 5 and track.tasks.count() >= 30 and track.quizzes.count() == 2
    newpm = Enrollment.objects.get(user__username="newpm", track=track)
    assert newpm.start_on == timezone.localdate() - dt.timedelta(days=21)
    overdue = newpm.items.filter(completed_at__isnull=True, due_on__lt=timezone.localdate())
    assert [i.task.title for i in overdue] == ["Find your product's north-star metric and its last 90 days"]
    assert newpm.items.filter(completed_at__isnull=False).count() > 10
    assert Enrollment.objects.filter(status=Enrollment.Status.COMPLETED).exists()  # a cohort at different stages
    # Lucas started 8 months ago: his first PRD is the backdated one, not a document made "now".
    lucas = annotate_milestones(Enrollment.objects.filter(user__username="lucas")).get()
    assert 10 < (lucas.ms_prd_created.date() - lucas.start_on).days < 60
    assert AuditEntry.objects.filter(actor__username="lucas", action="document.create").count() == 2


@pytest.mark.django_db(transaction=True)
def test_periodic_tasks_notify_through_a_real_worker_once_per_key(celery_worker_thread):
    ops = UserFactory(role="ops_lead")
    user = UserFactory(role="pm")
    track = published_track(by=ops, offsets=(0, 1, 30))
    services.enrollment_create(user=user, track=track, start_on=timezone.localdate() - dt.timedelta(days=5), by=user)
    Track.objects.filter(pk=track.pk).update(last_reviewed_on=timezone.localdate() - dt.timedelta(days=365))
    for _ in range(2):  # run twice: still one notification per key
        send_overdue_reminders.delay()
        send_stale_notices.delay()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if (
            Notification.objects.filter(kind="onboarding.overdue").count() == 2
            and Notification.objects.filter(kind="onboarding.track_stale").exists()
        ):
            break
        time.sleep(0.2)
    time.sleep(0.5)
    assert sorted(Notification.objects.filter(kind="onboarding.overdue").values_list("title", flat=True)) == [
        f"Overdue: {track.title} task 1",
        f"Overdue: {track.title} task 2",
    ]
    assert Notification.objects.filter(kind="onboarding.track_stale", user=track.owner).count() == 1
