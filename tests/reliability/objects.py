"""Real objects of the demo company for every route that takes an id.

OBJECT_ROUTES maps a route name to the kwargs of an object of `checkout` (the product
`pm` owns), or of another person for per-person routes. The matrix uses it for
id-guessing across products, the markup test to render real object pages.
"""

from __future__ import annotations

from collections.abc import Callable

from django.apps import apps

from tests.reliability.support import World


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


def _pk(model: str, make: Callable | None = None, **filters) -> int:
    return _first(model, make, **filters).pk


def _study(w: World):
    return _first("research.Study", products=w.own_product)


def _session(w: World):
    return _first("research.Session", study__products=w.own_product)


def _enrollment(w: World):
    # newpm's enrollment: other people (viewer, diego) must not tick off newpm's tasks
    return _first("onboarding.Enrollment", user__username="newpm")


def _launch_obj(w: World):
    return _first("tooling.Launch", lambda: _launch(w), product=w.own_product)


def _doc(w: World) -> int:
    return _pk("tooling.Document", lambda: _document(w), product=w.own_product)


def _roadmap(w: World) -> int:
    return _pk("tooling.RoadmapItem", lambda: _roadmap_item(w), product=w.own_product)


def _experiment(w: World):
    from tests.experiments.factories import make_experiment

    return make_experiment(by=w.users["pm_own"], product=w.own_product, key="checkout-express")


def _experiment_key(w: World) -> dict:
    return {"key": _first("experiments.Experiment", lambda: _experiment(w), product=w.own_product).key}


def _feedback_item(w: World) -> int:
    return _pk("feedback.FeedbackItem", product=w.own_product)


def _theme(w: World) -> int:
    return _pk("feedback.Theme", product=w.own_product)


def _participant(w: World) -> int:
    return w.pii.get("participant") or _pk("research.Participant")


def _insight(w: World) -> int:
    return _pk("research.Insight", study__products=w.own_product)


def _enrollment_task(w: World) -> dict:
    return {"pk": _pk("onboarding.EnrollmentTask", enrollment=_enrollment(w))}


