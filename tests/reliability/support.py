"""Shared pieces of the reliability suite: the World the tests probe, table fingerprints,
planted personal data."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection
from django.utils import timezone

from portal.models import Product, User

# Tables whose contents legitimately change on a read or a refused write.
VOLATILE_TABLES = {
    "django_session",  # logins
    "portal_apitoken",  # last_used_at is bumped by token authentication
    "django_migrations",
}


@dataclass
class World:
    """The demo company, seen through the roles the matrix tries."""

    own_product: Product  # checkout: owned by `pm`
    other_product: Product  # payments: `pm` is not on its team
    users: dict[str, User]  # anonymous is None
    bearer: dict[str, str] = field(default_factory=dict)  # write-scope token per user
    read_bearer: dict[str, str] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)  # route name -> concrete path
    pii: dict[str, int] = field(default_factory=dict)  # planted personal data: kind -> pk


ROLES = {
    "viewer": "viewer",  # stakeholder, reads only
    "pm_other": "diego",  # PM, not on checkout's team
    "pm_own": "pm",  # PM owning checkout
    "ops": "ops",  # ops lead
    "researcher": "researcher",
}


def table_fingerprint(exclude: set[str] = VOLATILE_TABLES) -> dict[str, str]:
    """md5 of every table's full contents, in one round trip: any insert/update/delete shows."""
    with connection.cursor() as cur:
        tables = [t for t in connection.introspection.table_names(cur) if t not in exclude]
        parts = [
            f"SELECT '{t}', md5(coalesce(string_agg(md5(x::text), '' ORDER BY md5(x::text)), '')) FROM \"{t}\" x"
            for t in tables
        ]
        cur.execute(" UNION ALL ".join(parts))
        return dict(cur.fetchall())


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(t for t in after if before.get(t) != after[t])


def _write_counters(exclude: set[str]) -> dict[str, int]:
    """Rows inserted/updated/deleted per table so far in this transaction (the test's)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables "
            "WHERE schemaname = 'public'"
        )
        return {t: n for t, n in cur.fetchall() if t not in exclude and n}


class TableWatch:
    """The md5 fingerprint of every table, re-taken only when PostgreSQL's per-transaction write
    counters moved: a request that wrote nothing cannot have changed any table, so a sweep of
    hundreds of refused writes costs hundreds of cheap counter reads, not full-table hashes.
    A write that was rolled back moves the counters but not the fingerprint, and passes."""

    def __init__(self, exclude: set[str] = VOLATILE_TABLES):
        self.exclude = exclude
        self.fingerprint = table_fingerprint(exclude)
        self.counters = _write_counters(exclude)

    def changes(self) -> list[str]:
        """Tables whose contents differ from the last call (or from construction)."""
        counters = _write_counters(self.exclude)
        if counters == self.counters:
            return []
        self.counters = counters
        after = table_fingerprint(self.exclude)
        changed = changed_tables(self.fingerprint, after)
        self.fingerprint = after
        return changed


PII_NAME = "Quillon Vasquez-Marrow"
PII_EMAIL = "quillon.pii-marker@example.org"
CONTACT_EMAIL = "dana.contact-marker@customer.example"


def plant_personal_data(world: World) -> dict:
    """A research participant and a customer contact with unmistakable markers."""
    from tests.reliability import objects

    planted = {}
    if apps.is_installed("research") and any(
        m.__name__ == "Participant" for m in apps.get_app_config("research").get_models()
    ):
        participant = apps.get_model("research.Participant").objects.create(
            name=PII_NAME, email=PII_EMAIL, company="Marker Corp", country="DE"
        )
        planted["participant"] = participant.pk
    from feedback.models import Contact, FeedbackItem

    source = objects._first("feedback.FeedbackSource", objects._feedback_source)
    account = apps.get_model("feedback.CustomerAccount").objects.create(
        name="Marker Account", name_key="marker account", segment="enterprise", arr=1000
    )
    contact = Contact.objects.create(account=account, email=CONTACT_EMAIL, name="Dana Contactmarker")
    FeedbackItem.objects.create(
        source=source,
        external_id="pii-marker-1",
        text="Checkout keeps timing out",
        account=account,
        contact=contact,
        product=world.own_product,
        created_at=timezone.now(),
    )
    planted["contact"] = contact.pk
    return planted
