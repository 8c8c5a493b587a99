from celery import shared_task

from portal.celery import schedule


@shared_task(name="portal.ping")
def ping(value: str) -> str:
    """Round-trip check used by /healthz and the tests: echoes into the cache."""
    from django.core.cache import cache

    cache.set(f"ping:{value}", "pong", timeout=60)
    return "pong"


@shared_task(name="portal.send_notification_email", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_email(notification_id: int) -> None:
    """Email one notification (SMTP when EMAIL_HOST is set, console otherwise). Idempotent:
    a notification is emailed once (emailed_at)."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.utils import timezone

    from portal.models import Notification

    note = Notification.objects.select_related("user").filter(pk=notification_id, emailed_at__isnull=True).first()
    if note is None or not note.user.email:
        return
    link = f"{settings.PORTAL_BASE_URL}{note.url}" if note.url else settings.PORTAL_BASE_URL
    send_mail(
        subject=f"[Product Ops Portal] {note.title}",
        message=f"{note.body}\n\n{link}\n\nChange what you receive on your profile page.",
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[note.user.email],
    )
    Notification.objects.filter(pk=note.pk).update(emailed_at=timezone.now())


@shared_task(name="portal.usage_flush")
def usage_flush() -> int:
    """Drain the buffered usage events into the portal's own analytics (idempotent: uuids)."""
    from portal import usage

    return usage.flush_all()


schedule("portal.usage_flush", "portal.usage_flush", 30)


@shared_task(name="portal.monthly_reports")
def monthly_reports() -> int:
    """Last month's report per business unit, stored once and sent to subscribers (idempotent)."""
    from portal import reports

    return reports.monthly_reports_run()


schedule("portal.monthly_reports", "portal.monthly_reports", 6 * 3600)


@shared_task(name="portal.alerts_sweep")
def alerts_sweep() -> dict:
    """Guardrail regressions and stale templates, notified once per dedupe key."""
    from portal import alerts

    return alerts.alerts_sweep()


schedule("portal.alerts_sweep", "portal.alerts_sweep", 3600)


@shared_task(name="portal.prune_raw_events")
def prune_raw_events() -> int:
    """Daily: delete raw analytics events beyond RAW_EVENT_RETENTION_DAYS (0 disables)."""
    from portal.retention import raw_events_prune

    return raw_events_prune()


schedule("portal.prune_raw_events", "portal.prune_raw_events", 24 * 3600)