# route name -> kwargs pointing at an object of checkout (the product `pm` owns), or at
# another person's object for per-person routes (tokens, onboarding enrollments).
OBJECT_ROUTES: dict[str, Callable[[World], dict]] = {
    "token-revoke": _token_of_pm,
    "analytics:event-detail": lambda w: {
        "product": w.own_product.slug,
        "name": _first("analytics.EventDefinition", lambda: _event_definition(w), product=w.own_product).name,
    },
    # experiments
    **{
        name: _experiment_key
        for name in (
            "experiments-api-detail",
            "experiments-api-assignment",
            "experiments-api-decide",
            "experiments-api-refresh",
            "experiments-api-start",
            "experiments-api-stop",
            "experiments:detail",
            "experiments:edit",
            "experiments:archive",
            "experiments:decide",
            "experiments:refresh",
            "experiments:results",
            "experiments:start",
            "experiments:stop",
        )
    },
    # feedback
    "feedback-api-webhook-zendesk": lambda w: {"slug": _first("feedback.FeedbackSource", _feedback_source).slug},
    "feedback-api-webhook-intercom": lambda w: {"slug": _first("feedback.FeedbackSource", _feedback_source).slug},
    "feedback:item": lambda w: {"pk": _feedback_item(w)},
    "feedback:item-action": lambda w: {"pk": _feedback_item(w), "action": "retry"},
    "feedback:theme": lambda w: {"pk": _theme(w)},
    "feedback:theme-action": lambda w: {"pk": _theme(w), "action": "rename"},
    # onboarding
    "api-onboarding-item-complete": _enrollment_task,
    "onboarding:item_complete": _enrollment_task,
    "onboarding:item_reopen": _enrollment_task,
    "onboarding:enrollment": lambda w: {"pk": _enrollment(w).pk},
    "onboarding:quiz": lambda w: {"pk": _pk("onboarding.Quiz")},
    "onboarding:track": lambda w: {"slug": _first("onboarding.Track").slug},
    "onboarding:track_preview": lambda w: {"slug": _first("onboarding.Track").slug},
    "onboarding:article": lambda w: {"slug": _first("onboarding.Article").slug},
    "onboarding:article_vote": lambda w: {"slug": _first("onboarding.Article").slug},
    # research
    "api-research-insight": lambda w: {"pk": _insight(w)},
    "api-research-insight-publish": lambda w: {"pk": _insight(w)},
    "api-research-participant": lambda w: {"pk": _participant(w)},
    "api-research-participant-erase": lambda w: {"pk": _participant(w)},
    "api-research-participant-export": lambda w: {"pk": _participant(w)},
    "api-research-candidates": lambda w: {"pk": _study(w).pk},
    "api-research-invite": lambda w: {"pk": _study(w).pk},
    "research:highlight-feedback": lambda w: {"pk": _pk("research.Highlight", study__products=w.own_product)},
    "research:incentive-paid": lambda w: {"pk": _pk("research.Incentive", session__study__products=w.own_product)},
    "research:insight": lambda w: {"pk": _insight(w)},
    "research:insight-evidence": lambda w: {"pk": _insight(w)},
    "research:insight-publish": lambda w: {"pk": _insight(w)},
    "research:participant": lambda w: {"pk": _participant(w)},
    "research:participant-erase": lambda w: {"pk": _participant(w)},
    "research:participant-export": lambda w: {"pk": _participant(w)},
    "research:session": lambda w: {"pk": _session(w).pk},
    "research:session-incentive": lambda w: {"pk": _session(w).pk},
    "research:session-status": lambda w: {"pk": _session(w).pk},
    "research:study": lambda w: {"pk": _study(w).pk},
    "research:study-invite": lambda w: {"pk": _study(w).pk},
    "research:study-plan": lambda w: {"pk": _study(w).pk},
    "research:session-create": lambda w: {"pk": _study(w).pk},
    "research:study-status": lambda w: {"pk": _study(w).pk},
    # tooling
    "tooling:template-detail": lambda w: {"slug": _first("tooling.Template").slug},
    **{
        name: (lambda w: {"pk": _doc(w)})
        for name in (
            "tooling:document-detail",
            "tooling:document-comment",
            "tooling:document-edit",
            "tooling:document-export",
            "tooling:document-history",
            "tooling:document-review-request",
            "tooling:document-status",
            "tooling:document-upgrade",
        )
    },
    "tooling:revision-export": lambda w: {
        "pk": _doc(w),
        "number": _first("tooling.DocumentRevision", document_id=_doc(w)).number,
    },
    "tooling:launch-detail": lambda w: {"pk": _launch_obj(w).pk},
    "tooling:launch-update": lambda w: {"pk": _launch_obj(w).pk},
    "tooling:launch-follow-up": lambda w: {
        "pk": _launch_obj(w).pk,
        "follow_up_pk": _pk("tooling.LaunchFollowUp", launch=_launch_obj(w)),
    },
    "tooling:launch-item-toggle": lambda w: {
        "pk": _launch_obj(w).pk,
        "item_pk": _pk("tooling.LaunchChecklistItem", launch=_launch_obj(w)),
    },
    "tooling:roadmap-board": lambda w: {"slug": w.own_product.slug},
    "tooling:roadmap-item": lambda w: {"pk": _roadmap(w)},
    "tooling:roadmap-link-add": lambda w: {"pk": _roadmap(w)},
    "tooling:roadmap-item-move": lambda w: {"pk": _roadmap(w)},
    "tooling-api-document-markdown": lambda w: {"pk": _doc(w)},
    "tooling-api-roadmap-item": lambda w: {"pk": _roadmap(w)},
    # analytics (landed 13:15)
    **{
        name: (lambda w: {"slug": w.own_product.slug})
        for name in (
            "analytics:product",
            "analytics:dashboard-new",
            "analytics:insight-new",
            "analytics:plan",
            "analytics:plan-export-csv",
            "analytics:plan-export-json",
            "analytics:plan-history",
            "analytics:plan-import",
            "analytics:quality",
        )
    },
    "analytics:standard-dashboard": lambda w: {
        "slug": w.own_product.slug,
        "template_slug": _first("analytics.DashboardTemplate").slug,
    },
    **{
        name: (lambda w: {"pk": _pk("analytics.Dashboard", product=w.own_product)})
        for name in ("analytics:dashboard-detail", "analytics:dashboard-save-filters", "analytics:dashboard-refresh")
    },
    "analytics:tile-new": lambda w: {"pk": _pk("analytics.Dashboard", product=w.own_product)},
    "analytics:tile": lambda w: {
        "pk": (tile := _first("analytics.Tile", dashboard__product=w.own_product)).dashboard_id,
        "tile_pk": tile.pk,
    },
    "analytics:insight-detail": lambda w: {"pk": _pk("analytics.Insight", product=w.own_product)},
    "analytics:insight-csv": lambda w: {"pk": _pk("analytics.Insight", product=w.own_product)},
    # feedback loop, reports, research edit
    "feedback:loop": lambda w: {"pk": _roadmap(w)},
    "feedback:link-delete": lambda w: {"pk": _pk("feedback.RoadmapLink", roadmap_item__product=w.own_product)},
    "report-detail": lambda w: {"unit": w.own_product.unit.slug, "month": "2026-10"},
    "research:study-edit": lambda w: {"pk": _study(w).pk},
}
