"""Cross-cutting request handling: request ids in logs, login everywhere, user timezone,
security headers (CSP without inline scripts)."""

from __future__ import annotations

import uuid
import zoneinfo

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.utils import timezone

from portal.logcontext import request_id_var

# Paths reachable without a session: machines authenticate with tokens/keys there.
PUBLIC_PREFIXES = ("/accounts/login", "/healthz", "/api/", "/static/", "/admin/", "/favicon.ico")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; "
    # plotly.js sets style attributes on the SVG it draws
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'"
)


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming[:64] if incoming.replace("-", "").isalnum() else uuid.uuid4().hex[:16]
        request.request_id = rid
        token = request_id_var.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = rid
        return response


class LoginRequiredMiddleware:
    """Every page needs a login, except machine endpoints (which check their own auth)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.user.is_authenticated and not request.path.startswith(PUBLIC_PREFIXES):
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return self.get_response(request)


class UserTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tz_name = getattr(request.user, "timezone", None) if request.user.is_authenticated else None
        if tz_name:
            try:
                timezone.activate(zoneinfo.ZoneInfo(tz_name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class HostileInputMiddleware:
    """Safety net for input no validator caught: JSON nested deeper than Python's recursion
    limit, unpaired UTF-16 surrogates and NUL characters (which PostgreSQL refuses) become a
    400 naming the problem instead of a 500. Writes are atomic per request in the services,
    so nothing is stored half-way when this fires."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.db import DataError
        from django.http import HttpResponse, JsonResponse

        detail = None
        if isinstance(exception, RecursionError):
            detail = "The JSON body is nested too deeply."
        elif isinstance(exception, UnicodeEncodeError) and "surrogate" in str(exception):
            detail = "The body contains invalid Unicode (an unpaired surrogate such as \\ud800)."
        elif isinstance(exception, ValueError) and "NUL (0x00)" in str(exception):
            detail = "The body contains NUL (\\u0000) characters, which cannot be stored."
        elif isinstance(exception, DataError) and "Unicode" in str(exception):
            detail = "The body contains a \\u0000 or unpaired-surrogate escape, which cannot be stored as JSON."
        if detail is None:
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": detail}, status=400)
        return HttpResponse(detail, status=400, content_type="text/plain; charset=utf-8")
