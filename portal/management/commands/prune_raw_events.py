"""Delete raw analytics events older than the retention window (RAW_EVENT_RETENTION_DAYS)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.retention import raw_events_prune


class Command(BaseCommand):
    help = "Delete raw analytics events older than N days (default RAW_EVENT_RETENTION_DAYS); rollups are kept."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Keep this many days of raw events")
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be deleted")

    def handle(self, *args, days=None, dry_run=False, **options):
        days = settings.RAW_EVENT_RETENTION_DAYS if days is None else days
        if days < 1:
            raise CommandError("--days must be at least 1 (RAW_EVENT_RETENTION_DAYS=0 disables the daily task).")
        count = raw_events_prune(days=days, dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(f"{verb} {count:,} raw events older than {days} days")
