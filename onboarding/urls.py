from django.urls import path

from onboarding import views

app_name = "onboarding"

urlpatterns = [
    path("", views.index, name="index"),
    path("today/", views.today, name="today"),
    path("enrollments/<int:pk>/", views.enrollment_detail, name="enrollment"),
    path("items/<int:pk>/complete", views.item_complete, name="item_complete"),
    path("items/<int:pk>/reopen", views.item_reopen, name="item_reopen"),
    path("quizzes/<int:pk>/", views.quiz_take, name="quiz"),
    path("tracks/", views.tracks, name="tracks"),
    path("tracks/<slug:slug>/", views.track_detail, name="track"),
    path("tracks/<slug:slug>/preview/", views.track_preview, name="track_preview"),
    path("cohort/", views.cohort, name="cohort"),
    path("metrics/", views.metrics, name="metrics"),
    path("kb/", views.articles, name="articles"),
    path("kb/<slug:slug>/", views.article_detail, name="article"),
    path("kb/<slug:slug>/vote", views.article_vote, name="article_vote"),
]
