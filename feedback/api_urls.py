from django.urls import path

from feedback import api

urlpatterns = [
    path("feedback/items", api.ItemsView.as_view(), name="feedback-api-items"),
    path("feedback/sources", api.SourcesView.as_view(), name="feedback-api-sources"),
    path("feedback/themes", api.ThemesView.as_view(), name="feedback-api-themes"),
    path("feedback/recluster", api.ReclusterView.as_view(), name="feedback-api-recluster"),
    path(
        "feedback/webhooks/<slug:slug>/zendesk",
        api.WebhookView.as_view(),
        {"kind": "zendesk"},
        name="feedback-api-webhook-zendesk",
    ),
    path(
        "feedback/webhooks/<slug:slug>/intercom",
        api.WebhookView.as_view(),
        {"kind": "intercom"},
        name="feedback-api-webhook-intercom",
    ),
]
