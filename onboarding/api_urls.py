from django.urls import path

from onboarding import api

urlpatterns = [
    path("onboarding/me/tasks", api.my_tasks, name="api-onboarding-my-tasks"),
    path("onboarding/items/<int:pk>/complete", api.item_complete, name="api-onboarding-item-complete"),
    path("onboarding/enrollments", api.EnrollmentList.as_view(), name="api-onboarding-enrollments"),
    path("onboarding/articles", api.ArticleList.as_view(), name="api-onboarding-articles"),
]
