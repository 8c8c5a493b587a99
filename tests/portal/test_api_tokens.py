from django.core.management import call_command

from portal import tokens
from portal.models import AuditEntry


def test_bearer_token_authenticates_and_records_last_use(api_client, pm):
    token, secret = tokens.api_token_create(user=pm, name="notebook")
    response = api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    assert response.json()["username"] == pm.username
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.key_hash != secret and secret not in token.key_hash


def test_revoked_token_is_refused_with_a_reason(api_client, pm):
    token, secret = tokens.api_token_create(user=pm, name="old")
    tokens.api_token_revoke(token=token, by=pm)
    response = api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid or revoked API token."
    assert AuditEntry.objects.filter(action="api_token.revoke").count() == 1


def test_unknown_token_is_refused(api_client, db):
    response = api_client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer pop_not-a-real-token")
    assert response.status_code == 401


def test_api_without_credentials_is_401_not_a_redirect(api_client, db):
    response = api_client.get("/api/v1/products")
    assert response.status_code in (401, 403)
    assert "detail" in response.json()


def test_read_only_token_cannot_write(api_client, pm):
    _token, secret = tokens.api_token_create(user=pm, name="ro", scopes="read")
    response = api_client.post("/api/v1/products", {}, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 403


def test_profile_page_creates_a_token_shown_once_and_revokes_it(pm_client, pm):
    response = pm_client.post("/profile/", {"action": "token", "name": "ci", "scopes": "write"})
    body = response.content.decode()
    token = pm.api_tokens.get()
    assert token.prefix in body and "Copy your new token now" in body
    assert "Copy your new token now" not in pm_client.get("/profile/").content.decode()
    pm_client.post(f"/profile/tokens/{token.pk}/revoke")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_create_api_token_command_prints_a_working_token(api_client, pm, capsys):
    call_command("create_api_token", pm.username, "--name", "script")
    secret = capsys.readouterr().out.strip()
    assert secret.startswith("pop_")
    assert api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


def test_products_list_query_count_is_bounded(api_client, pm, django_assert_max_num_queries):
    from tests.factories import ProductFactory

    ProductFactory.create_batch(15)
    api_client.force_authenticate(pm)
    with django_assert_max_num_queries(4):
        response = api_client.get("/api/v1/products")
    assert response.status_code == 200
    assert response.json()["count"] >= 15
