import time

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from portal.models import AuditEntry, Notification
from portal.services import audit_record, notification_preferences_set, notify
from tests.factories import UserFactory


def test_audit_entries_cannot_be_edited_or_deleted(pm):
    entry = audit_record(actor=pm, action="template.publish", target_label="PRD v2")
    entry.action = "something.else"
    with pytest.raises(Exception, match="append-only"):
        entry.save()
    with pytest.raises(Exception, match="append-only"):
        entry.delete()


def test_audit_log_page_is_for_ops_leads_and_filters(client, ops_lead, pm):
    audit_record(actor=pm, action="document.create", target_label="Checkout PRD")
    audit_record(actor=ops_lead, action="template.publish", target_label="PRD template v2")
    client.force_login(pm)
    assert client.get("/audit/").status_code == 403
    client.force_login(ops_lead)
    body = client.get("/audit/", {"action": "template."}).content.decode()
    assert "PRD template v2" in body and "Checkout PRD" not in body


def test_audit_log_csv_export_neutralises_formulas(client, ops_lead):
    audit_record(actor=ops_lead, action="template.publish", target_label='=HYPERLINK("http://evil")')
    client.force_login(ops_lead)
    response = client.get("/audit/", {"format": "csv"})
    content = b"".join(response.streaming_content).decode()
    assert content.splitlines()[0].startswith("at_utc,actor,action")
    assert "'=HYPERLINK" in content


def test_audit_log_page_query_count_is_bounded(client, ops_lead, django_assert_max_num_queries):
    for n in range(60):
        audit_record(actor=ops_lead, action="template.publish", target_label=f"T{n}")
    client.force_login(ops_lead)
    with django_assert_max_num_queries(8):
        assert client.get("/audit/").status_code == 200


def test_notify_dedupes_on_key(pm):
    first = notify(user=pm, kind="experiment.srm", title="SRM on checkout-cta", dedupe_key="srm:1")
    second = notify(user=pm, kind="experiment.srm", title="SRM on checkout-cta", dedupe_key="srm:1")
    assert first is not None and second is None
    assert Notification.objects.filter(user=pm).count() == 1


@pytest.mark.django_db(transaction=True)
def test_notification_email_is_sent_by_the_worker(celery_worker_thread, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user = UserFactory(role="pm", email="paula@example.com")
    note = notify(user=user, kind="review.requested", title="Review the Checkout PRD", url="/tooling/")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        note.refresh_from_db()
        if note.emailed_at:
            break
        time.sleep(0.1)
    assert note.emailed_at is not None
    assert mail.outbox[-1].subject == "[Product Ops Portal] Review the Checkout PRD"
    assert mail.outbox[-1].to == ["paula@example.com"]


def test_preferences_turn_off_email_and_inbox(pm):
    notification_preferences_set(user=pm, choices={"feedback.spike": (False, False)})
    note = notify(user=pm, kind="feedback.spike", title="Spike in 'slow checkout'")
    assert note.read_at is not None  # kept for the record, not shown as unread


def test_notification_preferences_page_saves(pm_client, pm):
    response = pm_client.post(reverse("notification-prefs"), {"review.requested:in_app": "on"})
    assert response.status_code == 302
    pref = pm.notification_prefs.get(kind="review.requested")
    assert pref.in_app is True and pref.email is False


def test_login_locks_out_after_repeated_failures_and_audits_it(client, db):
    UserFactory(username="mallory-target", role="pm")
    cache.delete("login-failures:mallory-target")
    for _ in range(5):
        client.post(reverse("login"), {"username": "mallory-target", "password": "guess"})
    response = client.post(reverse("login"), {"username": "mallory-target", "password": "pw"})
    assert response.status_code == 200
    assert "Too many failed log-in attempts" in response.content.decode()
    assert AuditEntry.objects.filter(action="auth.lockout", target_label="mallory-target").count() == 1
    cache.delete("login-failures:mallory-target")
    assert client.post(reverse("login"), {"username": "mallory-target", "password": "pw"}).status_code == 302


def test_admin_changes_are_audited(client, admin_user, product):
    client.force_login(admin_user)
    url = reverse("admin:portal_product_change", args=[product.pk])
    response = client.post(
        url,
        {
            "name": "Renamed",
            "slug": product.slug,
            "description": "",
            "unit": product.unit_id,
            "markets": [],
            "members": [],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.filter(action="admin.change").latest("at")
    assert "Renamed" in entry.target_label
