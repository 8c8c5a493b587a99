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
from collections.abc import Callable

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from tests.reliability.conftest import World, changed_tables, table_fingerprint
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
# Writes any signed-in user may make whatever their role or product (with the reason).
ANY_USER_WRITES: dict[str, str] = {}
# Writes any PM may make on another product's object (advisory collaboration).
CROSS_PRODUCT_WRITES: dict[str, str] = {}


def _first(model: str, make: Callable | None = None, **filters):
    """The demo's first matching object; `make` creates one where an app has no demo data yet."""
    obj = apps.get_model(model).objects.filter(**filters).order_by("pk").first()
    if obj is None and make is not None:
        obj = make()
    assert obj is not None, f"the small demo has no {model} matching {filters}: seed it so the matrix can probe it"
    return obj


def _event_definition(world: World):
    from analytics import services

    return services.event_definition_create(product=world.own_product, name="order_completed", status="active")


def _token_of_pm(world: World) -> dict:
    token = _first("portal.ApiToken", user=world.users["pm_own"], revoked_at__isnull=True)
    return {"pk": token.pk}


def _document(w: World):
    from tooling import services

    return services.document_create_from_template(
        kind="prd", product=w.own_product, owner=w.users["pm_own"], title="Checkout PRD"
    )


def _roadmap_item(w: World):
    from tooling import services

    return services.roadmap_item_create(product=w.own_product, title="One-click reorder", by=w.users["pm_own"])


def _launch(w: World):
    import datetime

    from tooling.models import Launch

    return Launch.objects.create(
        product=w.own_product, feature="Saved cards", launch_date=datetime.date(2026, 12, 1), owner=w.users["pm_own"]
    )


def _feedback_source():
    from feedback.models import FeedbackSource

    return FeedbackSource.objects.create(name="Zendesk", slug="zendesk", kind="support")


# route name -> kwargs pointing at an object of checkout (the product `pm` owns).
OBJECT_ROUTES: dict[str, Callable[[World], dict]] = {
    "token-revoke": _token_of_pm,
    "analytics:event-detail": lambda w: {
        "product": w.own_product.slug,
        "name": _first("analytics.EventDefinition", lambda: _event_definition(w), product=w.own_product).name,
    },
    "tooling:template-detail": lambda w: {"slug": _first("tooling.Template").slug},
    "tooling:document-detail": lambda w: {
        "pk": _first("tooling.Document", lambda: _document(w), product=w.own_product).pk
    },
    "tooling:roadmap-item": lambda w: {
        "pk": _first("tooling.RoadmapItem", lambda: _roadmap_item(w), product=w.own_product).pk
    },
    "tooling:launch-detail": lambda w: {"pk": _first("tooling.Launch", lambda: _launch(w), product=w.own_product).pk},
    "feedback-api-webhook-zendesk": lambda w: {"slug": _first("feedback.FeedbackSource", _feedback_source).slug},
    "feedback-api-webhook-intercom": lambda w: {"slug": _first("feedback.FeedbackSource", _feedback_source).slug},
}


def routes() -> list[Route]:
    return all_routes()


def route_ids(r: Route) -> str:
    return r.name


@pytest.fixture(scope="module")
def world(world, django_db_blocker):
    """Resolve every registered route to a real object once, before any fingerprint is taken."""
    with django_db_blocker.unblock():
        world.paths = {}
        for route in all_routes():
            make = OBJECT_ROUTES.get(route.name)
            world.paths[route.name] = route.path(make(world) if make and route.params else None)
        world.pii = _plant_personal_data(world)
        _CLIENTS.clear()
        for role in world.users:
            _client(world, role)
    return world


PII_NAME = "Quillon Vasquez-Marrow"
PII_EMAIL = "quillon.pii-marker@example.org"
CONTACT_EMAIL = "dana.contact-marker@customer.example"


