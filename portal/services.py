"""Portal-wide writes every app uses: audit records, notifications, roles, membership."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.db.utils import IntegrityError
from django.utils import timezone

from portal.models import AuditEntry, Notification, NotificationPreference, Product, Role, User


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    target_label: str = "",
    changes: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Append one audit entry. `action` is `<thing>.<verb>`, e.g. `template.publish`."""
    entry = AuditEntry(
        actor=actor if actor is not None and actor.pk else None,
        actor_label=(actor.username if actor is not None else "system"),
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=(target_label or (str(target) if target is not None else ""))[:255],
        changes=changes or {},
        ip=ip,
    )
    entry.save()
    if actor is not None and actor.pk:
        from portal import usage

        usage.track_action(user=actor, action=action, target=target)
    return entry


NOTIFICATION_KINDS = {
    "review.requested": "Review requests",
    "experiment.srm": "Sample-ratio mismatch alerts",
    "experiment.guardrail": "Guardrail regressions",
    "feedback.spike": "Feedback spikes",
    "onboarding.overdue": "Overdue onboarding tasks",
    "standards.stale": "Stale templates and tracks you own",
    "analytics.violation": "New tracking-plan violations",
    "report.monthly": "Monthly product-ops report",
    # Kinds the apps send beyond the list above (so people can switch them off too).
    "review.approved": "Your document was approved",
    "review.comment": "Review comments on your documents",
    "template.suggestion": "Suggestions on templates you own",
    "onboarding.enrolled": "Onboarding enrollments",
    "onboarding.completed": "Onboarding completed (your reports)",
    "onboarding.track_changed": "Changes to your onboarding track",
    "onboarding.track_stale": "Stale onboarding tracks you own",
    "onboarding.article_weak": "Knowledge articles rated unhelpful",
}


def notification_channels(*, user: User, kind: str) -> tuple[bool, bool]:
    """(in_app, email) for this user and kind: the kind's row, else the '*' row, else both."""
    prefs = {p.kind: p for p in NotificationPreference.objects.filter(user=user, kind__in=[kind, "*"])}
    pref = prefs.get(kind) or prefs.get("*")
    return (pref.in_app, pref.email) if pref else (True, True)


def notify(
    *, user: User, kind: str, title: str, body: str = "", url: str = "", dedupe_key: str = ""
) -> Notification | None:
    """Put a message in a user's inbox and email it (by their preferences), via Celery.

    With a dedupe_key, at most once per key: alerts with a hold-down use it.
    """
    from portal.tasks import send_notification_email

    in_app, email = notification_channels(user=user, kind=kind)
    try:
        with transaction.atomic():
            note = Notification.objects.create(
                user=user,
                kind=kind,
                title=title[:200],
                body=body,
                url=url,
                dedupe_key=dedupe_key,
                read_at=None if in_app else timezone.now(),
            )
    except IntegrityError:
        return None  # already notified for this key
    if email and user.email:
        send_notification_email.delay_on_commit(note.pk)
    return note


@transaction.atomic
def notification_preferences_set(*, user: User, choices: dict[str, tuple[bool, bool]]) -> None:
    for kind, (in_app, email) in choices.items():
        NotificationPreference.objects.update_or_create(
            user=user, kind=kind, defaults={"in_app": in_app, "email": email}
        )


@transaction.atomic
def user_set_role(*, user: User, role: str, by: User | None) -> User:
    """Change a person's role: group membership and admin access follow it."""
    from portal import roles

    if role not in Role.values:
        raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}")
    previous = user.role
    user.role = role
    user.is_staff = user.is_superuser or role in roles.STAFF_ROLES
    user.save(update_fields=["role", "is_staff"])
    user.groups.remove(*[roles.group_for(r) for r in Role.values])
    user.groups.add(roles.group_for(role))
    if previous != role:
        audit_record(actor=by, action="user.role_change", target=user, changes={"from": previous, "to": role})
    return user


@transaction.atomic
def product_add_member(*, product: Product, user: User, by: User | None) -> None:
    product.members.add(user)
    audit_record(actor=by, action="product.member_add", target=product, changes={"user": user.username})
