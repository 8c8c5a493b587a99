"""Log-in with rate limiting: after LOCKOUT_THRESHOLD failures for a username within
LOCKOUT_SECONDS, that username is locked for LOCKOUT_SECONDS (audited as auth.lockout).

Counters live in the Redis cache; if Redis is down, log-in still works (and says so in the
log) rather than locking everyone out.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.core.exceptions import ValidationError

logger = logging.getLogger(__name__)

LOCKOUT_THRESHOLD = getattr(settings, "LOGIN_LOCKOUT_THRESHOLD", 5)
LOCKOUT_SECONDS = getattr(settings, "LOGIN_LOCKOUT_SECONDS", 15 * 60)


def _key(username: str) -> str:
    return f"login-failures:{username.strip().lower()[:150]}"


def failures(username: str) -> int:
    try:
        return int(cache.get(_key(username)) or 0)
    except Exception:  # noqa: BLE001 - cache down: fail open, but say so
        logger.warning("login rate limit unavailable (cache down)")
        return 0


def record_failure(username: str, ip: str | None) -> int:
    from portal.services import audit_record

    try:
        key = _key(username)
        cache.add(key, 0, LOCKOUT_SECONDS)
        count = cache.incr(key)
    except Exception:  # noqa: BLE001
        logger.warning("login rate limit unavailable (cache down)")
        return 0
    if count == LOCKOUT_THRESHOLD:
        audit_record(
            actor=None,
            action="auth.lockout",
            target_label=username[:150],
            ip=ip,
            changes={"failures": count, "locked_seconds": LOCKOUT_SECONDS},
        )
    return count


def clear_failures(username: str) -> None:
    try:
        cache.delete(_key(username))
    except Exception:  # noqa: BLE001
        logger.warning("login rate limit unavailable (cache down)")


class RateLimitedAuthenticationForm(AuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if username and failures(username) >= LOCKOUT_THRESHOLD:
            minutes = LOCKOUT_SECONDS // 60
            raise ValidationError(
                f"Too many failed log-in attempts for this account. Try again in {minutes} minutes, "
                "or ask an admin to help.",
                code="locked",
            )
        try:
            return super().clean()
        except ValidationError:
            if username:
                record_failure(username, self.request.META.get("REMOTE_ADDR") if self.request else None)
            raise

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        clear_failures(user.get_username())


class PortalLoginView(LoginView):
    template_name = "registration/login.html"
    authentication_form = RateLimitedAuthenticationForm


def admin_login_form():
    from django.contrib.admin.forms import AdminAuthenticationForm

    class RateLimitedAdminAuthenticationForm(RateLimitedAuthenticationForm, AdminAuthenticationForm):
        pass

    return RateLimitedAdminAuthenticationForm
