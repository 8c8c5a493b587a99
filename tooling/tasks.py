"""Tooling Celery tasks: thin and idempotent (see portal/celery.py)."""

from __future__ import annotations

from celery import shared_task

from portal.celery import schedule
from tooling import services


@shared_task(name="tooling.send_launch_reminders")
def send_launch_reminders() -> int:
    """Overdue launch checklist items and due follow-ups → the owner's inbox (once each)."""
    return services.launch_reminders_send()


schedule("tooling.send_launch_reminders", "tooling.send_launch_reminders", 3600)
