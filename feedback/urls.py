from django.urls import path

from feedback import views

app_name = "feedback"

urlpatterns = [
    path("", views.index, name="index"),
    path("themes/", views.themes, name="themes"),
    path("themes/<int:pk>/", views.theme_detail, name="theme"),
    path("themes/<int:pk>/<str:action>", views.theme_action, name="theme-action"),
    path("items/", views.items, name="items"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("items/<int:pk>/<str:action>", views.item_action, name="item-action"),
    path("ops/", views.ops, name="ops"),
    path("ops/recluster", views.recluster, name="recluster"),
    path("import/", views.csv_import, name="import"),
    path("sources/", views.sources, name="sources"),
    path("loop/", views.loops, name="loops"),
    path("loop/<int:pk>/", views.loop_detail, name="loop"),
    path("loop/link", views.link_create, name="link-create"),
    path("loop/link/<int:pk>/delete", views.link_delete, name="link-delete"),
]
