from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.index, name="index"),
    path("dashboards/<int:pk>/", views.dashboard_detail, name="dashboard-detail"),
    path("dashboards/<int:pk>/tiles/<int:tile_pk>/", views.tile_fragment, name="tile"),
    path("dashboards/<int:pk>/tiles/new", views.tile_new, name="tile-new"),
    path("dashboards/<int:pk>/refresh", views.dashboard_refresh, name="dashboard-refresh"),
    path("dashboards/<int:pk>/filters", views.dashboard_save_filters, name="dashboard-save-filters"),
    path("insights/<int:pk>/", views.insight_detail, name="insight-detail"),
    path("insights/<int:pk>/csv", views.insight_csv, name="insight-csv"),
    path("<slug:slug>/", views.product_home, name="product"),
    path("<slug:slug>/dashboards/new", views.dashboard_new, name="dashboard-new"),
    path("<slug:slug>/insights/new", views.insight_new, name="insight-new"),
    path("<slug:slug>/plan/", views.plan, name="plan"),
    path("<slug:slug>/plan/history/", views.plan_history, name="plan-history"),
    path("<slug:slug>/plan/export.json", views.plan_export_json, name="plan-export-json"),
    path("<slug:slug>/plan/export.csv", views.plan_export_csv, name="plan-export-csv"),
    path("<slug:slug>/plan/import", views.plan_import, name="plan-import"),
    path("<slug:slug>/events/<str:name>/", views.event_detail, name="event-detail"),
    path("<slug:slug>/quality/", views.quality, name="quality"),
    path("<slug:slug>/d/<slug:template_slug>/", views.dashboard_redirect, name="standard-dashboard"),
]
