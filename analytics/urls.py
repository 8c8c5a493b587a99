from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:product>/events/<str:name>/", views.event_detail, name="event-detail"),
]
