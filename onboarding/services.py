"""Onboarding writes: publishing and duplicating tracks, enrolling, progress, quizzes,
knowledge-base votes and the periodic reminders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchVector
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from onboarding.models import (
    WEAK_MIN_VOTES,
    WEAK_USEFUL_SHARE,
    Article,
    ArticleVote,
    Choice,
    Enrollment,
    EnrollmentTask,
    Module,
    Question,
    Quiz,
    QuizAnswer,
    QuizAttempt,
    Task,
    Track,
)
from portal.models import User
from portal.permissions import require_ops_lead
from portal.services import audit_record, notify

# A task added to a running enrollment is never due in the past: it gets at least this long.
NEW_TASK_GRACE_DAYS = 7


# --- Tracks -------------------------------------------------------------------------------


@dataclass
class PublishResult:
    track: Track
    added: list[Task] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    enrollments_updated: int = 0

    @property
    def summary(self) -> str:
        parts = []
        if self.added:
            parts.append(f"{len(self.added)} new task{'s' if len(self.added) != 1 else ''}")
        if self.changed:
            parts.append(f"{len(self.changed)} changed")
        if self.retired:
            parts.append(f"{len(self.retired)} retired")
        return ", ".join(parts) or "no task changes"


def _track_snapshot(track: Track) -> dict[str, list]:
    return {str(t.pk): [t.title, t.due_offset_days] for t in track.tasks.filter(active=True)}


@transaction.atomic
def track_publish(*, track: Track, by: User) -> PublishResult:
    """Publish a track (again). Running enrollments get the new tasks with real due dates,
    keep everything they completed, and are told what changed."""
    require_ops_lead(by)
    track = Track.objects.select_for_update().get(pk=track.pk)
    tasks = list(track.tasks.filter(active=True).select_related("module"))
    if not tasks:
        raise ValidationError({"tasks": f"“{track.title}” has no active tasks: add at least one before publishing."})
    if track.status == Track.Status.ARCHIVED:
        raise ValidationError({"status": "Archived tracks cannot be published; un-archive it first."})
    before = track.published_tasks or {}
    after = _track_snapshot(track)
    first_publish = track.version == 0
    result = PublishResult(track=track)
    result.added = [t for t in tasks if str(t.pk) not in before]
    result.retired = [title for pk, (title, _off) in before.items() if pk not in after]
    result.changed = [
        after[pk][0] for pk in after if pk in before and before[pk] != after[pk] and pk not in result.retired
    ]

    track.version += 1
    track.status = Track.Status.PUBLISHED
    track.published_at = timezone.now()
    track.published_tasks = after
    track.full_clean()
    track.save()

    today = timezone.localdate()
    running = list(track.enrollments.filter(status=Enrollment.Status.ACTIVE).select_related("user"))
    existing = set(EnrollmentTask.objects.filter(enrollment__in=running).values_list("enrollment_id", "task_id"))
    new_items = []
    for enrollment in running:
        for task in tasks:
            if (enrollment.pk, task.pk) in existing:
                continue
            due = enrollment.start_on + dt.timedelta(days=task.due_offset_days)
            if due < today:
                due = today + dt.timedelta(days=NEW_TASK_GRACE_DAYS)
            new_items.append(
                EnrollmentTask(enrollment=enrollment, task=task, due_on=due, added_in_version=track.version)
            )
    EnrollmentTask.objects.bulk_create(new_items)
    # Open items of tasks whose offset changed follow the new offset (never into the past).
    changed_offsets = {int(pk) for pk in after if pk in before and before[pk][1] != after[pk][1]}
    if changed_offsets:
        for item in EnrollmentTask.objects.filter(
            enrollment__in=running, task_id__in=changed_offsets, completed_at__isnull=True
        ).select_related("task", "enrollment"):
            item.due_on = max(item.enrollment.start_on + dt.timedelta(days=item.task.due_offset_days), today)
            item.save(update_fields=["due_on"])
    Enrollment.objects.filter(pk__in=[e.pk for e in running]).update(track_version=track.version)
    result.enrollments_updated = len(running)

    audit_record(
        actor=by,
        action="track.publish",
        target=track,
        changes={
            "version": track.version,
            "added": [t.title for t in result.added],
            "changed": result.changed,
            "retired": result.retired,
            "enrollments_updated": result.enrollments_updated,
        },
    )
    if not first_publish and (result.added or result.changed or result.retired):
        lines = [f"+ {t.title} (due day {t.due_offset_days})" for t in result.added]
        lines += [f"~ {title}" for title in result.changed]
        lines += [f"− {title} (retired; your progress is kept)" for title in result.retired]
        for enrollment in running:
            notify(
                user=enrollment.user,
                kind="onboarding.track_changed",
                title=f"“{track.title}” was updated: {result.summary}",
                body="\n".join(lines),
                url=reverse("onboarding:today"),
                dedupe_key=f"onboarding.track_changed:{track.pk}:v{track.version}",
            )
    return result


def _unique_slug(model, base: str) -> str:
    slug, n = base[:70], 2
    while model.objects.filter(slug=slug).exists():
        slug = f"{base[:66]}-{n}"
        n += 1
    return slug


@transaction.atomic
def track_duplicate(*, track: Track, by: User) -> Track:
    """A draft copy with its modules, quizzes and active tasks (no enrollments)."""
    require_ops_lead(by)
    copy = Track.objects.create(
        title=f"{track.title} (copy)"[:160],
        slug=_unique_slug(Track, f"{track.slug}-copy"),
        audience=track.audience,
        owner=by,
        description=track.description,
        review_interval_days=track.review_interval_days,
        last_reviewed_on=timezone.localdate(),
    )
    modules = {}
    for module in track.modules.prefetch_related("articles"):
        modules[module.pk] = Module.objects.create(
            track=copy, order=module.order, title=module.title, content=module.content, links=module.links
        )
        modules[module.pk].articles.set(module.articles.all())
    quizzes = {}
    for quiz in track.quizzes.prefetch_related("questions__choices"):
        quizzes[quiz.pk] = Quiz.objects.create(
            track=copy,
            title=quiz.title,
            description=quiz.description,
            pass_mark=quiz.pass_mark,
            max_attempts=quiz.max_attempts,
        )
        for question in quiz.questions.all():
            q = Question.objects.create(
                quiz=quizzes[quiz.pk],
                order=question.order,
                text=question.text,
                kind=question.kind,
                explanation=question.explanation,
            )
            Choice.objects.bulk_create(
                Choice(question=q, order=c.order, text=c.text, correct=c.correct) for c in question.choices.all()
            )
    Task.objects.bulk_create(
        Task(
            track=copy,
            module=modules[t.module_id],
            order=t.order,
            title=t.title,
            kind=t.kind,
            description=t.description,
            required=t.required,
            due_offset_days=t.due_offset_days,
            quiz=quizzes.get(t.quiz_id),
            article_id=t.article_id,
            url=t.url,
        )
        for t in track.tasks.filter(active=True)
    )
    audit_record(actor=by, action="track.duplicate", target=copy, changes={"from": track.pk})
    return copy


@transaction.atomic
def track_mark_reviewed(*, track: Track, by: User) -> Track:
    require_ops_lead(by)
    track.last_reviewed_on = timezone.localdate()
    track.save(update_fields=["last_reviewed_on", "updated_at"])
    audit_record(actor=by, action="track.review", target=track)
    return track


# --- Enrollments --------------------------------------------------------------------------


def can_enroll(*, by: User, user: User) -> bool:
    if not by.is_authenticated or by.is_viewer:
        return False
    return by.pk == user.pk or by.is_ops_lead or user.manager_id == by.pk


def can_see_enrollment(*, by: User, enrollment: Enrollment) -> bool:
    return (
        by.is_ops_lead
        or by.pk in (enrollment.user_id, enrollment.manager_id, enrollment.buddy_id)
        or enrollment.user.manager_id == by.pk
    )


@transaction.atomic
def enrollment_create(
    *,
    user: User,
    track: Track,
    start_on: dt.date,
    by: User,
    buddy: User | None = None,
    manager: User | None = None,
) -> Enrollment:
    """Enroll someone (themself, their manager or an ops lead does it) with dated tasks."""
    if not can_enroll(by=by, user=user):
        raise PermissionDenied("Only the person themself, their manager or an ops lead can enroll them.")
    errors = {}
    if track.status != Track.Status.PUBLISHED:
        errors["track"] = f"“{track.title}” is not published yet; an ops lead publishes it in the admin."
    if Enrollment.objects.filter(user=user, track=track).exists():
        errors["user"] = f"{user.display_name} is already enrolled in “{track.title}”."
    if buddy is not None and buddy.pk == user.pk:
        errors["buddy"] = "A buddy must be someone else."
    if start_on < timezone.localdate() - dt.timedelta(days=365):
        errors["start_on"] = "The start date is more than a year ago; pick a date within the last year."
    if errors:
        raise ValidationError(errors)
    enrollment = Enrollment(
        user=user,
        track=track,
        start_on=start_on,
        buddy=buddy,
        manager=manager or user.manager,
        enrolled_by=by,
        track_version=track.version,
    )
    enrollment.full_clean()
    enrollment.save()
    EnrollmentTask.objects.bulk_create(
        EnrollmentTask(
            enrollment=enrollment,
            task=task,
            due_on=start_on + dt.timedelta(days=task.due_offset_days),
            added_in_version=track.version,
        )
        for task in track.tasks.filter(active=True)
    )
    audit_record(
        actor=by,
        action="enrollment.create",
        target=enrollment,
        changes={"user": user.username, "track": track.slug, "start_on": start_on.isoformat()},
    )
    if by.pk != user.pk:
        notify(
            user=user,
            kind="onboarding.enrolled",
            title=f"You are enrolled in “{track.title}”, starting {start_on:%-d %b}",
            body=f"{by.display_name} enrolled you. Your first tasks are waiting in Onboarding → Today.",
            url=reverse("onboarding:today"),
            dedupe_key=f"onboarding.enrolled:{enrollment.pk}",
        )
    return enrollment


def _refresh_completion(enrollment: Enrollment) -> None:
    open_required = enrollment.items.filter(task__required=True, task__active=True, completed_at__isnull=True).exists()
    if not open_required and enrollment.status == Enrollment.Status.ACTIVE:
        enrollment.status = Enrollment.Status.COMPLETED
        enrollment.completed_at = timezone.now()
        enrollment.save(update_fields=["status", "completed_at"])
        audit_record(actor=enrollment.user, action="enrollment.complete", target=enrollment)
        if enrollment.manager_id:
            notify(
                user=enrollment.manager,
                kind="onboarding.completed",
                title=f"{enrollment.user.display_name} finished “{enrollment.track.title}”",
                body=f"All required tasks done on day {enrollment.day_number}.",
                url=enrollment.get_absolute_url(),
                dedupe_key=f"onboarding.completed:{enrollment.pk}",
            )
    elif open_required and enrollment.status == Enrollment.Status.COMPLETED:
        enrollment.status = Enrollment.Status.ACTIVE
        enrollment.completed_at = None
        enrollment.save(update_fields=["status", "completed_at"])


def _require_own(item_or_enrollment_user_id: int, by: User) -> None:
    if by.pk != item_or_enrollment_user_id and not by.is_ops_lead:
        raise PermissionDenied("Only the person enrolled can tick off their own tasks.")


@transaction.atomic
def enrollment_task_complete(*, item: EnrollmentTask, by: User) -> EnrollmentTask:
    _require_own(item.enrollment.user_id, by)
    if item.task.kind == Task.Kind.QUIZ:
        raise ValidationError({"task": "Quiz tasks are completed by passing the quiz."})
    if item.completed_at is None:
        item.completed_at = timezone.now()
        item.save(update_fields=["completed_at"])
    _refresh_completion(item.enrollment)
    return item


@transaction.atomic
def enrollment_task_reopen(*, item: EnrollmentTask, by: User) -> EnrollmentTask:
    _require_own(item.enrollment.user_id, by)
    if item.task.kind == Task.Kind.QUIZ:
        raise ValidationError({"task": "A passed quiz stays passed."})
    item.completed_at = None
    item.save(update_fields=["completed_at"])
    _refresh_completion(item.enrollment)
    return item


@dataclass
class QuestionResult:
    question: Question
    chosen: set[int]
    correct_ids: set[int]
    correct: bool


@dataclass
class QuizResult:
    attempt: QuizAttempt
    questions: list[QuestionResult]
    attempts_left: int | None  # None = unlimited


def quiz_attempts_left(*, enrollment: Enrollment, quiz: Quiz) -> int | None:
    if not quiz.max_attempts:
        return None
    return max(0, quiz.max_attempts - enrollment.attempts.filter(quiz=quiz).count())


@transaction.atomic
def quiz_submit(*, enrollment: Enrollment, quiz: Quiz, answers: dict[int, list[int]], by: User) -> QuizResult:
    """Grade a quiz attempt; passing it completes the enrollment's quiz task(s)."""
    _require_own(enrollment.user_id, by)
    Enrollment.objects.select_for_update().get(pk=enrollment.pk)  # serialise attempts per person
    if quiz.track_id != enrollment.track_id:
        raise ValidationError({"quiz": "This quiz is not part of your track."})
    if enrollment.attempts.filter(quiz=quiz, passed=True).exists():
        raise ValidationError({"quiz": "You already passed this quiz."})
    left = quiz_attempts_left(enrollment=enrollment, quiz=quiz)
    if left == 0:
        raise ValidationError(
            {"quiz": f"No attempts left: {quiz.max_attempts} allowed. Ask your buddy or an ops lead to reset it."}
        )
    questions = list(quiz.questions.prefetch_related("choices"))
    errors = {}
    for number, question in enumerate(questions, start=1):
        chosen = answers.get(question.pk) or []
        valid = {c.pk for c in question.choices.all()}
        if not chosen:
            errors[f"q{question.pk}"] = f"Question {number}: choose an answer."
        elif set(chosen) - valid:
            errors[f"q{question.pk}"] = f"Question {number}: that choice does not belong to this question."
        elif question.kind == Question.Kind.SINGLE and len(chosen) > 1:
            errors[f"q{question.pk}"] = f"Question {number}: choose exactly one answer."
    if errors:
        raise ValidationError(errors)
    results = []
    for question in questions:
        correct_ids = {c.pk for c in question.choices.all() if c.correct}
        chosen = set(answers[question.pk])
        results.append(QuestionResult(question, chosen, correct_ids, chosen == correct_ids))
    score = sum(r.correct for r in results) / len(results) if results else 0.0
    number = enrollment.attempts.filter(quiz=quiz).count() + 1
    attempt = QuizAttempt.objects.create(
        enrollment=enrollment, quiz=quiz, number=number, score=score, passed=score * 100 >= quiz.pass_mark
    )
    for r in results:
        answer = QuizAnswer.objects.create(attempt=attempt, question=r.question, correct=r.correct)
        answer.choices.set(r.chosen)
    if attempt.passed:
        enrollment.items.filter(task__quiz=quiz, completed_at__isnull=True).update(completed_at=attempt.submitted_at)
        _refresh_completion(enrollment)
    return QuizResult(attempt, results, quiz_attempts_left(enrollment=enrollment, quiz=quiz))


