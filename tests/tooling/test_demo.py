import time

from django.core.management import call_command

from tooling.models import Document, Launch, RoadmapChange, RoadmapItem, Template, TemplateVersion


def _counts():
    return tuple(m.objects.count() for m in (Template, TemplateVersion, Document, RoadmapItem, RoadmapChange, Launch))


def test_seed_demo_is_idempotent_and_covers_every_status(db):
    started = time.monotonic()
    call_command("seed_demo", "--small", "--only", "tooling")
    first = _counts()
    call_command("seed_demo", "--small", "--only", "tooling")
    assert _counts() == first
    assert set(Document.objects.values_list("status", flat=True)) == {
        "draft",
        "in_review",
        "approved",
        "shipped",
        "archived",
    }
    kinds = set(Template.objects.filter(status="published").values_list("kind", flat=True))
    assert {"prd", "one_pager", "experiment_brief", "research_plan", "launch_checklist", "retro"} <= kinds
    assert TemplateVersion.objects.filter(template__slug="prd", status="published").count() == 2
    assert Document.objects.filter(template_version__number=1, template_version__template__slug="prd").exists()
    assert Launch.objects.exists() and RoadmapChange.objects.filter(field="horizon").exists()
    assert time.monotonic() - started < 60
