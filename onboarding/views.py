"""Onboarding pages: Today, tracks, quizzes, cohort, ramp metrics, knowledge base. Thin:
parse input, call one service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from onboarding import charts, selectors, services
from onboarding.forms import EnrollForm, VoteForm
from onboarding.models import Article, Enrollment, EnrollmentTask, Question, Quiz, Track
from portal.models import User


def _errors_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _track_filter(request, user: User) -> Track | None:
    slug = request.GET.get("track", "")
    if not slug:
        return None
    return selectors.track_list(user=user).filter(slug=slug).first()


def index(request):
    if selectors.current_enrollment(user=request.user):
        return redirect("onboarding:today")
    if request.user.is_ops_lead or User.objects.filter(manager=request.user).exists():
        return redirect("onboarding:cohort")
    return redirect("onboarding:tracks")


# --- Learner -----------------------------------------------------------------------------


def today(request):
    enrollment = selectors.current_enrollment(user=request.user)
    if enrollment is None:
        return render(
            request, "onboarding/today.html", {"view": None, "tracks": selectors.track_list(user=request.user)}
        )
    return _render_today(request, enrollment, own=True)


def enrollment_detail(request, pk: int):
    enrollment = get_object_or_404(selectors.enrollment_list(user=request.user), pk=pk)
    return _render_today(request, enrollment, own=enrollment.user_id == request.user.pk)


def _render_today(request, enrollment: Enrollment, *, own: bool):
    view = selectors.today_for(enrollment)
    return render(request, "onboarding/today.html", {"view": view, "enrollment": enrollment, "own": own})


def _item_for(request, pk: int) -> EnrollmentTask:
    return get_object_or_404(
        EnrollmentTask.objects.select_related("enrollment__user", "enrollment__track", "enrollment__manager", "task"),
        pk=pk,
    )


def _back(request, item: EnrollmentTask):
    if item.enrollment.user_id == request.user.pk:
        return redirect("onboarding:today")
    return redirect(item.enrollment.get_absolute_url())


@require_POST
def item_complete(request, pk: int):
    item = _item_for(request, pk)
    try:
        services.enrollment_task_complete(item=item, by=request.user)
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
        return _back(request, item)
    item.enrollment.refresh_from_db()
    if item.enrollment.status == Enrollment.Status.COMPLETED:
        messages.success(request, f"That was the last required task: you completed “{item.enrollment.track.title}”!")
    else:
        messages.success(request, f"Done: {item.task.title}.")
    return _back(request, item)


@require_POST
def item_reopen(request, pk: int):
    item = _item_for(request, pk)
    try:
        services.enrollment_task_reopen(item=item, by=request.user)
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
        return _back(request, item)
    messages.info(request, f"Reopened: {item.task.title}.")
    return _back(request, item)


def quiz_take(request, pk: int):
    quiz = get_object_or_404(Quiz.objects.select_related("track"), pk=pk)
    enrollment = Enrollment.objects.filter(user=request.user, track=quiz.track).first()
    if enrollment is None and not request.user.is_ops_lead:
        raise Http404("You are not enrolled in this quiz's track.")
    questions = list(Question.objects.filter(quiz=quiz).prefetch_related("choices").order_by("order", "pk"))
    answers: dict[int, list[int]] = {}
    errors: dict[str, list[str]] = {}
    result = None
    status = 200
    if request.method == "POST":
        if enrollment is None:
            raise PermissionDenied("Preview only: ops leads who are not enrolled cannot submit this quiz.")
        for question in questions:
            raw = request.POST.getlist(f"q{question.pk}")
            answers[question.pk] = [int(v) for v in raw if v.isdigit()]
        try:
            result = services.quiz_submit(enrollment=enrollment, quiz=quiz, answers=answers, by=request.user)
        except ValidationError as exc:
            errors = exc.message_dict
            messages.error(request, "Your answers were not submitted: " + " ".join(exc.messages))
            status = 400
    attempts = list(enrollment.attempts.filter(quiz=quiz).order_by("number")) if enrollment else []
    attempts_left = services.quiz_attempts_left(enrollment=enrollment, quiz=quiz) if enrollment else None
    passed = any(a.passed for a in attempts)
    by_question = {r.question.pk: r for r in result.questions} if result else {}
    rows = [
        {
            "question": q,
            "result": by_question.get(q.pk),
            "chosen": set(answers.get(q.pk, [])),
            "error": " ".join(errors.get(f"q{q.pk}", [])),
        }
        for q in questions
    ]
    context = {
        "quiz": quiz,
        "rows": rows,
        "enrollment": enrollment,
        "result": result,
        "attempts": attempts,
        "attempts_left": attempts_left,
        "passed": passed,
        "locked": result is not None or passed or attempts_left == 0,
    }
    return render(request, "onboarding/quiz.html", context, status=status)


# --- Tracks ------------------------------------------------------------------------------


def tracks(request):
    rows = list(selectors.track_list(user=request.user))
    mine = {e.track_id: e for e in Enrollment.objects.filter(user=request.user)}
    for row in rows:
        row.my_enrollment = mine.get(row.pk)
    return render(request, "onboarding/tracks.html", {"tracks": rows})


def track_detail(request, slug: str, preview: bool = False):
    try:
        track = selectors.track_get(user=request.user, slug=slug)
    except Track.DoesNotExist as exc:
        raise Http404("No such track (or it is not published yet).") from exc
    if preview and not request.user.is_ops_lead:
        raise PermissionDenied("Only ops leads preview tracks as a learner.")
    form = EnrollForm(by=request.user)
    if request.method == "POST" and not preview:
        form = EnrollForm(request.POST, by=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                enrollment = services.enrollment_create(
                    user=data["user"],
                    track=track,
                    start_on=data["start_on"],
                    buddy=data["buddy"],
                    manager=data["manager"],
                    by=request.user,
                )
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                messages.success(
                    request, f"{enrollment.user.display_name} is enrolled from {enrollment.start_on:%-d %b}."
                )
                if enrollment.user_id == request.user.pk:
                    return redirect("onboarding:today")
                return redirect(enrollment.get_absolute_url())
    modules = selectors.track_outline(track)
    preview_view = None
    if preview:
        preview_view = selectors.preview_today(track)
    context = {
        "track": track,
        "modules": modules,
        "form": form,
        "preview": preview,
        "preview_view": preview_view,
        "enrolled": Enrollment.objects.filter(user=request.user, track=track).first(),
        "can_enroll": not request.user.is_viewer and track.status == Track.Status.PUBLISHED and not preview,
    }
    return render(request, "onboarding/track.html", context, status=400 if form.errors else 200)


def track_preview(request, slug: str):
    return track_detail(request, slug, preview=True)


# --- Managers and ops leads --------------------------------------------------------------


def cohort(request):
    track = _track_filter(request, request.user)
    cohort_key = request.GET.get("cohort", "")
    status = request.GET.get("status", "")
    if status not in Enrollment.Status.values:
        status = ""
    rows = selectors.cohort_rows(user=request.user, track=track, cohort=cohort_key, status=status)
    active = [r for r in rows if r.status == Enrollment.Status.ACTIVE]
    context = {
        "rows": rows,
        "tracks": selectors.track_list(user=request.user),
        "cohorts": selectors.cohorts_available(user=request.user),
        "statuses": Enrollment.Status.choices,
        "selected": {"track": track.slug if track else "", "cohort": cohort_key, "status": status},
        "kpi": {
            "active": len(active),
            "on_track": sum(r.flag == "on_track" for r in active),
            "overdue": sum(r.n_overdue for r in active),
            "completed": sum(r.status == Enrollment.Status.COMPLETED for r in rows),
        },
    }
    return render(request, "onboarding/cohort.html", context)


def metrics(request):
    track = _track_filter(request, request.user)
    rows = selectors.ramp_rows(user=request.user, track=track)
    cohorts = selectors.ramp_by_cohort(rows)
    stuck = selectors.stuck_tasks(user=request.user, track=track)
    missed = selectors.missed_questions(user=request.user, track=track)
    finished = [r.days_to_required_done for r in rows if r.days_to_required_done is not None]
    context = {
        "rows": rows,
        "cohort_ramps": cohorts,
        "stuck": stuck,
        "missed": missed,
        "tracks": selectors.track_list(user=request.user),
        "selected": {"track": track.slug if track else ""},
        "trend_chart": charts.ramp_trend(cohorts) if cohorts else None,
        "stuck_chart": charts.stuck_chart(stuck) if stuck else None,
        "median_done": selectors._median(finished),
        "milestones": selectors.MILESTONES,
        "kpi_reached": [
            (m.label, sum(1 for r in rows for x in r.milestones if x["key"] == m.key and x["at"]))
            for m in selectors.MILESTONES
        ],
    }
    return render(request, "onboarding/metrics.html", context)


# --- Knowledge base ------------------------------------------------------------------------


def articles(request):
    query = request.GET.get("q", "").strip()[:200]
    tag = request.GET.get("tag", "").strip()[:40]
    rows = list(selectors.article_list(query=query, tag=tag)[:100])
    for row in rows:
        row.weak = selectors.article_is_weak(row)
    context = {"articles": rows, "query": query, "tag": tag, "tags": selectors.article_tags()}
    return render(request, "onboarding/articles.html", context)


def article_detail(request, slug: str):
    try:
        article = selectors.article_get(slug=slug)
    except Article.DoesNotExist as exc:
        raise Http404("No such article.") from exc
    context = {
        "article": article,
        "my_vote": article.votes.filter(user=request.user).first(),
        "weak": selectors.article_is_weak(article),
    }
    return render(request, "onboarding/article.html", context)


@require_POST
def article_vote(request, slug: str):
    article = get_object_or_404(Article, slug=slug)
    form = VoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose Yes or No for “Was this useful?”.")
        return redirect(article.get_absolute_url())
    services.article_vote(
        article=article, user=request.user, useful=form.cleaned_data["useful"], comment=form.cleaned_data["comment"]
    )
    messages.success(request, "Thanks — the owner sees the votes and fixes weak articles.")
    return redirect(reverse("onboarding:article", args=[slug]))