# --- Knowledge base -----------------------------------------------------------------------


def article_refresh_search(*, article: Article) -> None:
    Article.objects.filter(pk=article.pk).update(
        search_vector=SearchVector("title", weight="A", config="english")
        + SearchVector("summary", weight="B", config="english")
        + SearchVector("body", weight="C", config="english")
    )


@transaction.atomic
def article_save(
    *,
    title: str,
    body: str,
    by: User,
    owner: User | None = None,
    slug: str = "",
    kind: str = Article.Kind.HOW_TO,
    summary: str = "",
    tags: list[str] | None = None,
    reviewed_on: dt.date | None = None,
) -> Article:
    """Create or update (by slug) a knowledge article; ops leads own the knowledge base."""
    require_ops_lead(by)
    slug = slug or slugify(title)[:100]
    article = Article.objects.filter(slug=slug).first() or Article(slug=slug)
    article.title, article.body, article.kind, article.summary = title, body, kind, summary
    article.owner = owner or article.owner or by
    article.tags = sorted({t.strip().lower() for t in (tags or []) if t.strip()})
    article.reviewed_on = reviewed_on or timezone.localdate()
    article.full_clean()
    article.save()
    article_refresh_search(article=article)
    return article


@transaction.atomic
def article_vote(*, article: Article, user: User, useful: bool, comment: str = "") -> ArticleVote:
    """One vote per person per article (changing your mind replaces it)."""
    if not user.is_authenticated or user.is_viewer:
        raise PermissionDenied("You have view access: viewers can read articles but not vote.")
    vote, _ = ArticleVote.objects.update_or_create(
        article=article, user=user, defaults={"useful": useful, "comment": comment[:300]}
    )
    return vote


