"""Research HTML pages: thin views over selectors (reads) and services (writes)."""

from __future__ import annotations

import json
from datetime import date

import plotly.graph_objects as go
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from portal.charts import chart_context, styled
from portal.models import Product
from portal.tables import paginate
from research import access, forms, search, selectors, services
from research.models import (
    STUDY_FLOW,
    ContactKind,
    Highlight,
    Incentive,
    Insight,
    InsightStatus,
    Method,
    Participant,
    Session,
    Study,
    StudyStatus,
)


def _form_errors(form, exc: ValidationError) -> None:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    for field, msgs in errors.items():
        target = field if field in form.fields else None
        for msg in msgs:
            form.add_error(target, msg if target else f"{field}: {msg}" if field != "__all__" else msg)


def _flash_errors(request, exc: ValidationError) -> None:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
    for msgs in errors.values():
        for msg in msgs:
            messages.error(request, msg)


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


# ------------------------------------------------------------------ overview


def index(request):
    counts = selectors.overview_counts()
    by_status = dict(Study.objects.values_list("status").annotate(n=Count("id")).order_by())
    fig = go.Figure(
        go.Bar(
            x=[StudyStatus(s).label for s in STUDY_FLOW],
            y=[by_status.get(s, 0) for s in STUDY_FLOW],
            hovertemplate="%{x}: %{y} studies<extra></extra>",
        )
    )
    styled(fig, title="Studies by status", x_title="Status", y_title="Studies", height=280)
    contacts = dict(
        Participant.objects.filter(erased_at__isnull=True)
        .values_list("contacts__kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    context = {
        "counts": counts,
        "status_chart": chart_context(
            fig,
            chart_id="studies-by-status",
            summary=", ".join(f"{StudyStatus(s).label}: {by_status.get(s, 0)}" for s in STUDY_FLOW),
        ),
        "recent_insights": selectors.insight_list(user=request.user, status=InsightStatus.PUBLISHED)[:6],
        "active_studies": selectors.study_list(user=request.user).exclude(
            status__in=[StudyStatus.SHARED, StudyStatus.ARCHIVED]
        )[:8],
        "contacts": [(label, contacts.get(kind, 0)) for kind, label in ContactKind.choices],
        "sees_pii": access.sees_all_pii(request.user),
    }
    return render(request, "research/index.html", context)


# ------------------------------------------------------------------ participants


def participant_list(request):
    q = request.GET.get("q", "").strip()[:100]
    country = request.GET.get("country", "").strip()[:2]
    source = request.GET.get("source", "").strip()[:80]
    qs = selectors.participant_list(user=request.user, q=q, country=country, source=source).annotate(
        n_contacts=Count("contacts", distinct=True), n_sessions=Count("sessions", distinct=True)
    )
    page = paginate(request, qs, 50)
    context = {
        "page": page,
        "q": q,
        "country": country,
        "source": source,
        "countries": Participant.objects.exclude(country="").values_list("country", flat=True).distinct().order_by(),
        "sources": Participant.objects.exclude(source="").values_list("source", flat=True).distinct().order_by(),
        "sees_pii": access.sees_all_pii(request.user),
        "total": qs.count(),
    }
    return render(request, "research/participant_list.html", context)


def participant_import(request):
    access.require_researcher(request.user, "import participants")
    result = None
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.participants_import(
                text=form.cleaned_data["file"],
                by=request.user,
                mapping=form.mapping(),
                attribute_columns=form.attributes(),
                source=form.cleaned_data.get("source") or "csv import",
            )
        except ValidationError as exc:
            _form_errors(form, exc)
    status = 400 if request.method == "POST" and result is None else 200
    return render(request, "research/participant_import.html", {"form": form, "result": result}, status=status)


def participant_detail(request, pk: int):
    try:
        participant = selectors.participant_get(user=request.user, pk=pk)
    except Participant.DoesNotExist as exc:
        raise Http404("No such participant.") from exc
    context = {
        "p": participant,
        "sees_pii": bool(participant.visible_email or participant.visible_name),
        "is_researcher": access.sees_all_pii(request.user),
        "contacts": selectors.participant_contacts(participant=participant)[:100],
        "consents": participant.consents.all(),
        "sessions": participant.sessions.select_related("study", "incentive"),
    }
    return render(request, "research/participant_detail.html", context)


def participant_export(request, pk: int):
    participant = get_object_or_404(Participant, pk=pk)
    data = services.participant_export(participant=participant, by=request.user)
    response = HttpResponse(json.dumps(data, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{participant.pseudonym}.json"'
    return response


@require_POST
def participant_erase(request, pk: int):
    participant = get_object_or_404(Participant, pk=pk)
    if request.POST.get("confirm") != participant.pseudonym:
        messages.error(request, f"Type {participant.pseudonym} to confirm: erasure cannot be undone.")
        return redirect(participant)
    try:
        services.participant_erase(participant=participant, by=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, f"{participant.pseudonym} was erased; their history is kept as counts.")
    except ValidationError as exc:
        _flash_errors(request, exc)
    return redirect(participant)


# ------------------------------------------------------------------ studies


def study_list(request):
    status = request.GET.get("status", "")
    product = request.GET.get("product", "")
    method = request.GET.get("method", "")
    q = request.GET.get("q", "").strip()[:100]
    qs = selectors.study_list(user=request.user, status=status, product=product, method=method, q=q)
    page = paginate(request, qs, 25)
    context = {
        "page": page,
        "status": status,
        "product": product,
        "method": method,
        "q": q,
        "statuses": [(s, StudyStatus(s).label) for s in STUDY_FLOW],
        "methods": Method.choices,
        "products": Product.objects.all(),
        "can_create": not request.user.is_viewer,
    }
    return render(request, "research/study_list.html", context)


def study_create(request):
    access.require_writer(request.user)
    form = forms.StudyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            study = services.study_create(by=request.user, **form.cleaned_data)
            messages.success(request, "Study created. Next: create its research plan and recruit.")
            return redirect(study)
        except ValidationError as exc:
            _form_errors(form, exc)
    status = 400 if request.method == "POST" else 200
    return render(request, "research/study_form.html", {"form": form}, status=status)


def study_edit(request, pk: int):
    study = get_object_or_404(Study, pk=pk)
    access.require_manage_study(request.user, study)
    initial = {
        "title": study.title,
        "products": study.products.all(),
        "method": study.method,
        "research_questions": study.research_questions,
        "team": study.team.all(),
        "eligibility_rule": study.eligibility_rule,
        "screener": json.dumps(study.screener) if study.screener else "",
        "target_sessions": study.target_sessions,
    }
    form = forms.StudyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.study_update(study=study, by=request.user, **form.cleaned_data)
            messages.success(request, "Study updated.")
            return redirect(study)
        except ValidationError as exc:
            _form_errors(form, exc)
    status = 400 if request.method == "POST" else 200
    return render(request, "research/study_form.html", {"form": form, "study": study}, status=status)


def study_detail(request, pk: int):
    study = get_object_or_404(Study.objects.select_related("owner", "eligibility_rule"), pk=pk)
    can_manage = access.can_manage_study(request.user, study)
    result, eligible = selectors.candidates(study=study, user=request.user, limit=25)
    sessions = selectors.study_sessions(study=study, user=request.user)
    incentives = [s.incentive for s in sessions if hasattr(s, "incentive")]
    owed = {}
    for i in incentives:
        if i.status == "owed":
            owed[i.currency] = owed.get(i.currency, 0) + i.amount
    flow_index = STUDY_FLOW.index(study.status)
    context = {
        "study": study,
        "can_manage": can_manage,
        "result": result,
        "eligible": eligible,
        "sessions": sessions,
        "invited": selectors.study_invited(study=study, user=request.user)[:50],
        "highlights": selectors.highlight_list(study=study)[:20],
        "insights": study.insights.all(),
        "owed": sorted(owed.items()),
        "flow": [(s, StudyStatus(s).label, i < flow_index, i == flow_index) for i, s in enumerate(STUDY_FLOW)],
        "next_status": STUDY_FLOW[flow_index + 1] if flow_index + 1 < len(STUDY_FLOW) else None,
        "sessionform": forms.SessionForm(),
        "tags": selectors.tag_list(study=study),
    }
    return render(request, "research/study_detail.html", context)


def _study_action(request, pk: int, action) -> HttpResponse:
    study = get_object_or_404(Study, pk=pk)
    try:
        message = action(study)
        if message:
            messages.success(request, message)
    except ValidationError as exc:
        _flash_errors(request, exc)
    return redirect(study)


@require_POST
def study_status(request, pk: int):
    def act(study):
        services.study_set_status(study=study, status=request.POST.get("status", ""), by=request.user)
        return f"Study moved to {study.get_status_display()}."

    return _study_action(request, pk, act)


@require_POST
def study_invite(request, pk: int):
    def act(study):
        n = services.study_invite(study=study, participant_ids=request.POST.getlist("participant"), by=request.user)
        return f"{n} participant{'s' if n != 1 else ''} invited; the invitations are in the contact log."

    return _study_action(request, pk, act)


@require_POST
def study_plan(request, pk: int):
    def act(study):
        services.study_create_research_plan(study=study, by=request.user)
        return "Research plan created from the research plan template."

    return _study_action(request, pk, act)


@require_POST
def session_create(request, pk: int):
    def act(study):
        form = forms.SessionForm(request.POST)
        if not form.is_valid():
            raise ValidationError({k: [str(e) for e in v] for k, v in form.errors.items()})
        participant = get_object_or_404(Participant, pk=form.cleaned_data["participant"])
        services.session_schedule(
            study=study,
            participant=participant,
            scheduled_at=form.cleaned_data["scheduled_at"],
            duration_minutes=form.cleaned_data["duration_minutes"],
            by=request.user,
        )
        return f"Session with {participant.pseudonym} scheduled."

    return _study_action(request, pk, act)


# ------------------------------------------------------------------ sessions, highlights


def session_detail(request, pk: int):
    try:
        session = selectors.session_get(pk=pk, user=request.user)
    except Session.DoesNotExist as exc:
        raise Http404("No such session.") from exc
    can_manage = access.can_manage_study(request.user, session.study)
    hform = forms.HighlightForm(request.POST or None) if request.method == "POST" else forms.HighlightForm()
    status = 200
    if request.method == "POST":
        access.require_manage_study(request.user, session.study)
        if "notes" in request.POST:
            try:
                services.session_update_notes(session=session, notes=request.POST["notes"], by=request.user)
                messages.success(request, "Notes saved.")
                return redirect(session)
            except ValidationError as exc:
                _flash_errors(request, exc)
                status = 400
        elif hform.is_valid():
            tags = [t for t in hform.cleaned_data["tags"].split(",") if t.strip()]
            try:
                services.highlight_create(
                    session=session, excerpt=hform.cleaned_data["excerpt"], tags=tags, by=request.user
                )
                messages.success(request, "Highlight added.")
                return redirect(session)
            except ValidationError as exc:
                _form_errors(hform, exc)
                status = 400
        else:
            status = 400
    context = {
        "session": session,
        "study": session.study,
        "can_manage": can_manage,
        "hform": hform,
        "highlights": selectors.highlight_list().filter(session=session),
        "incentive": getattr(session, "incentive", None),
        "tags": selectors.tag_list(study=session.study),
    }
    return render(request, "research/session_detail.html", context, status=status)


def _session_action(request, pk: int, action) -> HttpResponse:
    session = get_object_or_404(Session.objects.select_related("study", "participant"), pk=pk)
    try:
        message = action(session)
        if message:
            messages.success(request, message)
    except ValidationError as exc:
        _flash_errors(request, exc)
    return redirect(session)


@require_POST
def session_status(request, pk: int):
    def act(session):
        services.session_set_status(session=session, status=request.POST.get("status", ""), by=request.user)
        return f"Session marked {session.get_status_display().lower()}."

    return _session_action(request, pk, act)


@require_POST
def session_incentive(request, pk: int):
    def act(session):
        form = forms.IncentiveForm(request.POST)
        if not form.is_valid():
            raise ValidationError({k: [str(e) for e in v] for k, v in form.errors.items()})
        services.incentive_set(session=session, by=request.user, **form.cleaned_data)
        return "Incentive recorded as owed."

    return _session_action(request, pk, act)


@require_POST
def incentive_paid(request, pk: int):
    incentive = get_object_or_404(Incentive.objects.select_related("session__study"), pk=pk)
    services.incentive_mark_paid(incentive=incentive, by=request.user)
    messages.success(request, "Incentive marked paid.")
    return redirect(incentive.session)


@require_POST
def highlight_to_feedback(request, pk: int):
    highlight = get_object_or_404(Highlight.objects.select_related("study", "session"), pk=pk)
    try:
        services.highlight_send_to_feedback(highlight=highlight, by=request.user)
        messages.success(request, "Highlight sent to feedback: it now counts in the signal dashboards.")
    except ValidationError as exc:
        _flash_errors(request, exc)
    return redirect(highlight.session)


# ------------------------------------------------------------------ insights


def insight_list(request):
    params = {k: request.GET.get(k, "").strip()[:100] for k in ["product", "tag", "status", "confidence", "q"]}
    qs = selectors.insight_list(user=request.user, **params)
    page = paginate(request, qs, 20)
    context = {
        "page": page,
        **params,
        "products": Product.objects.all(),
        "tags": selectors.tag_list(),
        "statuses": InsightStatus.choices,
        "can_create": not request.user.is_viewer,
    }
    return render(request, "research/insight_list.html", context)


def insight_create(request):
    access.require_writer(request.user)
    study = None
    study_id = request.GET.get("study") or request.POST.get("study") or ""
    if study_id:
        if not study_id.isdigit():
            raise Http404("No such study.")
        study = get_object_or_404(Study, pk=study_id)
    form = forms.InsightForm(request.POST or None, initial={"products": study.products.all() if study else None})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            insight = services.insight_create(
                statement=data["statement"],
                details=data["details"],
                products=data["products"],
                confidence=data["confidence"],
                tags=[t for t in data["tags"].split(",") if t.strip()],
                highlights=Highlight.objects.filter(pk__in=data["highlights"]),
                study=study,
                by=request.user,
            )
            messages.success(request, "Insight saved as a draft; publish it when the evidence is linked.")
            return redirect(insight)
        except ValidationError as exc:
            _form_errors(form, exc)
    status = 400 if request.method == "POST" else 200
    highlights = selectors.highlight_list(study=study)[:30] if study else []
    return render(
        request, "research/insight_form.html", {"form": form, "study": study, "highlights": highlights}, status=status
    )


def insight_detail(request, pk: int):
    try:
        insight = selectors.insight_get(user=request.user, pk=pk)
    except Insight.DoesNotExist as exc:
        raise Http404("No such insight, or it is a draft you cannot see.") from exc
    services.insight_record_view(insight=insight, user=request.user)
    can_edit = insight.study is not None and access.can_manage_study(request.user, insight.study)
    can_edit = can_edit or (
        not request.user.is_viewer
        and (insight.created_by_id == request.user.id or request.user.is_researcher or request.user.is_ops_lead)
    )
    context = {
        "insight": insight,
        "can_edit": can_edit,
        "related": selectors.related_insights(insight=insight),
        "evidence_form": forms.EvidenceForm(),
        "views": insight.views.count(),
    }
    return render(request, "research/insight_detail.html", context)


@require_POST
def insight_publish(request, pk: int):
    insight = get_object_or_404(selectors.insights_visible(request.user), pk=pk)
    try:
        services.insight_publish(insight=insight, by=request.user)
        messages.success(request, "Published: every PM can now find this insight in search.")
    except ValidationError as exc:
        _flash_errors(request, exc)
    return redirect(insight)


@require_POST
def insight_evidence(request, pk: int):
    insight = get_object_or_404(selectors.insights_visible(request.user), pk=pk)
    form = forms.EvidenceForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({k: [str(e) for e in v] for k, v in form.errors.items()})
        services.insight_add_evidence(insight=insight, by=request.user, **form.cleaned_data)
        messages.success(request, "Evidence linked.")
    except ValidationError as exc:
        _flash_errors(request, exc)
    return redirect(insight)


# ------------------------------------------------------------------ search


def repository_search(request):
    q = request.GET.get("q", "").strip()[:200]
    filters = search.Filters(
        product=request.GET.get("product", ""),
        tag=request.GET.get("tag", ""),
        method=request.GET.get("method", ""),
        date_from=_parse_date(request.GET.get("from", "")),
        date_to=_parse_date(request.GET.get("to", "")),
    )
    kinds = [k for k in request.GET.getlist("type") if k in search.KINDS]
    hits = search.search(q, user=request.user, filters=filters, kinds=kinds or None, limit=40) if q else []
    context = {
        "q": q,
        "hits": hits,
        "filters": filters,
        "from": request.GET.get("from", ""),
        "to": request.GET.get("to", ""),
        "kinds": search.KINDS,
        "selected": kinds,
        "products": Product.objects.all(),
        "tags": selectors.tag_list(),
        "methods": Method.choices,
    }
    return render(request, "research/search.html", context)
