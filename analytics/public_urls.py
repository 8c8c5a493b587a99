"""Segment-compatible ingestion at fixed paths: point an SDK's host at <portal>/api/segment."""

from django.urls import path

from analytics import segment

urlpatterns = [
    path("api/segment/v1/batch", segment.batch, name="segment-batch"),
    path("api/segment/v1/import", segment.batch, name="segment-import"),
    path("api/segment/v1/track", segment.track, name="segment-track"),
    path("api/segment/v1/identify", segment.identify, name="segment-identify"),
    path("api/segment/v1/page", segment.page, name="segment-page"),
    path("api/segment/v1/screen", segment.screen, name="segment-screen"),
]
