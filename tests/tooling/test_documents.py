import pytest
from django.core.exceptions import ValidationError

from portal.models import AuditEntry
from tests.tooling.factories import TemplateFactory, published_version
from tooling import services
from tooling.models import Document

pytestmark = pytest.mark.django_db


def test_document_create_from_template_uses_latest_published_version(pm, product):
    template = TemplateFactory(kind="prd")
    published_version(template=template)
    v2 = published_version(template=template, sections=[{"key": "why", "title": "Why {{product}}?"}])
    services.template_version_create(template=template)  # a draft v3 is ignored
    document = services.document_create_from_template(kind="prd", product=product, owner=pm, title="Faster checkout")
    assert isinstance(document, Document)
    assert document.template_version == v2
    assert document.status == "draft"
    assert [s.title for s in document.sections.all()] == [f"Why {product.name}?"]
    assert document.get_absolute_url() == f"/tooling/documents/{document.pk}/"
    assert AuditEntry.objects.filter(action="document.create", actor=pm, target_id=str(document.pk)).exists()
    assert document.revisions.count() == 1


def test_variables_fill_guidance_and_prefill_sections_named_like_them(pm, product):
    published_version(
        kind="experiment_brief",
        sections=[
            {"key": "hypothesis", "title": "Hypothesis", "guidance": "For {{product}} by {{owner}} ({{unknown}})"},
        ],
    )
    document = services.document_create_from_template(
        kind="experiment_brief", product=product, owner=pm, title="Brief", variables={"hypothesis": "If we…"}
    )
    section = document.sections.get()
    assert section.guidance == f"For {product.name} by {pm.display_name} ({{{{unknown}}}})"
    assert section.body == "If we…"


def test_deprecated_templates_are_not_used(pm, product):
    version = published_version(kind="retro")
    version.template.status = "deprecated"
    version.template.save()
    with pytest.raises(ValidationError) as exc:
        services.document_create_from_template(kind="retro", product=product, owner=pm, title="Retro")
    assert exc.value.message_dict == {
        "kind": ["No published template of kind 'retro'; an ops lead publishes one in the admin."]
    }


def test_document_needs_a_title(pm, product):
    published_version()
    with pytest.raises(ValidationError) as exc:
        services.document_create_from_template(kind="prd", product=product, owner=pm, title="  ")
    assert "title" in exc.value.message_dict


def test_standard_briefs_and_plans_prefill_from_other_apps_variables(pm, product):
    from tooling.standard_templates import install

    install()
    brief = services.document_create_from_template(
        kind="experiment_brief", product=product, owner=pm, title="B", variables={"hypothesis": "If we…"}
    )
    assert brief.sections.get(key="hypothesis").body == "If we…"
    plan = services.document_create_from_template(
        kind="research_plan", product=product, owner=pm, title="P", variables={"research_questions": "Why?"}
    )
    assert plan.sections.get(key="research_questions").body == "Why?"
