import datetime as dt

import pytest
from django.utils import timezone

from onboarding import services
from onboarding.models import Enrollment, Track
from portal.models import Notification
from portal.roles import sync_role_groups
from portal.services import audit_record
from tests.factories import UserFactory
from tests.onboarding.factories import ArticleFactory, ModuleFactory, TaskFactory, answers_for, published_track


@pytest.fixture
def track(ops_lead):
    return published_track(by=ops_lead, title="New PM 90", offsets=(0, 1, 7, 30), quiz=True)


@pytest.fixture
def enrolled(track, ops_lead):
    manager = UserFactory(role="pm", first_name="Mia", last_name="Manager")
    user = UserFactory(role="pm", first_name="Nora", last_name="Newbie")
    user.manager = manager
    user.save()
    start = timezone.localdate() - dt.timedelta(days=3)
    return services.enrollment_create(user=user, track=track, start_on=start, by=ops_lead)


def test_today_shows_dated_tasks_overdue_first(client, enrolled, django_assert_max_num_queries):
    client.force_login(enrolled.user)
    with django_assert_max_num_queries(14):
        response = client.get("/onboarding/today/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Today · day 4" in body
    assert body.index("Overdue") < body.index("New PM 90 task 2")  # the day-1 task is overdue
    assert "Progress by phase" in body
    assert "First PRD created" in body


def test_onboarding_index_sends_each_person_to_their_page(client, enrolled, ops_lead, pm):
    client.force_login(enrolled.user)
    assert client.get("/onboarding/")["Location"] == "/onboarding/today/"
    client.force_login(ops_lead)
    assert client.get("/onboarding/")["Location"] == "/onboarding/cohort/"
    client.force_login(pm)
    assert client.get("/onboarding/")["Location"] == "/onboarding/tracks/"


def test_today_without_enrollment_says_what_to_do(pm_client):
    body = pm_client.get("/onboarding/today/").content.decode()
    assert "You are not enrolled in a track" in body


def test_completing_a_task_from_today(client, enrolled):
    client.force_login(enrolled.user)
    item = enrolled.items.get(task__due_offset_days=0)
    response = client.post(f"/onboarding/items/{item.pk}/complete", follow=True)
    assert response.status_code == 200
    assert f"Done: {item.task.title}." in response.content.decode()
    item.refresh_from_db()
    assert item.completed_at is not None


def test_someone_else_cannot_tick_off_tasks(client, enrolled):
    client.force_login(enrolled.user.manager)
    item = enrolled.items.first()
    assert client.post(f"/onboarding/items/{item.pk}/complete").status_code == 403
    item.refresh_from_db()
    assert item.completed_at is None


def test_completion_badge_after_the_last_required_task(client, ops_lead):
    track = published_track(by=ops_lead, offsets=(0,))
    user = UserFactory(role="pm")
    enrollment = services.enrollment_create(user=user, track=track, start_on=timezone.localdate(), by=user)
    client.force_login(user)
    response = client.post(f"/onboarding/items/{enrollment.items.get().pk}/complete", follow=True)
    body = response.content.decode()
    assert f"you completed “{track.title}”" in body
    assert "Track complete" in body


def test_quiz_gives_feedback_per_question_and_ticks_the_task(client, enrolled):
    quiz = enrolled.track.quizzes.get()
    client.force_login(enrolled.user)
    assert client.get(f"/onboarding/quizzes/{quiz.pk}/").status_code == 200
    answers = {f"q{q}": c for q, c in answers_for(quiz, right=1).items()}
    response = client.post(f"/onboarding/quizzes/{quiz.pk}/", answers)
    body = response.content.decode()
    assert response.status_code == 200
    assert "You scored 50%" in body
    assert body.count("Because the playbook says so.") == 2  # explanation under each question
    assert "Correct" in body and "Not quite" in body
    assert enrolled.items.get(task__quiz=quiz).completed_at is not None


def test_quiz_with_missing_answers_is_a_400_naming_the_question(client, enrolled):
    quiz = enrolled.track.quizzes.get()
    first = quiz.questions.order_by("order").first()
    client.force_login(enrolled.user)
    response = client.post(f"/onboarding/quizzes/{quiz.pk}/", {f"q{first.pk}": first.choices.first().pk})
    assert response.status_code == 400
    assert "Question 2: choose an answer." in response.content.decode()
    assert enrolled.attempts.count() == 0


def test_quiz_of_a_track_you_are_not_in_is_404(pm_client, track):
    assert pm_client.get(f"/onboarding/quizzes/{track.quizzes.get().pk}/").status_code == 404


def test_self_enrollment_from_the_track_page(pm_client, pm, track):
    response = pm_client.post(f"/onboarding/tracks/{track.slug}/", {"start_on": timezone.localdate().isoformat()})
    assert response.status_code == 302 and response["Location"] == "/onboarding/today/"
    enrollment = Enrollment.objects.get(user=pm)
    assert enrollment.items.count() == 5 and enrollment.enrolled_by == pm


def test_enroll_form_errors_name_the_field(pm_client, pm, track):
    response = pm_client.post(f"/onboarding/tracks/{track.slug}/", {"start_on": "not a date", "buddy": pm.pk})
    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()
    old = (timezone.localdate() - dt.timedelta(days=400)).isoformat()
    response = pm_client.post(f"/onboarding/tracks/{track.slug}/", {"start_on": old, "buddy": pm.pk})
    body = response.content.decode()
    assert response.status_code == 400
    assert "A buddy must be someone else." in body
    assert "The start date is more than a year ago" in body


def test_viewers_cannot_enroll(client, viewer, track):
    client.force_login(viewer)
    assert "viewers can read tracks but not enroll" in client.get(f"/onboarding/tracks/{track.slug}/").content.decode()
    response = client.post(f"/onboarding/tracks/{track.slug}/", {"start_on": timezone.localdate().isoformat()})
    assert response.status_code == 403
    assert not Enrollment.objects.filter(user=viewer).exists()


def test_drafts_are_hidden_from_pms_and_previewed_by_ops(client, pm, ops_lead):
    draft = Track.objects.create(title="Draft", slug="draft", owner=ops_lead)
    TaskFactory(module=ModuleFactory(track=draft), track=draft, title="Meet the team", due_offset_days=2)
    client.force_login(pm)
    assert client.get("/onboarding/tracks/draft/").status_code == 404
    assert client.get("/onboarding/tracks/draft/preview/").status_code == 404
    client.force_login(ops_lead)
    response = client.get("/onboarding/tracks/draft/preview/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "preview as a learner" in body and "Meet the team" in body
    due = (timezone.localdate() + dt.timedelta(days=2)).strftime("%a %-d %b")
    assert due in body


def test_cohort_lists_reports_with_bounded_queries(client, ops_lead, track, django_assert_max_num_queries):
    manager = UserFactory(role="pm")
    start = timezone.localdate() - dt.timedelta(days=10)
    for _ in range(8):
        user = UserFactory(role="pm")
        user.manager = manager
        user.save()
        services.enrollment_create(user=user, track=track, start_on=start, by=ops_lead)
    outsider = UserFactory(role="pm")
    services.enrollment_create(user=outsider, track=track, start_on=start, by=ops_lead)
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        response = client.get("/onboarding/cohort/")
    rows = response.context["rows"]
    assert len(rows) == 8 and outsider.pk not in {r.user_id for r in rows}
    assert {r.flag for r in rows} == {"behind"}  # days 0, 1, 5 (quiz) and 7 are overdue
    assert rows[0].n_overdue == 4 and rows[0].pct_done == 0
    client.force_login(ops_lead)
    with django_assert_max_num_queries(12):
        response = client.get("/onboarding/cohort/", {"track": track.slug, "cohort": start.strftime("%Y-%m")})
    assert len(response.context["rows"]) == 9


def test_cohort_shows_progress_and_last_activity(client, enrolled):
    item = enrolled.items.get(task__due_offset_days=0)
    services.enrollment_task_complete(item=item, by=enrolled.user)
    audit_record(actor=enrolled.user, action="insight.view", target_label="An insight")
    client.force_login(enrolled.user.manager)
    row = client.get("/onboarding/cohort/").context["rows"][0]
    assert row.n_required_done == 1 and row.n_required == 5
    assert row.pct_done == pytest.approx(0.2)
    assert row.n_overdue == 1 and row.flag == "at_risk"
    assert row.last_activity is not None


def test_manager_sees_their_reports_today_page_read_only(client, enrolled):
    client.force_login(enrolled.user.manager)
    body = client.get(f"/onboarding/enrollments/{enrolled.pk}/").content.decode()
    assert "only they can tick off their tasks" in body
    assert "Mark done" not in body
    client.force_login(UserFactory(role="pm"))
    assert client.get(f"/onboarding/enrollments/{enrolled.pk}/").status_code == 404


def test_ramp_metrics_page_with_charts(client, ops_lead, enrolled, django_assert_max_num_queries):
    quiz = enrolled.track.quizzes.get()
    services.quiz_submit(enrollment=enrolled, quiz=quiz, answers=answers_for(quiz, right=0), by=enrolled.user)
    audit_record(actor=enrolled.user, action="dashboard.create", target_label="My dashboard")
    client.force_login(ops_lead)
    with django_assert_max_num_queries(12):
        response = client.get("/onboarding/metrics/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="ramp-trend"' in body and 'id="stuck-tasks"' in body
    assert response.context["stuck"][0]["late"] == 1
    missed = response.context["missed"]
    assert [m["missed"] for m in missed] == [1, 1]
    assert missed[0]["rate"] == 1.0
    reached = dict(response.context["kpi_reached"])
    assert reached["First dashboard created"] == 1 and reached["First PRD created"] == 0


def test_knowledge_base_search_tag_filter_and_vote(client, pm):
    a = ArticleFactory(title="Guardrail metrics", tags=["experiments"], body="Pick guardrails before launch.")
    ArticleFactory(title="Roadmaps", tags=["planning"], body="Now, next, later.")
    client.force_login(pm)
    assert [r.pk for r in client.get("/onboarding/kb/", {"q": "guardrails"}).context["articles"]] == [a.pk]
    assert [r.title for r in client.get("/onboarding/kb/", {"tag": "planning"}).context["articles"]] == ["Roadmaps"]
    response = client.post(f"/onboarding/kb/{a.slug}/vote", {"useful": "no", "comment": "Needs examples"})
    assert response.status_code == 302
    vote = a.votes.get()
    assert vote.useful is False and vote.comment == "Needs examples"
    response = client.post(f"/onboarding/kb/{a.slug}/vote", {"useful": "maybe"}, follow=True)
    assert "Choose Yes or No" in response.content.decode()


def test_weak_article_is_flagged_on_its_page(client, pm):
    article = ArticleFactory(title="Release notes")
    for _ in range(3):
        services.article_vote(article=article, user=UserFactory(), useful=False)
    client.force_login(pm)
    body = client.get(f"/onboarding/kb/{article.slug}/").content.decode()
    assert "Readers find this article weak: 0 of 3" in body


def test_global_search_finds_tracks_and_articles(pm_client, track):
    ArticleFactory(title="Onboarding checklist", body="Checklist for the first week.")
    body = pm_client.get("/search/", {"q": "checklist"}).content.decode()
    assert "Onboarding checklist" in body
    body = pm_client.get("/search/", {"q": "New PM"}).content.decode()
    assert track.title in body


def test_ops_lead_publishes_from_the_admin_and_enrollees_keep_progress(client, ops_lead, enrolled):
    sync_role_groups()  # group rights for app models (as after a full migrate)
    track = enrolled.track
    done = enrolled.items.first()
    services.enrollment_task_complete(item=done, by=enrolled.user)
    client.force_login(ops_lead)
    assert client.get("/admin/onboarding/track/").status_code == 200
    change = client.get(f"/admin/onboarding/track/{track.pk}/change/")
    assert change.status_code == 200 and "Preview as a learner" in change.content.decode()
    TaskFactory(module=track.modules.first(), track=track, title="Shadow a launch", due_offset_days=40)
    response = client.post(
        "/admin/onboarding/track/",
        {"action": "publish", "_selected_action": [track.pk]},
        follow=True,
    )
    assert "Published “New PM 90” v2: 1 new task; 1 running enrollment(s) updated." in response.content.decode()
    assert enrolled.items.filter(task__title="Shadow a launch").exists()
    done.refresh_from_db()
    assert done.completed_at is not None
    assert Notification.objects.filter(user=enrolled.user, kind="onboarding.track_changed").exists()


def test_admin_duplicate_action(client, ops_lead, track):
    sync_role_groups()
    client.force_login(ops_lead)
    client.post("/admin/onboarding/track/", {"action": "duplicate", "_selected_action": [track.pk]})
    copy = Track.objects.get(slug=f"{track.slug}-copy")
    assert copy.status == Track.Status.DRAFT and copy.tasks.count() == track.tasks.count()


def _inline(prefix: str, rows: list[dict], initial: int = 0) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{key}": value for key, value in row.items()})
    return data


def test_ops_lead_builds_and_publishes_a_track_in_the_admin(client, ops_lead):
    sync_role_groups()
    client.force_login(ops_lead)
    today = timezone.localdate().isoformat()
    track_fields = {
        "title": "Senior PM — 30 days",
        "slug": "senior-pm-30",
        "audience": "senior_pm",
        "owner": ops_lead.pk,
        "description": "For experienced hires.",
        "review_interval_days": "90",
        "last_reviewed_on": today,
    }
    module = {"order": "1", "title": "Context", "content": "Read the strategy.", "links": "Strategy | /tooling/"}
    response = client.post(
        "/admin/onboarding/track/add/",
        {**track_fields, **_inline("modules", [module]), **_inline("tasks", []), "_continue": "1"},
    )
    assert response.status_code == 302, response.context["errors"] if response.context else response
    track = Track.objects.get(slug="senior-pm-30")
    saved_module = track.modules.get()
    task = {"order": "1", "module": saved_module.pk, "title": "Meet your skip-level", "kind": "meet"}
    task |= {"required": "on", "due_offset_days": "3", "active": "on"}
    module_row = {**module, "id": saved_module.pk, "track": track.pk}
    response = client.post(
        f"/admin/onboarding/track/{track.pk}/change/",
        {**track_fields, **_inline("modules", [module_row], 1), **_inline("tasks", [task]), "_publish": "1"},
        follow=True,
    )
    assert "Published “Senior PM — 30 days” v1: 1 new task" in response.content.decode()
    track.refresh_from_db()
    assert track.status == Track.Status.PUBLISHED and track.tasks.get().title == "Meet your skip-level"


def test_admin_rejects_bad_module_links_naming_the_line(client, ops_lead):
    sync_role_groups()
    client.force_login(ops_lead)
    data = {
        "title": "T",
        "slug": "t",
        "audience": "new_pm",
        "review_interval_days": "90",
        "last_reviewed_on": timezone.localdate().isoformat(),
        **_inline("modules", [{"order": "1", "title": "M", "links": "Docs | ftp://example.com"}]),
        **_inline("tasks", []),
    }
    response = client.post("/admin/onboarding/track/add/", data)
    assert response.status_code == 200
    assert "Line 1: “Docs | ftp://example.com” needs a URL starting with /, http:// or https://" in (
        response.content.decode().replace("&ldquo;", "“").replace("&rdquo;", "”").replace("&#x27;", "'")
    )
    assert not Track.objects.filter(slug="t").exists()


def test_viewers_read_articles_but_do_not_vote(client, viewer):
    article = ArticleFactory(title="Roadmaps")
    client.force_login(viewer)
    body = client.get(f"/onboarding/kb/{article.slug}/").content.decode()
    assert "viewers can read articles but not vote" in body
    assert client.post(f"/onboarding/kb/{article.slug}/vote", {"useful": "yes"}).status_code == 403
    assert not article.votes.exists()
