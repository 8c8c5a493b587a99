from django.urls import path

from research import views

app_name = "research"

urlpatterns = [
    path("", views.index, name="index"),
    path("participants/", views.participant_list, name="participants"),
    path("participants/import/", views.participant_import, name="participant-import"),
    path("participants/<int:pk>/", views.participant_detail, name="participant"),
    path("participants/<int:pk>/export.json", views.participant_export, name="participant-export"),
    path("participants/<int:pk>/erase", views.participant_erase, name="participant-erase"),
    path("studies/", views.study_list, name="studies"),
    path("studies/new/", views.study_create, name="study-create"),
    path("studies/<int:pk>/", views.study_detail, name="study"),
    path("studies/<int:pk>/edit/", views.study_edit, name="study-edit"),
    path("studies/<int:pk>/status", views.study_status, name="study-status"),
    path("studies/<int:pk>/invite", views.study_invite, name="study-invite"),
    path("studies/<int:pk>/plan", views.study_plan, name="study-plan"),
    path("studies/<int:pk>/sessions", views.session_create, name="session-create"),
    path("sessions/<int:pk>/", views.session_detail, name="session"),
    path("sessions/<int:pk>/status", views.session_status, name="session-status"),
    path("sessions/<int:pk>/incentive", views.session_incentive, name="session-incentive"),
    path("incentives/<int:pk>/paid", views.incentive_paid, name="incentive-paid"),
    path("highlights/<int:pk>/feedback", views.highlight_to_feedback, name="highlight-feedback"),
    path("insights/", views.insight_list, name="insights"),
    path("insights/new/", views.insight_create, name="insight-create"),
    path("insights/<int:pk>/", views.insight_detail, name="insight"),
    path("insights/<int:pk>/publish", views.insight_publish, name="insight-publish"),
    path("insights/<int:pk>/evidence", views.insight_evidence, name="insight-evidence"),
    path("search/", views.repository_search, name="search"),
]
