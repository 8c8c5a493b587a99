from django.urls import path

from tooling import views

app_name = "tooling"

urlpatterns = [
    path("", views.index, name="index"),
    path("templates/<slug:slug>/", views.template_detail, name="template-detail"),
    path("documents/<int:pk>/", views.document_detail, name="document-detail"),
    path("roadmap/items/<int:pk>/", views.roadmap_item, name="roadmap-item"),
    path("launches/<int:pk>/", views.launch_detail, name="launch-detail"),
]
