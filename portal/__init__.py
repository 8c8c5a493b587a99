"""Product Ops Portal: the shell app (settings, org model, home, search, audit)."""

from .celery import app as celery_app

__all__ = ("celery_app",)
