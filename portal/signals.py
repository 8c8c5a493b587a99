"""Login events go to the audit log (failed logins too: they matter for security)."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver


def _ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR")


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    from portal.services import audit_record

    audit_record(actor=user, action="auth.login", target=user, ip=_ip(request))


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    from portal.services import audit_record

    username = str(credentials.get("username", ""))[:150]
    audit_record(actor=None, action="auth.login_failed", target_label=username, ip=_ip(request))


def _admin_logentry_saved(sender, instance, created, **kwargs):
    """Mirror every admin change into the audit log (the admin's own log is editable)."""
    if not created:
        return
    from portal.services import audit_record

    verb = {1: "add", 2: "change", 3: "delete"}.get(instance.action_flag, "change")
    label = f"{instance.content_type.app_label}.{instance.content_type.model}" if instance.content_type else ""
    audit_record(
        actor=instance.user,
        action=f"admin.{verb}",
        target_label=f"{label} #{instance.object_id}: {instance.object_repr}"[:255],
        changes={"message": instance.get_change_message()[:2000]},
    )


def connect_admin_audit():
    from django.contrib.admin.models import LogEntry
    from django.db.models.signals import post_save

    post_save.connect(_admin_logentry_saved, sender=LogEntry, dispatch_uid="portal-admin-audit")


connect_admin_audit()
