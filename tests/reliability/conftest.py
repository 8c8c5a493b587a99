"""The reliability suite works on the seeded demo company (small mode): every app's real
objects exist, so the permission matrix probes real rows, not empty tables.

The demo is loaded once per module and removed again afterwards (flush), so other
suites in the same run never see it.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command

from portal import tokens
from portal.models import Product, User
from tests.reliability.objects import OBJECT_ROUTES
from tests.reliability.support import ROLES, World, plant_personal_data
from tests.reliability.urlwalk import all_routes


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
        w.pii = plant_personal_data(w)
        for route in all_routes():
            make = OBJECT_ROUTES.get(route.name)
            w.paths[route.name] = route.path(make(w) if make and route.params else None)
        try:
            yield w
        finally:
            call_command("flush", "--no-input", verbosity=0)
