from django.urls import path

from analytics import api_views

urlpatterns = [
    path("events/batch", api_views.events_batch, name="analytics-events-batch"),
]
