"""`Authorization: Bearer <token>` for personal API tokens (stored hashed)."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS

from portal import tokens


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(f"{self.keyword} "):
            return None
        secret = header[len(self.keyword) + 1 :].strip()
        if not secret.startswith(tokens.PERSONAL_PREFIX):
            return None  # another bearer scheme (e.g. an ingestion write key) handles it
        token = tokens.api_token_lookup(secret)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token's user is deactivated.")
        if token.scopes == "read" and request.method not in SAFE_METHODS:
            # Enforced here, not only in ReadOnlyForViewers, so views with their own
            # permission_classes (IsOpsLead, AllowAny webhooks…) cannot be written with it.
            raise exceptions.PermissionDenied("This API token is read-only: it can read but not write.")
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            type(token).objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword
