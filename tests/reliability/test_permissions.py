"""Permission matrix (OWASP ASVS V8): every route the URL resolver knows, as every role.

Routes are discovered by walking the resolver, so an endpoint added tomorrow is tried
as anonymous and as a viewer without anyone listing it. Routes with object ids are
filled with a real object of the demo company's `checkout` product (owned by `pm`)
through OBJECT_ROUTES, which is how id-guessing across products is tried: `diego`
(a PM of payments) and `viewer` send writes at checkout's objects and nothing may change.

Every refused write is checked twice: by its status and by an md5 fingerprint of every
table, so "200 but silently ignored" and "403 after writing half" both fail.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.reliability.objects import OBJECT_ROUTES, _token_of_pm
from tests.reliability.support import (
    CONTACT_EMAIL,
    PII_EMAIL,
    PII_NAME,
    TableWatch,
    World,
    changed_tables,
    table_fingerprint,
)
from tests.reliability.urlwalk import Route, all_routes

pytestmark = pytest.mark.django_db

# Reachable without a session on purpose.
PUBLIC_ROUTES = {"healthz", "login", "logout", "favicon.ico"}
# Routes authenticated by something other than a user (HMAC, source write keys): anonymous
# requests must be refused with 401/403, which the anonymous test checks.
# Self-service writes every signed-in person may make on their own things.
SELF_SERVICE_WRITES = {
    "logout",
    "login",
    "profile",  # create your own API token
    "notification-prefs",
    "token-revoke",  # only your own token: see test_token_revoke_is_per_user
}
# Roles that must never see personal data (they are on no study team in the demo).
PII_BLIND_ROLES = {"viewer", "pm_other", "pm_own"}
# Writes any signed-in user may make whatever their role or product (with the reason).
ANY_USER_WRITES: dict[str, str] = {
    "experiments:refresh": "recomputes stored results (derived data); changes nothing a PM owns",
    "experiments-api-refresh": "recomputes stored results (derived data, throttled); viewers get 403 here",
    "research:insight": "viewing an insight records the first view (insight.view adoption metric)",
    "analytics:dashboard-refresh": "recomputes cached tile results (derived data, rate-limited per dashboard)",
}
# Writes any PM may make on another product's object (advisory collaboration).
CROSS_PRODUCT_WRITES: dict[str, str] = {
    "tooling:document-comment": "reviews are advisory: any PM may comment on any document",
    "tooling:template-detail": "any PM may suggest a change to a shared template (ops leads triage)",
}


def routes() -> list[Route]:
    return all_routes()


def route_ids(r: Route) -> str:
    return r.name


def _path(route: Route, world: World) -> str:
    return world.paths[route.name]


_CLIENTS: dict[str, Client] = {}


def _client(world: World, role: str | None) -> Client:
    """One logged-in client per role, made before any fingerprint (a login writes rows)."""
    if not role:
        return Client()
    if role not in _CLIENTS:
        client = Client()
        client.force_login(world.users[role])
        _CLIENTS[role] = client
    return _CLIENTS[role]


@pytest.fixture(scope="module", autouse=True)
def _logged_in(world, django_db_blocker):
    with django_db_blocker.unblock():
        _CLIENTS.clear()
        for role in world.users:
            _client(world, role)


def _send(
    world: World, route: Route, role: str | None, method: str, *, read_token: bool = False, path: str | None = None
):
    """API routes are called with a bearer token (as integrations do; no CSRF in the way),
    pages with a session."""
    path = path or _path(route, world)
    client = Client() if route.is_api else _client(world, role)
    headers = {}
    if route.is_api and role:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {(world.read_bearer if read_token else world.bearer)[role]}"
    body = json.dumps({"title": "x", "name": "x", "status": "approved", "items": []})
    send = getattr(client, method.lower())
    if method == "GET":
        return send(path, **headers)
    if route.is_api:
        return send(path, data=body, content_type="application/json", **headers)
    return send(path, data={"title": "x", "name": "x", "status": "approved", "body": "x"}, **headers)


WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and "/accounts/login/" in response.get("Location", "")


def _write_refused(route: Route, response) -> bool:
    """APIs must say no (401/403/404/405). A page may answer a POST it ignores with its
    normal GET rendering or a redirect; the table fingerprint proves nothing was written."""
    if route.is_api:
        return response.status_code in (401, 403, 404, 405)
    return response.status_code < 500


def test_the_table_watch_sees_a_write_and_ignores_a_rolled_back_one(world):
    """The matrix trusts TableWatch to say 'nothing changed'; prove it can say otherwise."""
    from django.db import transaction

    watch = TableWatch()
    assert watch.changes() == []
    with pytest.raises(RuntimeError), transaction.atomic():
        world.other_product.__class__.objects.filter(pk=world.other_product.pk).update(name="Rolled back")
        raise RuntimeError
    assert watch.changes() == []
    world.other_product.__class__.objects.filter(pk=world.other_product.pk).update(description="written")
    assert watch.changes() == ["portal_product"]
    world.other_product.__class__.objects.filter(pk=world.other_product.pk).update(
        description=world.other_product.description
    )
    assert watch.changes() == ["portal_product"]  # back to the original contents, still a change from the last look


def test_the_walk_finds_every_app(world):
    names = {r.name for r in routes()}
    assert {"home", "healthz", "search", "api-schema"} <= names
    for app in ("analytics", "tooling", "feedback"):
        assert f"{app}:index" in names


def test_every_object_route_has_a_cross_product_case(world):
    """A new route with an id must say which object it points at, or id-guessing is untested."""
    missing = [r.template for r in routes() if r.params and r.name not in OBJECT_ROUTES]
    assert missing == [], f"add these to OBJECT_ROUTES in {__file__}: {missing}"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_anonymous_is_sent_to_login_or_refused_everywhere(world, method):
    failures = []
    before = table_fingerprint()
    for route in routes():
        if route.name in PUBLIC_ROUTES:
            continue
        response = _send(world, route, None, method)
        ok = _is_login_redirect(response) if not route.is_api else response.status_code in (401, 403, 405)
        if not ok:
            failures.append(f"{method} {route.template} -> {response.status_code}")
    assert not failures, "\n".join(failures)
    assert changed_tables(before, table_fingerprint()) == []


def test_viewer_never_writes(world):
    """Viewers read everything but no write succeeds, with a session or a write-scope token."""
    failures = []
    watch = TableWatch()
    for route in routes():
        if route.name in SELF_SERVICE_WRITES or route.name in ANY_USER_WRITES or route.name in PUBLIC_ROUTES:
            continue
        for method in WRITE_METHODS if route.is_api else ("POST",):
            response = _send(world, route, "viewer", method)
            changed = watch.changes()
            if _write_refused(route, response) is False or changed:
                failures.append(f"{method} {route.template} -> {response.status_code}, changed {changed}")
    assert not failures, "\n".join(failures)


def test_read_scoped_tokens_never_write(world):
    failures = []
    watch = TableWatch()
    for route in routes():
        if not route.is_api:
            continue
        for method in WRITE_METHODS:
            response = _send(world, route, "ops", method, read_token=True)
            changed = watch.changes()
            if response.status_code not in (401, 403, 404, 405) or changed:
                failures.append(f"{method} {route.template} -> {response.status_code}, changed {changed}")
    assert not failures, "\n".join(failures)


def test_pm_of_another_product_cannot_write_by_guessing_ids(world):
    """diego (payments) sends writes at checkout's objects: refused and nothing changes."""
    failures = []
    watch = TableWatch()
    for route in routes():
        if not route.params or route.name not in OBJECT_ROUTES:
            continue
        if route.name in SELF_SERVICE_WRITES | set(ANY_USER_WRITES) | set(CROSS_PRODUCT_WRITES) | PUBLIC_ROUTES:
            continue
        if route.name.startswith("feedback-api-webhook"):
            continue  # machine endpoints: HMAC, covered by the anonymous test and feedback's own tests
        for method in WRITE_METHODS if route.is_api else ("POST",):
            response = _send(world, route, "pm_other", method)
            changed = watch.changes()
            if _write_refused(route, response) is False or changed:
                failures.append(f"{method} {route.template} -> {response.status_code}, changed {changed}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", ["viewer", "pm_other", "pm_own", "ops"])
