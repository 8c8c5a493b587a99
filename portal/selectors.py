"""Portal-wide reads."""

from __future__ import annotations

from django.db.models import QuerySet

from portal.models import ApiToken, Notification, Product, User


def product_list(*, include_internal: bool = False) -> QuerySet[Product]:
    """Products people work on; internal ones (the portal itself) only when asked for."""
    qs = Product.objects.select_related("unit", "pm_owner").prefetch_related("markets")
    return qs if include_internal else qs.filter(is_internal=False)


def product_get(slug: str) -> Product:
    return product_list(include_internal=True).get(slug=slug)


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)
