from django.urls import reverse

from tests.factories import UserFactory


def test_home_requires_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_every_function_app_is_in_the_navigation(pm_client):
    body = pm_client.get("/").content.decode()
    for label in ["Analytics", "Experiments", "Research", "Tooling", "Feedback", "Onboarding"]:
        assert f">{label}</a>" in body


def test_plotly_js_is_served_from_the_installed_package(pm_client):
    response = pm_client.get("/static/vendor/plotly/plotly.min.js")
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert b"plotly" in content[:2000].lower()


def test_pages_send_a_csp_without_inline_scripts(pm_client):
    response = pm_client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "<script>" not in response.content.decode()


def test_login_page_logs_in_and_failed_login_is_audited(client, db):
    from portal.models import AuditEntry

    UserFactory(username="alice", role="pm")
    bad = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert bad.status_code == 200
    assert "Please enter a correct username and password" in bad.content.decode()
    assert AuditEntry.objects.filter(action="auth.login_failed", target_label="alice").exists()
    good = client.post(reverse("login"), {"username": "alice", "password": "pw"})
    assert good.status_code == 302
    assert AuditEntry.objects.filter(action="auth.login", actor_label="alice").exists()


def test_profile_changes_timezone(pm_client, pm):
    response = pm_client.post("/profile/", {"action": "timezone", "timezone": "Europe/Paris"})
    assert response.status_code == 302
    pm.refresh_from_db()
    assert pm.timezone == "Europe/Paris"


def test_profile_rejects_unknown_timezone(pm_client, pm):
    response = pm_client.post("/profile/", {"action": "timezone", "timezone": "Mars/Olympus"}, follow=True)
    assert "Unknown timezone" in response.content.decode()
    pm.refresh_from_db()
    assert pm.timezone == "UTC"


def test_search_finds_products_and_escapes_snippets(pm_client, product):
    product.description = "Fast <script>alert(1)</script> checkout for everyone"
    product.save()
    response = pm_client.get("/search/", {"q": "checkout"})
    body = response.content.decode()
    assert product.name in body
    assert "<script>alert(1)</script>" not in body


def test_chart_json_cannot_break_out_of_its_script_element():
    import json

    import plotly.graph_objects as go

    from portal.charts import figure_json

    label = "</script><img src=x onerror=alert(1)>"
    text = figure_json(go.Figure(go.Bar(x=[label], y=[1])))
    assert "</script" not in text and "<img" not in text
    assert json.loads(text)["data"][0]["x"] == [label]
