"""Onboarding reads: the learner's Today view, the cohort table, ramp metrics, where people
get stuck, and the knowledge base (PostgreSQL full-text search)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import Count, F, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from onboarding.milestones import MILESTONES, annotate_milestones, milestones_of
from onboarding.models import (
    WEAK_MIN_VOTES,
    WEAK_USEFUL_SHARE,
    Article,
    Enrollment,
    EnrollmentTask,
    Module,
    Phase,
    QuizAnswer,
    Task,
    Track,
)
from portal.models import AuditEntry, User
from portal.search import HIGHLIGHT_START, HIGHLIGHT_STOP

# --- Tracks ---------------------------------------------------------------------------------


def track_list(*, user: User) -> QuerySet[Track]:
    qs = Track.objects.select_related("owner").annotate(
        n_tasks=Count("tasks", filter=Q(tasks__active=True), distinct=True),
        n_modules=Count("modules", distinct=True),
    )
    if not user.is_ops_lead:
        qs = qs.filter(status=Track.Status.PUBLISHED)
    return qs.order_by("title")


def track_get(*, user: User, slug: str) -> Track:
    return track_list(user=user).get(slug=slug)


def track_outline(track: Track) -> list:
    """Modules in order, each with its active tasks and linked articles (3 queries)."""
    return list(
        track.modules.prefetch_related(
            Prefetch("tasks", queryset=Task.objects.filter(active=True).select_related("quiz", "article")),
            "articles",
        )
    )


def preview_today(track: Track) -> list[tuple[str, list[EnrollmentTask]]]:
    """The track as a learner starting today would see it: tasks with real dates, by phase."""
    start = timezone.localdate()
    tasks = track.tasks.filter(active=True).select_related("module", "quiz", "article")
    by_phase: dict[str, list[EnrollmentTask]] = {key: [] for key, _label in Phase.choices}
    for task in tasks:
        by_phase[task.phase].append(EnrollmentTask(task=task, due_on=start + dt.timedelta(days=task.due_offset_days)))
    return [(label, by_phase[key]) for key, label in Phase.choices if by_phase[key]]


# --- The learner's Today view ------------------------------------------------------------------


@dataclass
class PhaseProgress:
    key: str
    label: str
    done: int = 0
    total: int = 0

    @property
    def pct(self) -> float:
        return self.done / self.total if self.total else 0.0


@dataclass
class Today:
    enrollment: Enrollment
    items: list[EnrollmentTask]
    overdue: list[EnrollmentTask] = field(default_factory=list)
    due_soon: list[EnrollmentTask] = field(default_factory=list)
    upcoming: list[EnrollmentTask] = field(default_factory=list)
    done_recent: list[EnrollmentTask] = field(default_factory=list)
    phases: list[PhaseProgress] = field(default_factory=list)
    milestones: list[dict] = field(default_factory=list)
    required_done: int = 0
    required_total: int = 0

    @property
    def pct(self) -> float:
        return self.required_done / self.required_total if self.required_total else 0.0

    @property
    def milestones_reached(self) -> int:
        return sum(1 for m in self.milestones if m["at"])

    @property
    def complete(self) -> bool:
        return self.required_total > 0 and self.required_done == self.required_total


def enrollment_list(*, user: User) -> QuerySet[Enrollment]:
    """Enrollments the user may see: their own, their reports', ones they buddy; all for ops leads."""
    qs = Enrollment.objects.select_related("user", "track", "buddy", "manager")
    if user.is_ops_lead:
        return qs
    return qs.filter(Q(user=user) | Q(manager=user) | Q(buddy=user) | Q(user__manager=user))


def current_enrollment(*, user: User) -> Enrollment | None:
    return (
        Enrollment.objects.filter(user=user)
        .exclude(status=Enrollment.Status.WITHDRAWN)
        .select_related("track", "buddy", "manager", "user")
        .order_by("status", "-start_on")  # active before completed
        .first()
    )