def _plant_personal_data(world: World) -> dict:
    """A research participant and a customer contact with unmistakable markers."""
    planted = {}
    if apps.is_installed("research") and any(
        m.__name__ == "Participant" for m in apps.get_app_config("research").get_models()
    ):
        participant = apps.get_model("research.Participant").objects.create(
            name=PII_NAME, email=PII_EMAIL, company="Marker Corp", country="DE"
        )
        planted["participant"] = participant.pk
    from feedback.models import Contact, FeedbackItem

    source = _first("feedback.FeedbackSource", _feedback_source)
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
    assert failures == []
    assert changed_tables(before, table_fingerprint()) == []


def test_viewer_never_writes(world):
    """Viewers read everything but no write succeeds, with a session or a write-scope token."""
    failures = []
    for route in routes():
        if route.name in SELF_SERVICE_WRITES or route.name in ANY_USER_WRITES or route.name in PUBLIC_ROUTES:
            continue
        for method in WRITE_METHODS if route.is_api else ("POST",):
            before = table_fingerprint()
            response = _send(world, route, "viewer", method)
            changed = changed_tables(before, table_fingerprint())
            if _write_refused(route, response) is False or changed:
                failures.append(f"{method} {route.template} -> {response.status_code}, changed {changed}")
    assert failures == []


def test_read_scoped_tokens_never_write(world):
    failures = []
    for route in routes():
        if not route.is_api:
            continue
        for method in WRITE_METHODS:
            before = table_fingerprint()
            response = _send(world, route, "ops", method, read_token=True)
            changed = changed_tables(before, table_fingerprint())
            if response.status_code not in (401, 403, 404, 405) or changed:
                failures.append(f"{method} {route.template} -> {response.status_code}, changed {changed}")
    assert failures == []


def test_pm_of_another_product_cannot_write_by_guessing_ids(world):
    """diego (payments) sends writes at checkout's objects: refused and nothing changes."""
    failures = []
    for route in routes():
        if not route.params or route.name not in OBJECT_ROUTES:
            continue
        if route.name in SELF_SERVICE_WRITES | set(ANY_USER_WRITES) | set(CROSS_PRODUCT_WRITES) | PUBLIC_ROUTES:
            continue
        if route.name.startswith("feedback-api-webhook"):
            continue  # machine endpoints: HMAC, covered by the anonymous test and feedback's own tests
        for method in WRITE_METHODS if route.is_api else ("POST",):
            before = table_fingerprint()
            response = _send(world, route, "pm_other", method)
            changed = changed_tables(before, table_fingerprint())
            if _write_refused(route, response) is False or changed:
                failures.append(f"{method} {route.template} -> {response.status_code}, changed {changed}")
    assert failures == []


@pytest.mark.parametrize("role", ["viewer", "pm_other", "pm_own", "ops", "researcher"])
def test_every_page_and_api_read_answers_without_server_error(world, role):
    failures = []
    for route in routes():
        if route.name in {"logout", "healthz"}:
            continue  # healthz is 503 by design here: no worker runs in this test
        response = _send(world, route, role, "GET")
        if response.status_code >= 500:
            failures.append(f"GET {route.template} -> {response.status_code}")
    assert failures == []


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


@pytest.mark.parametrize("role", ["viewer", "pm_other", "pm_own"])
def test_personal_data_is_never_shown_to_roles_that_do_not_need_it(world, role):
    """Participants' names/emails and customer contacts' emails appear on no page or API
    response (searched for by name too) for viewers and PMs outside the study team."""
    leaks = []
    for route in routes():
        if route.name in {"logout", "healthz"}:
            continue
        path = _path(route, world)
        for query in ("", f"?q={PII_NAME.split()[0]}&search={PII_EMAIL}"):
            response = _send(world, route, role, "GET", path=path + query)
            body = response.content.decode(errors="replace")
            for marker in (PII_NAME, PII_EMAIL, CONTACT_EMAIL):
                if marker in body:
                    leaks.append(f"{route.template}{query} shows {marker}")
    assert leaks == []


def test_researchers_do_see_participants_so_the_leak_test_can_fail(world):
    if "participant" not in world.pii:
        pytest.skip("research has no participants yet on this branch")
    route = next(r for r in routes() if r.name == "research:participant")
    response = _client(world, "researcher").get(route.path({"pk": world.pii["participant"]}))
    assert response.status_code == 200
    assert PII_EMAIL in response.content.decode()
