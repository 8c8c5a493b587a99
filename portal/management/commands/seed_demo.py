"""Load the demo company and every app's demo data. Idempotent: run it as often as you like."""

from __future__ import annotations

import time
from importlib import import_module
from importlib.util import find_spec

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal import demo
from portal.models import AuditEntry, User
from portal.services import audit_record


class Command(BaseCommand):
    help = "Create the demo company (3 units, 6 products, demo logins with password 'demo') and app demo data."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if the demo was loaded before")
        parser.add_argument("--only", action="append", default=[], help="Only seed these apps (repeatable)")
        parser.add_argument("--org-only", action="store_true", help="Only the company, products and logins")
        parser.add_argument(
            "--small", action="store_true", help="A small demo (tests): same shapes, a fraction of the volume"
        )

    def handle(self, *args, if_empty=False, only=(), small=False, org_only=False, **options):
        unknown = set(only) - set(settings.PORTAL_APPS)
        if unknown:
            raise CommandError(f"Unknown app(s) {', '.join(sorted(unknown))}; choose from {settings.PORTAL_APPS}")
        if if_empty and self._already_loaded(org_only):
            self.stdout.write("Demo data already loaded; skipping (run seed_demo without --if-empty to top up).")
            return
        started = time.monotonic()
        org = demo.seed_org()
        self.stdout.write(f"org: {len(org.units)} units, {len(org.products)} products, {len(org.users)} people")
        if org_only:
            return
        for app_label in seed_order():
            if only and app_label not in only:
                continue
            if not find_spec(f"{app_label}.demo"):
                continue
            app_started = time.monotonic()
            summary = import_module(f"{app_label}.demo").seed(org, small=small)
            self.stdout.write(f"{app_label}: {summary or 'done'} ({time.monotonic() - app_started:.1f} s)")
        if not only:
            from portal.demo_usage import seed_usage

            usage_started = time.monotonic()
            summary = seed_usage(org, small=small)
            self.stdout.write(f"portal usage: {summary} ({time.monotonic() - usage_started:.1f} s)")
            audit_record(actor=None, action="demo.seed", target_label="seed_demo", changes={"small": small})
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready in {time.monotonic() - started:.1f} s. Logins: "
                "pm, ops, newpm, researcher, viewer, admin (password: demo)"
            )
        )

    @staticmethod
    def _already_loaded(org_only: bool) -> bool:
        if org_only:
            return User.objects.filter(username="admin").exists()
        return AuditEntry.objects.filter(action="demo.seed").exists()


def seed_order() -> list[str]:
    """PORTAL_APPS with tooling moved up: experiments create their briefs from tooling's published
    templates, and feedback links themes to tooling's roadmap items."""
    apps = [a for a in settings.PORTAL_APPS if a != "tooling"]
    at = apps.index("experiments") if "experiments" in apps else len(apps)
    return [*apps[:at], "tooling", *apps[at:]] if "tooling" in settings.PORTAL_APPS else apps
