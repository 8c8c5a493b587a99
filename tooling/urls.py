from django.urls import path

from tooling import views

app_name = "tooling"

urlpatterns = [
    path("", views.index, name="index"),
]
