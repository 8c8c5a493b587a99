"""Roles map to Django groups; groups carry the model permissions the admin enforces.

Ops leads own the shared standards (templates, tracking plan, tracks, dashboard
templates), so they get full rights on those apps' models in the admin; researchers
own the research panel; viewers read. Per-product rights for PMs are checked in code
(portal.permissions), not through model permissions.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

from portal.models import Role

GROUP_NAMES = {
    Role.PM: "PMs",
    Role.OPS_LEAD: "Ops leads",
    Role.RESEARCHER: "Researchers",
    Role.VIEWER: "Viewers",
}

# app label -> which roles get every permission on its models in the admin
FULL_RIGHTS = {
    Role.OPS_LEAD: ["analytics", "experiments", "tooling", "feedback", "onboarding", "portal"],
    Role.RESEARCHER: ["research"],
}
VIEW_RIGHTS = {
    Role.OPS_LEAD: ["research"],
    Role.RESEARCHER: ["tooling", "feedback"],
}
STAFF_ROLES = {Role.OPS_LEAD, Role.RESEARCHER}
# Portal models nobody but superusers may change through the admin.
SUPERUSER_ONLY = {"user", "auditentry", "apitoken"}


def _permissions_for(role: str):
    full = FULL_RIGHTS.get(role, [])
    view = VIEW_RIGHTS.get(role, [])
    qs = Permission.objects.filter(content_type__app_label__in=full).exclude(
        content_type__app_label="portal", content_type__model__in=SUPERUSER_ONLY
    )
    viewable = Permission.objects.filter(content_type__app_label__in=view, codename__startswith="view_")
    if role == Role.OPS_LEAD:
        # ops leads read the audit log and people in the admin
        viewable = viewable | Permission.objects.filter(
            content_type__app_label="portal", codename__in=["view_auditentry", "view_user"]
        )
    return qs | viewable


def sync_role_groups() -> None:
    for role, name in GROUP_NAMES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions_for(role))


def sync_role_groups_after_migrate(sender=None, **kwargs) -> None:
    from django.conf import settings

    # Once per migrate run is enough: after the last app has its permissions.
    last_app = settings.INSTALLED_APPS[-1].split(".")[0]
    if sender is None or sender.label == last_app:
        sync_role_groups()


def group_for(role: str) -> Group:
    group, _ = Group.objects.get_or_create(name=GROUP_NAMES[role])
    return group
