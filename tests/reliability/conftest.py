"""The reliability suite works on the seeded demo company (small mode): every app's real
objects exist, so the permission matrix probes real rows, not empty tables.

The demo is loaded once per module and removed again afterwards (flush), so other
suites in the same run never see it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.core.management import call_command
from django.db import connection

from portal import tokens
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


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("seed_demo", "--small", verbosity=0)
        users = {role: User.objects.get(username=username) for role, username in ROLES.items()}
        own = Product.objects.get(slug="checkout")
        other = Product.objects.get(slug="payments")
        assert users["pm_own"] in (own.pm_owner, *own.members.all())
        assert not own.members.filter(pk=users["pm_other"].pk).exists() and own.pm_owner != users["pm_other"]
        w = World(own_product=own, other_product=other, users=users)
        for role, user in users.items():
            w.bearer[role] = tokens.api_token_create(user=user, name=f"matrix {role}")[1]
            w.read_bearer[role] = tokens.api_token_create(user=user, name=f"matrix {role} ro", scopes="read")[1]
        try:
            yield w
        finally:
            call_command("flush", "--no-input", verbosity=0)


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
