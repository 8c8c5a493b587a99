"""Secrets shown once and stored as SHA-256: personal API tokens (and, in analytics,
source write keys use the same helpers). Tokens are 256-bit random, so a fast hash
is enough; there is nothing to brute-force."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from portal.models import ApiToken

PERSONAL_PREFIX = "pop_"


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str, scopes: str = "write", by=None) -> tuple[ApiToken, str]:
    """Create a token; returns it and the secret, which is never retrievable again."""
    from portal.services import audit_record

    secret = new_secret(PERSONAL_PREFIX)
    token = ApiToken(user=user, name=name, prefix=secret[:10], key_hash=hash_secret(secret), scopes=scopes)
    token.full_clean()
    token.save()
    audit_record(actor=by or user, action="api_token.create", target=token, changes={"scopes": scopes})
    return token, secret


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by) -> ApiToken:
    from portal.services import audit_record

    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=by, action="api_token.revoke", target=token)
    return token


def api_token_lookup(secret: str) -> ApiToken | None:
    return ApiToken.objects.select_related("user").filter(key_hash=hash_secret(secret), revoked_at__isnull=True).first()