def test_every_read_answers_without_server_error_or_personal_data(world, role):
    """GET every route as every role: never a 5xx; and for viewers and PMs (not on a study
    team) no participant name/email or customer contact email anywhere, also when search
    pages are asked for them by name."""
    errors, leaks = [], []
    check_pii = role in PII_BLIND_ROLES
    for route in routes():
        if route.name in {"logout", "healthz"}:
            continue  # healthz is 503 by design here: no worker runs in this test
        path = _path(route, world)
        queries = [""] if route.params or not check_pii else ["", f"?q={PII_NAME.split()[0]}&search={PII_EMAIL}"]
        for query in queries:
            response = _send(world, route, role, "GET", path=path + query)
            if response.status_code >= 500:
                errors.append(f"GET {route.template}{query} -> {response.status_code}")
            if check_pii:
                body = response.content.decode(errors="replace")
                leaks += [
                    f"{route.template}{query} shows {m}" for m in (PII_NAME, PII_EMAIL, CONTACT_EMAIL) if m in body
                ]
    assert not errors, "\n".join(errors)
    assert not leaks, "\n".join(leaks)


def test_token_revoke_is_per_user(world):
    """Guessing another person's token id does not revoke it."""
    from portal.models import ApiToken

    route = next(r for r in routes() if r.name == "token-revoke")
    target = _token_of_pm(world)["pk"]
    for role in ("viewer", "pm_other", "ops"):
        response = _client(world, role).post(route.path({"pk": target}))
        assert response.status_code in (403, 404), role
    assert ApiToken.objects.get(pk=target).revoked_at is None
    response = _client(world, "pm_own").post(route.path({"pk": target}))
    assert response.status_code in (200, 302)
    assert ApiToken.objects.get(pk=target).revoked_at is not None


@pytest.mark.parametrize("role", ["viewer", "pm_own"])
def test_admin_requires_staff(world, role):
    response = _client(world, role).get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_ops_lead_reaches_the_admin(world):
    assert _client(world, "ops").get("/admin/").status_code == 200


def test_researchers_do_see_participants_so_the_leak_test_can_fail(world):
    if "participant" not in world.pii:
        pytest.skip("research has no participants yet on this branch")
    route = next(r for r in routes() if r.name == "research:participant")
    response = _client(world, "researcher").get(route.path({"pk": world.pii["participant"]}))
    assert response.status_code == 200
    assert PII_EMAIL in response.content.decode()
