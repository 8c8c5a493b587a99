"""Periodic onboarding work: thin, idempotent (notifications are deduplicated per key)."""

from __future__ import annotations

from celery import shared_task

from onboarding import services
from portal.celery import schedule


@shared_task(name="onboarding.send_overdue_reminders")
def send_overdue_reminders() -> int:
    """Remind each person once per task that went overdue."""
    return services.overdue_reminders_send()


@shared_task(name="onboarding.send_stale_notices")
def send_stale_notices() -> int:
    """Tell owners about tracks due for review and articles readers find weak."""
    return services.stale_notices_send()


schedule("onboarding-overdue-reminders", "onboarding.send_overdue_reminders", 60 * 60)
schedule("onboarding-stale-notices", "onboarding.send_stale_notices", 6 * 60 * 60)
