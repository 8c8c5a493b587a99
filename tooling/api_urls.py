from django.urls import path

from tooling import api

urlpatterns = [
    path("tooling/documents/", api.documents, name="tooling-api-documents"),
    path("tooling/documents/<int:pk>/markdown", api.document_markdown, name="tooling-api-document-markdown"),
    path("tooling/roadmap-items/", api.roadmap_items, name="tooling-api-roadmap-items"),
    path("tooling/roadmap-items/<int:pk>/", api.roadmap_item_update, name="tooling-api-roadmap-item"),
    path("tooling/launches/", api.launches, name="tooling-api-launches"),
    path("tooling/template-adoption/", api.template_adoption, name="tooling-api-template-adoption"),
]
