"""The audit log for admins and ops leads: browse, filter, export. Read-only by design."""

from __future__ import annotations

from datetime import datetime, time

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone

from portal.csvexport import csv_response
from portal.models import AuditEntry


def _parse_date(value: str):
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except (TypeError, ValueError):
        return None


def audit_entry_list(params) -> tuple[object, dict]:
    qs = AuditEntry.objects.all()
    filters = {
        "actor": params.get("actor", "").strip(),
        "action": params.get("action", "").strip(),
        "target": params.get("target", "").strip(),
        "since": params.get("since", ""),
        "until": params.get("until", ""),
    }
    if filters["actor"]:
        qs = qs.filter(actor_label__iexact=filters["actor"])
    if filters["action"]:
        qs = qs.filter(action__startswith=filters["action"])
    if filters["target"]:
        qs = qs.filter(target_label__icontains=filters["target"])
    tz = timezone.get_current_timezone()
    if since := _parse_date(filters["since"]):
        qs = qs.filter(at__gte=timezone.make_aware(datetime.combine(since, time.min), tz))
    if until := _parse_date(filters["until"]):
        qs = qs.filter(at__lte=timezone.make_aware(datetime.combine(until, time.max), tz))
    return qs, filters


def audit_log(request):
    if not (request.user.is_superuser or request.user.is_ops_lead):
        raise PermissionDenied("The audit log is for admins and ops leads.")
    qs, filters = audit_entry_list(request.GET)
    if request.GET.get("format") == "csv":
        rows = (
            (e.at, e.actor_label, e.action, e.target_type, e.target_id, e.target_label, e.ip, e.changes)
            for e in qs.iterator(chunk_size=2000)
        )
        return csv_response(
            "audit-log.csv", ["at_utc", "actor", "action", "target_type", "target_id", "target", "ip", "changes"], rows
        )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    actions = AuditEntry.objects.order_by().values_list("action", flat=True).distinct()
    return render(request, "portal/audit_log.html", {"page": page, "filters": filters, "actions": sorted(actions)})
