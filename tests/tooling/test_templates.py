import pytest
from django.core.exceptions import ValidationError

from portal.models import AuditEntry
from tests.tooling.factories import TemplateFactory, published_version
from tooling import services
from tooling.models import Template, TemplateSection, TemplateVersion
from tooling.standard_templates import STANDARDS, install

pytestmark = pytest.mark.django_db


def test_publishing_a_version_publishes_the_template_and_is_audited(ops_lead):
    version = published_version(by=ops_lead)
    assert version.status == "published"
    assert version.template.status == Template.Status.PUBLISHED
    entry = AuditEntry.objects.get(action="template.publish")
    assert entry.actor == ops_lead
    assert entry.changes == {"template": version.template.slug, "version": 1}


def test_published_version_refuses_to_be_saved_with_a_clear_message():
    version = TemplateVersion.objects.get(pk=published_version().pk)
    version.changelog = "sneaky edit"
    with pytest.raises(ValidationError, match="is published and cannot be edited. Publish a new version instead"):
        version.save()
    with pytest.raises(ValidationError, match="cannot be edited"):
        version.full_clean()


def test_sections_of_a_published_version_cannot_be_changed_added_or_deleted():
    version = published_version()
    section = version.sections.first()
    section.title = "Changed"
    with pytest.raises(ValidationError, match="cannot be edited"):
        section.save()
    with pytest.raises(ValidationError, match="cannot be edited"):
        TemplateSection(version=version, key="extra", title="Extra").save()
    with pytest.raises(ValidationError, match="cannot be edited"):
        section.delete()
    assert version.sections.count() == 3


def test_publishing_twice_or_empty_is_refused():
    version = published_version()
    with pytest.raises(ValidationError, match="already published"):
        services.template_version_publish(version=version, by=None)
    empty = services.template_version_create(template=TemplateFactory(), sections=[])
    with pytest.raises(ValidationError, match="at least one section"):
        services.template_version_publish(version=empty, by=None)


def test_next_version_starts_as_a_draft_copy_of_the_latest():
    v1 = published_version()
    v2 = services.template_version_create(template=v1.template)
    assert (v2.number, v2.status) == (2, "draft")
    assert list(v2.sections.values_list("key", flat=True)) == ["summary", "problem", "notes"]
    section = v2.sections.get(key="notes")
    section.required = True
    section.save()  # drafts are editable
    assert v2.sections.get(key="notes").required


def test_variables_must_be_lower_case_names():
    version = TemplateVersion(template=TemplateFactory(), number=1, variables=["Product Name"])
    with pytest.raises(ValidationError) as exc:
        version.full_clean()
    assert "variables" in exc.value.message_dict


def test_install_standard_templates_is_idempotent_and_covers_every_kind():
    install()
    install()
    kinds = set(Template.objects.filter(status="published").values_list("kind", flat=True))
    assert {"prd", "one_pager", "experiment_brief", "research_plan", "launch_checklist", "retro"} <= kinds
    assert TemplateVersion.objects.filter(template__slug="prd", status="published").count() == 2
    assert TemplateVersion.objects.count() == sum(len(s["versions"]) for s in STANDARDS)


def test_a_stale_copy_of_a_version_cannot_be_saved_after_publishing():
    template = TemplateFactory()
    draft = services.template_version_create(template=template, sections=[{"key": "a", "title": "A"}])
    services.template_version_publish(version=TemplateVersion.objects.get(pk=draft.pk), by=None)
    draft.changelog = "edited from a stale copy"
    with pytest.raises(ValidationError, match="cannot be edited"):
        draft.save()
