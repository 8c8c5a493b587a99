"""Root URLs. Each function app mounts itself: `<app>/urls.py` at /<app>/ (namespace =
app name), `<app>/api_urls.py` under /api/v1/, and `<app>/public_urls.py` (if any) at the
root for endpoints whose paths are fixed by outside conventions (e.g. Segment's)."""

from importlib import import_module
from importlib.util import find_spec

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal import adoption, api, audit_views, health, home, reports, scorecard, search, views
from portal.login import PortalLoginView, admin_login_form

admin.site.site_header = "Product Ops Portal — administration"
admin.site.site_title = "Product Ops Portal admin"
admin.site.index_title = "Shared standards and settings"
admin.site.login_form = admin_login_form()

urlpatterns = [
    path("", home.home, name="home"),
    path("adoption/", adoption.adoption_view, name="adoption"),
    path("scorecard/", scorecard.scorecard_view, name="scorecard"),
    path("reports/", reports.report_list, name="reports"),
    path("reports/subscribe", reports.report_subscribe, name="report-subscribe"),
    path("reports/generate", reports.report_generate_view, name="report-generate"),
    path("reports/<slug:unit>/<str:month>/", reports.report_detail, name="report-detail"),
    path("healthz", health.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("profile/", views.profile, name="profile"),
    path("profile/tokens/<int:pk>/revoke", views.token_revoke, name="token-revoke"),
    path("inbox/", views.inbox, name="inbox"),
    path("search/", search.search_view, name="search"),
    path("audit/", audit_views.audit_log, name="audit-log"),
    path("profile/notifications", views.notification_prefs, name="notification-prefs"),
    path("accounts/login/", PortalLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include(api.urlpatterns)),
]

for app_label in settings.PORTAL_APPS:
    if find_spec(f"{app_label}.urls"):
        urlpatterns.append(path(f"{app_label}/", include(f"{app_label}.urls", namespace=app_label)))
    if find_spec(f"{app_label}.api_urls"):
        urlpatterns.append(path("api/v1/", include(import_module(f"{app_label}.api_urls").urlpatterns)))
    if find_spec(f"{app_label}.public_urls"):
        urlpatterns.append(path("", include(import_module(f"{app_label}.public_urls").urlpatterns)))
