"""The issue's "done when", end to end through the pages and the admin."""

import datetime

import pytest

from portal.models import AuditEntry, Notification
from tests.factories import UserFactory
from tests.tooling.factories import published_version
from tooling import services
from tooling.models import ChecklistTemplateItem, Document, Launch, TemplateVersion

pytestmark = pytest.mark.django_db

INLINE = {
    "sections-TOTAL_FORMS": "1",
    "sections-INITIAL_FORMS": "0",
    "sections-MIN_NUM_FORMS": "0",
    "sections-MAX_NUM_FORMS": "1000",
}


def test_publish_write_review_link_launch_and_upgrade(client, ops_lead, pm, product):
    v1 = published_version(kind="prd")
    older = services.document_create(version=v1, product=product, owner=pm, title="Older PRD")
    ChecklistTemplateItem.objects.create(tier="T2", title="Legal review", owner_role="Legal", offset_days=-7)

    # an ops lead publishes v2 in the admin: next version, add a section, publish
    client.force_login(ops_lead)
    client.post("/admin/tooling/template/", {"action": "create_next_version", "_selected_action": [v1.template.pk]})
    v2 = TemplateVersion.objects.get(template=v1.template, number=2)
    url = f"/admin/tooling/templateversion/{v2.pk}/change/"
    response = client.post(
        url,
        {
            "template": v1.template.pk,
            "number": 2,
            "changelog": "Adds Evidence",
            "variables": '["product"]',
            **INLINE,
            "sections-TOTAL_FORMS": str(4),
            "sections-INITIAL_FORMS": str(3),
            **{
                f"sections-{i}-{k}": v
                for i, s in enumerate(v2.sections.all())
                for k, v in {
                    "id": s.pk,
                    "version": v2.pk,
                    "order": s.order,
                    "key": s.key,
                    "title": s.title,
                    "guidance": s.guidance,
                    "placeholder": s.placeholder,
                    "required": "on" if s.required else "",
                }.items()
            },
            "sections-3-order": 40,
            "sections-3-key": "evidence",
            "sections-3-title": "Evidence",
            "sections-3-required": "on",
            "sections-3-version": v2.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    client.post(url, {"_publish": "1"})
    v2.refresh_from_db()
    assert v2.status == "published" and v2.sections.filter(key="evidence").exists()
    assert AuditEntry.objects.filter(action="template.publish", target_id=str(v2.pk)).exists()

    # a PM writes a PRD from it, fills it, requests a review
    client.force_login(pm)
    client.post("/tooling/documents/new/", {"template_version": v2.pk, "product": product.pk, "title": "Wallets"})
    document = Document.objects.get(title="Wallets")
    assert document.template_version == v2
    client.post(
        f"/tooling/documents/{document.pk}/edit/",
        {"title": "Wallets", **{f"section-{s.key}": f"About {s.title}" for s in document.sections.all()}},
    )
    reviewer = UserFactory(role="pm")
    client.post(f"/tooling/documents/{document.pk}/reviews/", {"reviewers": [reviewer.username]})
    assert Notification.objects.filter(user=reviewer, kind="review.requested").exists()

    # links it to a roadmap item and a launch
    item = services.roadmap_item_create(product=product, title="Wallets", by=pm)
    client.post(f"/tooling/roadmap/items/{item.pk}/links/", {"link-kind": "document", "link-ref": document.pk})
    client.post(
        "/tooling/launches/new/",
        {
            "feature": "Wallets",
            "product": product.pk,
            "tier": "T2",
            "launch_date": "2030-03-01",
            "roadmap_item": item.pk,
        },
    )
    launch = Launch.objects.get()
    client.post(f"/tooling/launches/{launch.pk}/update/", {"document": document.pk})
    launch.refresh_from_db()
    assert launch.document == document and launch.checklist.get().due_date == datetime.date(2030, 2, 22)
    detail = client.get(document.get_absolute_url()).content.decode()
    assert f"/tooling/roadmap/items/{item.pk}/" in detail and launch.get_absolute_url() in detail

    # the older PRD offers the upgrade; published versions cannot be edited
    assert "A newer template version is available" in client.get(older.get_absolute_url()).content.decode()
    v1.refresh_from_db()
    v1.changelog = "edit"
    with pytest.raises(Exception, match="cannot be edited"):
        v1.save()
