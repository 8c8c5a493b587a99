"""`Authorization: Bearer <token>` for personal API tokens (stored hashed)."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import authentication, exceptions

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
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            type(token).objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword
