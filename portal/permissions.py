"""Who may do what. Enforced server-side: in selectors (querysets), views and the API.

Rules:
- viewers read, never write;
- PMs write only objects of products they own or are members of (PMs own their
  experiments, roadmaps and documents), or products an ops lead opened to every PM
  (Product.editable_by_all_pms); ops leads and admins write everywhere;
- personal data (participants, customer contacts) is for researchers / study teams only
  (the research and feedback apps apply that in their own selectors).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from rest_framework.permissions import SAFE_METHODS, BasePermission

from portal.models import Product


def products_editable_by(user) -> QuerySet[Product]:
    if not user.is_authenticated or user.is_viewer:
        return Product.objects.none()
    if user.is_ops_lead:
        return Product.objects.all()
    team = Q(members=user) | Q(pm_owner=user)
    if user.is_pm:
        team |= Q(editable_by_all_pms=True)
    return Product.objects.filter(team).distinct()


def can_edit_product(user, product: Product | None) -> bool:
    if not user.is_authenticated or user.is_viewer:
        return False
    if user.is_ops_lead:
        return True
    if product is None:
        return user.is_pm or user.is_researcher
    if product.pm_owner_id == user.id or (product.editable_by_all_pms and user.is_pm):
        return True
    return product.members.filter(pk=user.pk).exists()


def require_product_edit(user, product: Product | None) -> None:
    """Raise PermissionDenied with a sentence a person understands."""
    if can_edit_product(user, product):
        return
    if user.is_authenticated and user.is_viewer:
        raise PermissionDenied("You have view access: viewers can read but not change anything.")
    name = product.name if product else "this product"
    raise PermissionDenied(f"You can view {name} but not edit it: you are not on its team.")


def require_ops_lead(user) -> None:
    if not (user.is_authenticated and user.is_ops_lead):
        raise PermissionDenied("Only ops leads can change shared standards.")


class ReadOnlyForViewers(BasePermission):
    """Default API permission: authenticated; viewers and read-scoped tokens only read."""

    message = "Viewers and read-only tokens can read but not write."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        token = getattr(request, "auth", None)
        if token is not None and getattr(token, "scopes", "write") == "read":
            return False
        return not user.is_viewer


class IsOpsLead(BasePermission):
    message = "Only ops leads can do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_ops_lead)
