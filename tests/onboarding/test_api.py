import datetime as dt

from django.utils import timezone

from onboarding import services
from onboarding.models import Enrollment
from tests.factories import UserFactory
from tests.onboarding.factories import ArticleFactory, published_track


def test_my_tasks_and_completing_one(api_client, ops_lead, pm):
    track = published_track(by=ops_lead, offsets=(0, 7))
    services.enrollment_create(user=pm, track=track, start_on=timezone.localdate() - dt.timedelta(days=1), by=pm)
    api_client.force_authenticate(pm)
    body = api_client.get("/api/v1/onboarding/me/tasks").json()
    assert body["track"] == track.slug and body["pct_done"] == 0
    assert [(i["title"], i["overdue"], i["phase"]) for i in body["items"]] == [
        (f"{track.title} task 1", True, "day_1"),
        (f"{track.title} task 2", False, "week_1"),
    ]
    response = api_client.post(f"/api/v1/onboarding/items/{body['items'][0]['id']}/complete")
    assert response.status_code == 200 and response.json()["completed_at"]


def test_my_tasks_without_enrollment_is_404_with_a_sentence(api_client, pm):
    api_client.force_authenticate(pm)
    response = api_client.get("/api/v1/onboarding/me/tasks")
    assert response.status_code == 404
    assert response.json()["detail"] == "You are not enrolled in a track."


def test_enroll_by_api_and_errors_name_the_field(api_client, ops_lead, pm):
    track = published_track(by=ops_lead)
    api_client.force_authenticate(ops_lead)
    response = api_client.post(
        "/api/v1/onboarding/enrollments",
        {"user": pm.username, "track": track.slug, "start_on": "2026-13-01"},
        format="json",
    )
    assert response.status_code == 400
    assert "start_on" in response.json()["errors"]
    response = api_client.post(
        "/api/v1/onboarding/enrollments",
        {"user": pm.username, "track": track.slug, "start_on": timezone.localdate().isoformat(), "buddy": pm.username},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"buddy": ["A buddy must be someone else."]}
    response = api_client.post(
        "/api/v1/onboarding/enrollments",
        {"user": pm.username, "track": track.slug, "start_on": timezone.localdate().isoformat()},
        format="json",
    )
    assert response.status_code == 201 and response.json()["items"] == 4
    assert Enrollment.objects.get(user=pm).enrolled_by == ops_lead


def test_a_pm_cannot_enroll_someone_else_by_api(api_client, ops_lead, pm):
    track = published_track(by=ops_lead)
    other = UserFactory(role="pm")
    api_client.force_authenticate(pm)
    response = api_client.post(
        "/api/v1/onboarding/enrollments",
        {"user": other.username, "track": track.slug, "start_on": timezone.localdate().isoformat()},
        format="json",
    )
    assert response.status_code == 403
    assert "their manager or an ops lead" in response.json()["detail"]


def test_enrollment_list_has_bounded_queries(api_client, ops_lead, django_assert_max_num_queries):
    track = published_track(by=ops_lead)
    for _ in range(10):
        user = UserFactory(role="pm")
        services.enrollment_create(user=user, track=track, start_on=timezone.localdate(), by=ops_lead)
    api_client.force_authenticate(ops_lead)
    with django_assert_max_num_queries(5):
        response = api_client.get("/api/v1/onboarding/enrollments", {"track": track.slug})
    rows = response.json()
    assert len(rows) == 10 and rows[0]["flag"] == "on_track" and rows[0]["pct_done"] == 0
    assert api_client.get("/api/v1/onboarding/enrollments", {"track": "nope"}).status_code == 404


def test_article_search_api(api_client, viewer, django_assert_max_num_queries):
    ArticleFactory(title="Experiment guardrails", body="Guardrail metrics must not regress.", tags=["experiments"])
    for _ in range(5):
        ArticleFactory()
    api_client.force_authenticate(viewer)
    with django_assert_max_num_queries(5):
        results = api_client.get("/api/v1/onboarding/articles", {"q": "guardrail"}).json()["results"]
    assert [r["title"] for r in results] == ["Experiment guardrails"]
    assert results[0]["tags"] == ["experiments"] and results[0]["votes"] == 0
    assert api_client.post("/api/v1/onboarding/articles", {}).status_code in (403, 405)
