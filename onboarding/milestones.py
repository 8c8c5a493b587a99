"""Ramp milestones, detected from what a new PM actually does in the portal.

Every app records its key actions in the audit log (`portal.models.AuditEntry`) with the
action names of the cross-app contract, so onboarding needs no other app's models: a
milestone is the first matching audit entry on or after the enrollment's start date.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import OuterRef, Q, QuerySet, Subquery

from portal.models import AuditEntry


@dataclass(frozen=True)
class Milestone:
    key: str
    label: str
    action: str


MILESTONES = [
    Milestone("prd_created", "First PRD created", "document.create"),
    Milestone("prd_approved", "First PRD approved", "document.approve"),
    Milestone("experiment_started", "First experiment started", "experiment.start"),
    Milestone("insight_read", "First insight read", "insight.view"),
    Milestone("dashboard_created", "First dashboard created", "dashboard.create"),
]
MILESTONE_ACTIONS = sorted({m.action for m in MILESTONES})

# A document of kind "prd" (tooling records the kind in `changes`); entries without a kind
# are counted too, so the milestone still works if a producer omits it.
_PRD = Q(changes__kind="prd") | ~Q(changes__has_key="kind")


def _first(qs: QuerySet) -> Subquery:
    return Subquery(qs.order_by("at").values("at")[:1])


def annotate_milestones(enrollments: QuerySet) -> QuerySet:
    """Add `ms_<key>` (datetime or None) for each milestone to an Enrollment queryset."""
    since = {"at__date__gte": OuterRef("start_on")}
    own = AuditEntry.objects.filter(actor=OuterRef("user"), **since)
    my_prds = AuditEntry.objects.filter(
        _PRD, action="document.create", target_type="tooling.document", actor=OuterRef(OuterRef("user"))
    ).values("target_id")
    return enrollments.annotate(
        ms_prd_created=_first(own.filter(_PRD, action="document.create")),
        # Approval is done by a reviewer: the milestone is an approval of a PRD this PM created.
        ms_prd_approved=_first(
            AuditEntry.objects.filter(
                action="document.approve", target_type="tooling.document", target_id__in=my_prds, **since
            )
        ),
        ms_experiment_started=_first(own.filter(action="experiment.start")),
        ms_insight_read=_first(own.filter(action="insight.view")),
        ms_dashboard_created=_first(own.filter(action="dashboard.create")),
    )


def milestones_of(enrollment) -> list[dict]:
    """[{key, label, at, days}] for an enrollment annotated by annotate_milestones()."""
    rows = []
    for milestone in MILESTONES:
        at = getattr(enrollment, f"ms_{milestone.key}", None)
        days = (at.date() - enrollment.start_on).days if at else None
        rows.append({"key": milestone.key, "label": milestone.label, "at": at, "days": days})
    return rows
