"""The Celery app. Settings come from Django settings with the CELERY_ prefix.

Conventions for every task in the portal (see docs/architecture.md):
- `@shared_task(name="<app>.<verb>")`, take ids not objects, return quietly if the row
  is gone, and be safe to run twice (upserts on natural keys);
- dispatched with `task.delay_on_commit(...)` so no worker sees uncommitted rows;
- acks_late + reject_on_worker_lost are on by default (a killed worker's task is
  redelivered), so a task that is NOT idempotent must opt out explicitly.
"""

import logging
import os

from celery import Celery
from celery.contrib.django.task import DjangoTask
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

logger = logging.getLogger("portal.tasks")


class PortalTask(DjangoTask):
    """Dispatch never breaks a request: with the broker down, the row that needs work is
    already committed, so we log and move on; each app's sweeper task re-queues stored but
    unprocessed work once Redis is back (nothing is lost, nothing waits on Redis).
    Extends DjangoTask, which provides delay_on_commit."""

    def apply_async(self, args=None, kwargs=None, **options):
        try:
            return super().apply_async(args, kwargs, **options)
        except (OperationalError, ConnectionError, OSError) as exc:
            logger.warning("broker unavailable, %s not queued now (sweeper will re-queue): %s", self.name, exc)
            return None


app = Celery("portal", task_cls=PortalTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def schedule(name: str, task: str, seconds: float, **options) -> None:
    """Register a periodic task from an app's tasks module (beat schedule lives in code)."""
    app.conf.beat_schedule[name] = {"task": task, "schedule": seconds, **options}
