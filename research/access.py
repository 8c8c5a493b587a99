"""Who may see and change what in research (server-side; used by selectors, services, views, API).

- Researchers (and superusers) run the panel: they see names and emails of everyone.
- A study's owner and team see names and emails of that study's participants.
- Everyone else sees the stable pseudonym ("P-1042"), never personal fields.
- The insight repository is open to every signed-in person; viewers never write.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q


def sees_all_pii(user) -> bool:
    return bool(user and user.is_authenticated and user.is_researcher)


def is_study_team(user, study) -> bool:
    if not (user and user.is_authenticated):
        return False
    if study.owner_id == user.id:
        return True
    return study.team.filter(pk=user.pk).exists()


def can_manage_study(user, study) -> bool:
    if not (user and user.is_authenticated) or user.is_viewer:
        return False
    return user.is_researcher or user.is_ops_lead or is_study_team(user, study)


def require_manage_study(user, study) -> None:
    if can_manage_study(user, study):
        return
    if user.is_authenticated and user.is_viewer:
        raise PermissionDenied("You have view access: viewers can read but not change anything.")
    raise PermissionDenied(f"You can view “{study.title}” but not change it: you are not on its team.")


def require_researcher(user, what: str = "manage the participant panel") -> None:
    if not sees_all_pii(user):
        raise PermissionDenied(f"Only researchers can {what}.")


def require_writer(user) -> None:
    if not (user and user.is_authenticated) or user.is_viewer:
        raise PermissionDenied("You have view access: viewers can read but not change anything.")


def team_studies_q(user) -> Q:
    """Studies the user owns or is on the team of."""
    return Q(owner=user) | Q(team=user)
