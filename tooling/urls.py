from django.urls import path

from tooling import views

app_name = "tooling"

urlpatterns = [
    path("", views.index, name="index"),
    path("documents/", views.document_list, name="document-list"),
    path("documents/new/", views.document_new, name="document-new"),
    path("documents/<int:pk>/", views.document_detail, name="document-detail"),
    path("documents/<int:pk>/edit/", views.document_edit, name="document-edit"),
    path("documents/<int:pk>/status/", views.document_status, name="document-status"),
    path("documents/<int:pk>/reviews/", views.document_review_request, name="document-review-request"),
    path("documents/<int:pk>/comments/", views.document_comment, name="document-comment"),
    path("documents/<int:pk>/history/", views.document_history, name="document-history"),
    path("documents/<int:pk>/export.md", views.document_export, name="document-export"),
    path("documents/<int:pk>/revisions/<int:number>.md", views.document_revision_export, name="revision-export"),
    path("documents/<int:pk>/upgrade/", views.document_upgrade, name="document-upgrade"),
    path("templates/", views.template_list, name="template-list"),
    path("templates/<slug:slug>/", views.template_detail, name="template-detail"),
    path("adoption/", views.adoption, name="adoption"),
    path("roadmap/", views.roadmap_portfolio, name="roadmap-portfolio"),
    path("roadmap/items/<int:pk>/", views.roadmap_item, name="roadmap-item"),
    path("roadmap/items/<int:pk>/move/", views.roadmap_item_move, name="roadmap-item-move"),
    path("roadmap/items/<int:pk>/links/", views.roadmap_link_add, name="roadmap-link-add"),
    path("roadmap/<slug:slug>/", views.roadmap_board, name="roadmap-board"),
    path("launches/", views.launch_list, name="launch-list"),
    path("launches/new/", views.launch_new, name="launch-new"),
    path("launches/<int:pk>/", views.launch_detail, name="launch-detail"),
    path("launches/<int:pk>/update/", views.launch_update, name="launch-update"),
    path("launches/<int:pk>/items/<int:item_pk>/", views.launch_item_toggle, name="launch-item-toggle"),
    path("launches/<int:pk>/follow-ups/<int:follow_up_pk>/", views.launch_follow_up, name="launch-follow-up"),
]