def today_for(enrollment: Enrollment, *, soon_days: int = 7) -> Today:
    today = timezone.localdate()
    items = list(
        enrollment.items.filter(task__active=True)
        .select_related("task__module", "task__quiz", "task__article")
        .order_by("due_on", "task__order", "pk")
    )
    view = Today(enrollment=enrollment, items=items)
    baseline = min((i.added_in_version for i in items), default=0)
    phases = {key: PhaseProgress(key, label) for key, label in Phase.choices}
    for item in items:
        item.is_new = item.added_in_version > baseline and not item.is_done
        phase = phases[item.task.phase]
        phase.total += 1
        phase.done += item.is_done
        if item.task.required:
            view.required_total += 1
            view.required_done += item.is_done
        if item.is_done:
            view.done_recent.append(item)
        elif item.due_on < today:
            view.overdue.append(item)
        elif item.due_on <= today + dt.timedelta(days=soon_days):
            view.due_soon.append(item)
        else:
            view.upcoming.append(item)
    view.upcoming = view.upcoming[:5]
    view.done_recent = sorted(view.done_recent, key=lambda i: i.completed_at, reverse=True)[:5]
    view.phases = [p for p in phases.values() if p.total]
    annotated = annotate_milestones(Enrollment.objects.filter(pk=enrollment.pk)).get()
    view.milestones = milestones_of(annotated)
    return view


# --- Cohort view ---------------------------------------------------------------------------------


def _on_track_flag(overdue_required: int) -> str:
    if overdue_required == 0:
        return "on_track"
    if overdue_required <= 2:
        return "at_risk"
    return "behind"


FLAG_LABELS = {"on_track": "On track", "at_risk": "At risk", "behind": "Behind", "completed": "Completed"}


def cohort_rows(*, user: User, track: Track | None = None, cohort: str = "", status: str = "") -> list[Enrollment]:
    """One row per enrollment the user may see, with % done, overdue count, flag and last
    activity — two queries whatever the number of people (enrollments, then their task
    counts grouped by enrollment id, which keeps the wide joined rows out of the GROUP BY)."""
    today = timezone.localdate()
    last_audit = AuditEntry.objects.filter(actor=OuterRef("user")).order_by("-at").values("at")[:1]
    qs = enrollment_list(user=user).annotate(last_audit_at=Subquery(last_audit))
    if track is not None:
        qs = qs.filter(track=track)
    if cohort:
        year, _, month = cohort.partition("-")
        if year.isdigit() and month.isdigit():
            qs = qs.filter(start_on__year=int(year), start_on__month=int(month))
    if status:
        qs = qs.filter(status=status)
    rows = list(qs.order_by("-start_on", "user__username"))
    required = Q(task__required=True)
    open_late = Q(completed_at__isnull=True, due_on__lt=today)
    stats = {
        s["enrollment_id"]: s
        for s in EnrollmentTask.objects.filter(enrollment_id__in=[r.pk for r in rows], task__active=True)
        .values("enrollment_id")
        .annotate(
            n_required=Count("pk", filter=required),
            n_required_done=Count("pk", filter=required & Q(completed_at__isnull=False)),
            n_overdue=Count("pk", filter=open_late),
            n_overdue_required=Count("pk", filter=required & open_late),
            last_task_at=Max("completed_at"),
        )
    }
    empty = {"n_required": 0, "n_required_done": 0, "n_overdue": 0, "n_overdue_required": 0, "last_task_at": None}
    for row in rows:
        for key, value in stats.get(row.pk, empty).items():
            setattr(row, key, value)
        row.pct_done = row.n_required_done / row.n_required if row.n_required else 0.0
        row.flag = "completed" if row.status == Enrollment.Status.COMPLETED else _on_track_flag(row.n_overdue_required)
        row.flag_label = FLAG_LABELS[row.flag]
        stamps = [t for t in (row.last_task_at, row.last_audit_at) if t]
        row.last_activity = max(stamps) if stamps else None
    return rows


def cohorts_available(*, user: User) -> list[str]:
    dates = enrollment_list(user=user).dates("start_on", "month", order="DESC")
    return [d.strftime("%Y-%m") for d in dates]


# --- Ramp metrics ------------------------------------------------------------------------------


@dataclass
class RampRow:
    enrollment: Enrollment
    days_to_required_done: int | None
    milestones: list[dict]


@dataclass
class CohortRamp:
    cohort: str
    people: int
    median_days_done: float | None
    median_days: dict[str, float | None]
    reached: dict[str, int]

    @property
    def median_list(self) -> list[float | None]:
        return [self.median_days[m.key] for m in MILESTONES]


