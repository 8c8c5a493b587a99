from django.urls import path

from experiments import api

urlpatterns = [
    path("experiments/", api.experiment_collection, name="experiments-api-list"),
    path("experiments/power", api.power, name="experiments-api-power"),
    path("experiments/<slug:key>/", api.experiment_detail, name="experiments-api-detail"),
    path("experiments/<slug:key>/assignment", api.assignment, name="experiments-api-assignment"),
    path("experiments/<slug:key>/start", api.start, name="experiments-api-start"),
    path("experiments/<slug:key>/stop", api.stop, name="experiments-api-stop"),
    path("experiments/<slug:key>/decide", api.decide, name="experiments-api-decide"),
    path("experiments/<slug:key>/results/refresh", api.refresh, name="experiments-api-refresh"),
]
