from django.urls import path

from experiments import views

app_name = "experiments"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.create, name="create"),
    path("power/", views.power, name="power"),
    path("metrics/", views.metrics, name="metrics"),
    path("guide/", views.guide, name="guide"),
    path("<slug:key>/", views.detail, name="detail"),
    path("<slug:key>/results", views.results_fragment, name="results"),
    path("<slug:key>/edit", views.edit, name="edit"),
    path("<slug:key>/start", views.start, name="start"),
    path("<slug:key>/stop", views.stop, name="stop"),
    path("<slug:key>/decide", views.decide, name="decide"),
    path("<slug:key>/archive", views.archive, name="archive"),
    path("<slug:key>/refresh", views.refresh, name="refresh"),
]