def ramp_rows(*, user: User, track: Track | None = None) -> list[RampRow]:
    qs = enrollment_list(user=user).exclude(status=Enrollment.Status.WITHDRAWN)
    if track is not None:
        qs = qs.filter(track=track)
    rows = []
    for enrollment in annotate_milestones(qs).order_by("start_on", "user__username"):
        days = (enrollment.completed_at.date() - enrollment.start_on).days if enrollment.completed_at else None
        rows.append(RampRow(enrollment, days, milestones_of(enrollment)))
    return rows


def _median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def ramp_by_cohort(rows: list[RampRow]) -> list[CohortRamp]:
    by_cohort: dict[str, list[RampRow]] = defaultdict(list)
    for row in rows:
        by_cohort[row.enrollment.cohort].append(row)
    result = []
    for cohort in sorted(by_cohort):
        group = by_cohort[cohort]
        medians, reached = {}, {}
        for milestone in MILESTONES:
            values = [
                m["days"] for r in group for m in r.milestones if m["key"] == milestone.key and m["days"] is not None
            ]
            medians[milestone.key] = _median(values)
            reached[milestone.key] = len(values)
        done = [r.days_to_required_done for r in group if r.days_to_required_done is not None]
        result.append(CohortRamp(cohort, len(group), _median(done), medians, reached))
    return result


def stuck_tasks(*, user: User, track: Track | None = None, limit: int = 10) -> list[dict]:
    """Tasks most often overdue: still open past due, or completed after their due date."""
    today = timezone.localdate()
    qs = EnrollmentTask.objects.filter(enrollment__in=enrollment_list(user=user).values("pk"), task__active=True)
    if track is not None:
        qs = qs.filter(task__track=track)
    late = Q(completed_at__isnull=True, due_on__lt=today) | Q(completed_at__date__gt=F("due_on"))
    rows = (
        qs.values("task_id", "task__title", "task__track__title", "task__due_offset_days")
        .annotate(
            assigned=Count("pk", filter=Q(due_on__lt=today) | Q(completed_at__isnull=False)),
            late=Count("pk", filter=late),
        )
        .filter(late__gt=0)
        .order_by("-late", "task__title")[:limit]
    )
    return [{**r, "rate": r["late"] / r["assigned"] if r["assigned"] else 0.0} for r in rows]


def missed_questions(*, user: User, track: Track | None = None, limit: int = 10) -> list[dict]:
    qs = QuizAnswer.objects.filter(attempt__enrollment__in=enrollment_list(user=user).values("pk"))
    if track is not None:
        qs = qs.filter(question__quiz__track=track)
    rows = (
        qs.values("question_id", "question__text", "question__quiz__title")
        .annotate(answered=Count("pk"), missed=Count("pk", filter=Q(correct=False)))
        .filter(missed__gt=0)
        .order_by("-missed", "question_id")[:limit]
    )
    return [{**r, "rate": r["missed"] / r["answered"]} for r in rows]


# --- Knowledge base --------------------------------------------------------------------------------


def article_list(*, query: str = "", tag: str = "") -> QuerySet[Article]:
    qs = Article.objects.select_related("owner").annotate(
        n_votes=Count("votes"), n_useful=Count("votes", filter=Q(votes__useful=True))
    )
    if tag:
        qs = qs.filter(tags__contains=[tag])
    if query:
        sq = SearchQuery(query, search_type="websearch", config="english")
        qs = (
            qs.filter(search_vector=sq)
            .annotate(
                rank=SearchRank(F("search_vector"), sq),
                headline=SearchHeadline(
                    "body",
                    sq,
                    config="english",
                    start_sel=HIGHLIGHT_START,
                    stop_sel=HIGHLIGHT_STOP,
                    max_words=30,
                    min_words=12,
                ),
            )
            .order_by("-rank", "title")
        )
    else:
        qs = qs.order_by("title")
    return qs


def article_get(*, slug: str) -> Article:
    modules = Prefetch("modules", queryset=Module.objects.select_related("track"))
    return article_list().prefetch_related(modules).get(slug=slug)


def article_is_weak(article: Article) -> bool:
    """Enough votes, and too few of them say “useful” (article_list() annotates the counts)."""
    return article.n_votes >= WEAK_MIN_VOTES and article.n_useful < article.n_votes * WEAK_USEFUL_SHARE


def article_tags() -> list[str]:
    tags = set()
    for row in Article.objects.values_list("tags", flat=True):
        tags.update(row)
    return sorted(tags)