def weak_articles():
    return (
        Article.objects.annotate(n_votes=Count("votes"), n_useful=Count("votes", filter=Q(votes__useful=True)))
        .filter(n_votes__gte=WEAK_MIN_VOTES)
        .filter(n_useful__lt=F("n_votes") * WEAK_USEFUL_SHARE)
    )


# --- Periodic work (called by tasks) --------------------------------------------------------


def overdue_reminders_send() -> int:
    """Tell each person about each task that went overdue, once per task."""
    today = timezone.localdate()
    items = EnrollmentTask.objects.filter(
        enrollment__status=Enrollment.Status.ACTIVE,
        task__active=True,
        completed_at__isnull=True,
        due_on__lt=today,
    ).select_related("enrollment__user", "task")
    sent = 0
    for item in items:
        note = notify(
            user=item.enrollment.user,
            kind="onboarding.overdue",
            title=f"Overdue: {item.task.title}",
            body=f"Was due {item.due_on:%-d %b} ({(today - item.due_on).days} days ago).",
            url=reverse("onboarding:today"),
            dedupe_key=f"onboarding.overdue:{item.pk}",
        )
        sent += note is not None
    return sent


def stale_notices_send() -> int:
    """Tell owners about tracks past their review date and weak/stale articles, once per key."""
    sent = 0
    for track in Track.objects.exclude(status=Track.Status.ARCHIVED).select_related("owner"):
        if not (track.is_stale and track.owner_id):
            continue
        note = notify(
            user=track.owner,
            kind="onboarding.track_stale",
            title=f"Review “{track.title}”: last reviewed {track.last_reviewed_on:%-d %b %Y}",
            body=f"It is due for review every {track.review_interval_days} days. Check it is still right, "
            "then use “Mark reviewed” in the admin.",
            url=reverse("admin:onboarding_track_change", args=[track.pk]),
            dedupe_key=f"onboarding.track_stale:{track.pk}:{track.last_reviewed_on.isoformat()}",
        )
        sent += note is not None
    for article in weak_articles().select_related("owner"):
        if not article.owner_id:
            continue
        note = notify(
            user=article.owner,
            kind="onboarding.article_weak",
            title=f"Readers find “{article.title}” not useful",
            body=f"{article.n_useful} of {article.n_votes} readers said it was useful. Consider rewriting it.",
            url=article.get_absolute_url(),
            dedupe_key=f"onboarding.article_weak:{article.pk}:{article.reviewed_on.isoformat()}",
        )
        sent += note is not None
    return sent
