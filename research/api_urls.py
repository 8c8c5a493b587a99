from django.urls import path

from research import api

urlpatterns = [
    path("research/participants", api.ParticipantList.as_view(), name="api-research-participants"),
    path("research/participants/import", api.participant_import, name="api-research-participant-import"),
    path("research/participants/<int:pk>", api.ParticipantDetail.as_view(), name="api-research-participant"),
    path("research/participants/<int:pk>/export", api.participant_export, name="api-research-participant-export"),
    path("research/participants/<int:pk>/erase", api.participant_erase, name="api-research-participant-erase"),
    path("research/studies", api.StudyList.as_view(), name="api-research-studies"),
    path("research/studies/<int:pk>/candidates", api.study_candidates, name="api-research-candidates"),
    path("research/studies/<int:pk>/invite", api.study_invite, name="api-research-invite"),
    path("research/highlights", api.HighlightList.as_view(), name="api-research-highlights"),
    path("research/insights", api.InsightList.as_view(), name="api-research-insights"),
    path("research/insights/<int:pk>", api.insight_detail, name="api-research-insight"),
    path("research/insights/<int:pk>/publish", api.insight_publish, name="api-research-insight-publish"),
    path("research/search", api.repository_search, name="api-research-search"),
]
