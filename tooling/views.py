"""Tooling pages: thin views over selectors (reads) and services (writes)."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from datetime import timedelta

import plotly.graph_objects as go
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from portal import charts
from portal.memo import memoised
from portal.models import BusinessUnit, Product, User
from portal.permissions import can_edit_product, products_editable_by, require_product_edit
from portal.tables import paginate
from tooling import selectors, services
from tooling.forms import DocumentCreateForm, LaunchForm, RoadmapItemForm, RoadmapLinkForm, add_service_errors
from tooling.models import (
    Document,
    DocumentRevision,
    Launch,
    LaunchChecklistItem,
    LaunchFollowUp,
    RoadmapItem,
    Template,
    TemplateKind,
    TemplateVersion,
)

STATUS_COLORS = {
    "draft": "#8c8c8c",
    "in_review": "#2f6fde",
    "approved": "#2a9d6f",
    "shipped": "#1f6f4f",
    "archived": "#c5ccd3",
    "idea": "#8c8c8c",
    "planned": "#7a5cd6",
    "in_progress": "#2f6fde",
    "dropped": "#c2417a",
}


def _error_message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# --- overview -----------------------------------------------------------------------------


def index(request):
    user = request.user
    today = timezone.localdate()
    docs = selectors.document_list()
    my_docs = list(docs.filter(owner=user).exclude(status="archived")[:8])
    waiting = list(
        user.review_requests.filter(state="pending")
        .select_related("document__product", "document__owner")
        .order_by("requested_at")[:8]
    )
    launches = list(selectors.launch_list(status="planned").filter(launch_date__gte=today - timedelta(days=7))[:6])
    for launch in launches:
        launch.readiness_pct = launch.n_required_done / launch.n_required if launch.n_required else 1.0
    counts = Document.objects.values("product__name", "status").annotate(n=Count("id")).order_by("product__name")
    by_status: dict[str, dict[str, int]] = defaultdict(dict)
    for row in counts:
        by_status[row["status"]][row["product__name"]] = row["n"]
    products = sorted({row["product__name"] for row in counts})
    fig = go.Figure()
    for status, label in Document.Status.choices:
        fig.add_trace(
            go.Bar(
                name=label,
                x=products,
                y=[by_status[status].get(p, 0) for p in products],
                marker_color=STATUS_COLORS[status],
                hovertemplate=f"%{{x}}: %{{y}} {label.lower()}<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack")
    charts.styled(fig, title="Documents by product and status", x_title="Product", y_title="Documents")
    summary = selectors.template_adoption_summary()
    in_review = Document.objects.filter(status="in_review").count()
    context = {
        "section": "overview",
        "my_docs": my_docs,
        "waiting": waiting,
        "launches": launches,
        "summary": summary,
        "in_review": in_review,
        "now_items": RoadmapItem.objects.filter(horizon="now", status__in=["planned", "in_progress"]).count(),
        "chart": charts.chart_context(
            fig,
            chart_id="docs-by-status",
            summary=f"{summary['documents']} documents across {len(products)} products",
        )
        if products
        else None,
    }
    return render(request, "tooling/index.html", context)


# --- documents ------------------------------------------------------------------------------


def document_list(request):
    filters = {k: request.GET.get(k, "").strip() for k in ("product", "status", "kind", "q", "mine")}
    qs = selectors.document_list(
        product=filters["product"] or None,
        status=filters["status"] or None,
        kind=filters["kind"] or None,
        owner=request.user if filters["mine"] else None,
        q=filters["q"] or None,
    )
    page = paginate(request, qs, 50)
    context = {
        "section": "documents",
        "page": page,
        "filters": filters,
        "products": Product.objects.order_by("name"),
        "statuses": Document.Status.choices,
        "kinds": TemplateKind.choices,
        "can_create": not request.user.is_viewer,
    }
    return render(request, "tooling/document_list.html", context)


def _published_latest_versions():
    latest = {}
    for version in (
        TemplateVersion.objects.filter(status="published", template__status="published")
        .select_related("template")
        .order_by("template__kind", "template__name", "-number")
    ):
        latest.setdefault(version.template_id, version)
    return TemplateVersion.objects.filter(pk__in=[v.pk for v in latest.values()]).select_related("template")


def document_new(request):
    products = products_editable_by(request.user).order_by("name")
    if request.user.is_viewer:
        raise PermissionDenied("You have view access: viewers can read but not change anything.")
    versions = _published_latest_versions().order_by("template__kind", "template__name")
    initial = {}
    if request.GET.get("template"):
        initial["template_version"] = versions.filter(template__slug=request.GET["template"]).first()
    elif request.GET.get("kind"):
        initial["template_version"] = versions.filter(template__kind=request.GET["kind"]).first()
    if request.GET.get("product"):
        initial["product"] = products.filter(slug=request.GET["product"]).first()
    form = DocumentCreateForm(request.POST or None, versions=versions, products=products, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        require_product_edit(request.user, data["product"])
        try:
            document = services.document_create(
                version=data["template_version"], product=data["product"], owner=request.user, title=data["title"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Created “{document.title}”. Drafts save freely: write at your pace.")
            return redirect("tooling:document-edit", pk=document.pk)
    return render(request, "tooling/document_new.html", {"section": "documents", "form": form})


def _document_or_404(pk: int) -> Document:
    try:
        return selectors.document_get(pk)
    except Document.DoesNotExist as exc:
        raise Http404("No such document.") from exc


def document_detail(request, pk: int):
    document = _document_or_404(pk)
    written, required = selectors.document_completeness(document)
    upgrade = selectors.document_upgrade_target(document)
    can_edit = can_edit_product(request.user, document.product)
    next_statuses = [
        (s, Document.Status(s).label) for s in services.TRANSITIONS[document.status] if s != document.status
    ]
    order = list(Document.Status.values)
    next_statuses.sort(key=lambda pair: order.index(pair[0]))
    reviewers = (
        User.objects.filter(role__in=["pm", "ops_lead", "researcher"], is_active=True)
        .exclude(pk=document.owner_id)
        .order_by("first_name")
    )
    links = document.roadmap_links.select_related("item__product")
    context = {
        "section": "documents",
        "document": document,
        "sections": document.sections.all(),
        "written": written,
        "required": required,
        "complete_pct": written / required if required else 1.0,
        "missing": [s.title for s in document.sections.all() if s.required and not s.is_written],
        "upgrade": upgrade,
        "can_edit": can_edit,
        "can_comment": not request.user.is_viewer,
        "next_statuses": next_statuses,
        "review_hours": document.time_in_review_seconds() / 3600,
        "reviewers": reviewers,
        "roadmap_links": links,
        "launches": document.launches.all(),
        "requires_approval": document.product.requires_review_approval,
        "approvals": [r for r in document.reviews.all() if r.state == "approved"],
    }
    return render(request, "tooling/document_detail.html", context)


def document_edit(request, pk: int):
    document = _document_or_404(pk)
    require_product_edit(request.user, document.product)
    sections = list(document.sections.all())
    errors = {}
    if request.method == "POST":
        bodies = {s.key: request.POST.get(f"section-{s.key}", s.body) for s in sections}
        try:
            services.document_update(
                document=document, by=request.user, title=request.POST.get("title", document.title), sections=bodies
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            for section in sections:
                section.body = bodies[section.key]
        else:
            messages.success(request, "Saved.")
            return redirect(document.get_absolute_url())
    return render(
        request,
        "tooling/document_edit.html",
        {"section": "documents", "document": document, "sections": sections, "errors": errors},
    )


@require_POST
def document_status(request, pk: int):
    document = _document_or_404(pk)
    require_product_edit(request.user, document.product)
    try:
        document = services.document_transition(
            document=document, to_status=request.POST.get("status", ""), by=request.user
        )
    except ValidationError as exc:
        messages.error(request, _error_message(exc))
    else:
        messages.success(request, f"“{document.title}” is now {document.get_status_display().lower()}.")
    return redirect(document.get_absolute_url())


@require_POST
def document_review_request(request, pk: int):
    document = _document_or_404(pk)
    require_product_edit(request.user, document.product)
    reviewers = list(User.objects.filter(username__in=request.POST.getlist("reviewers")))
    try:
        services.document_request_review(document=document, reviewers=reviewers, by=request.user)
    except ValidationError as exc:
        messages.error(request, _error_message(exc))
    else:
        names = ", ".join(r.display_name for r in reviewers)
        messages.success(request, f"Asked {names} to review. Reviews are advisory: keep working meanwhile.")
    return redirect(document.get_absolute_url())


@require_POST
def document_comment(request, pk: int):
    document = _document_or_404(pk)
    if request.user.is_viewer:
        raise PermissionDenied("You have view access: viewers can read but not comment.")
    try:
        services.document_comment(
            document=document,
            author=request.user,
            body=request.POST.get("body", ""),
            approve=request.POST.get("approve") == "1",
        )
    except ValidationError as exc:
        messages.error(request, _error_message(exc))
    else:
        messages.success(request, "Approval recorded." if request.POST.get("approve") == "1" else "Comment added.")
    return redirect(document.get_absolute_url() + "#reviews")


def document_history(request, pk: int):
    document = _document_or_404(pk)
    revisions = list(document.revisions.select_related("author").order_by("-number"))
    diff, old, new = [], None, None
    if len(revisions) >= 2:
        by_number = {r.number: r for r in revisions}
        try:
            new = by_number.get(int(request.GET.get("b", revisions[0].number)), revisions[0])
            old = by_number.get(int(request.GET.get("a", new.number - 1)), revisions[1])
        except ValueError:
            new, old = revisions[0], revisions[1]
        diff = selectors.revision_diff(old, new)
    context = {
        "section": "documents",
        "document": document,
        "revisions": revisions,
        "diff": diff,
        "old": old,
        "new": new,
        "status_changes": document.status_changes.select_related("by"),
    }
    return render(request, "tooling/document_history.html", context)


def document_export(request, pk: int):
    document = _document_or_404(pk)
    response = HttpResponse(selectors.document_markdown(document), content_type="text/markdown; charset=utf-8")
    name = "".join(c if c.isalnum() else "-" for c in document.title.lower()).strip("-")[:60] or "document"
    response["Content-Disposition"] = f'attachment; filename="{name}.md"'
    return response


def document_revision_export(request, pk: int, number: int):
    revision = get_object_or_404(DocumentRevision, document_id=pk, number=number)
    return HttpResponse(revision.as_markdown(), content_type="text/markdown; charset=utf-8")


def document_upgrade(request, pk: int):
    document = _document_or_404(pk)
    target = selectors.document_upgrade_target(document)
    if target is None:
        messages.info(request, "This document already uses the latest version of its template.")
        return redirect(document.get_absolute_url())
    if request.method == "POST":
        require_product_edit(request.user, document.product)
        try:
            services.document_upgrade(document=document, by=request.user, to_version=target)
        except ValidationError as exc:
            messages.error(request, _error_message(exc))
        else:
            messages.success(request, f"Upgraded to {target}. Your written sections were not touched.")
        return redirect(document.get_absolute_url())
    changes = selectors.template_version_diff(document.template_version, target)
    mine = {s.key: s for s in document.sections.all()}
    for change in changes:
        change.written = bool(mine.get(change.key) and mine[change.key].is_written)
    context = {
        "section": "documents",
        "document": document,
        "target": target,
        "changes": changes,
        "can_edit": can_edit_product(request.user, document.product),
    }
    return render(request, "tooling/document_upgrade.html", context)


# --- templates ---------------------------------------------------------------------------


def template_list(request):
    templates = list(selectors.template_list())
    return render(request, "tooling/template_list.html", {"section": "templates", "templates": templates})


def template_detail(request, slug: str):
    template = get_object_or_404(Template.objects.select_related("owner", "replacement"), slug=slug)
    versions = list(selectors.template_versions(template))
    published = [v for v in versions if v.status == "published"]
    if not published and not request.user.is_ops_lead:
        raise Http404("This template is not published yet.")
    shown = published[0] if published else versions[0] if versions else None
    if request.GET.get("version"):
        shown = next((v for v in versions if str(v.number) == request.GET["version"]), shown)
    diff, diff_from, diff_to = None, None, None
    if len(published) >= 2:
        by_number = {v.number: v for v in versions}
        try:
            diff_to = by_number.get(int(request.GET.get("to", published[0].number)), published[0])
            diff_from = by_number.get(int(request.GET.get("from", published[1].number)), published[1])
        except ValueError:
            diff_to, diff_from = published[0], published[1]
        diff = selectors.template_version_diff(diff_from, diff_to)
    if request.method == "POST":
        try:
            services.template_suggestion_create(
                template=template,
                author=request.user,
                body=request.POST.get("body", ""),
                section_key=request.POST.get("section_key", "")[:60],
                version=shown,
            )
        except ValidationError as exc:
            messages.error(request, _error_message(exc))
        else:
            messages.success(request, "Thanks: your suggestion is in the ops leads' queue.")
        return redirect(template.get_absolute_url())
    context = {
        "section": "templates",
        "template": template,
        "versions": versions,
        "shown": shown,
        "diff": diff,
        "diff_from": diff_from,
        "diff_to": diff_to,
        "my_suggestions": template.suggestions.filter(author=request.user)[:5],
    }
    return render(request, "tooling/template_detail.html", context)


def adoption(request):
    rows = selectors.template_adoption()
    summary = selectors.template_adoption_summary()
    used = [r for r in rows if r.documents]
    fig = go.Figure(
        go.Bar(
            x=[r.name for r in used],
            y=[r.documents for r in used],
            customdata=[round((r.share_complete or 0) * 100, 1) for r in used],
            hovertemplate="%{x}: %{y} documents, %{customdata}% complete<extra></extra>",
            name="Documents",
        )
    )
    charts.styled(fig, title="Documents per template", x_title="Template", y_title="Documents")
    review_fig = go.Figure(
        go.Bar(
            x=[r.name for r in used if r.median_review_hours is not None],
            y=[r.median_review_hours for r in used if r.median_review_hours is not None],
            marker_color="#e0782f",
            hovertemplate="%{x}: median %{y:.1f} h in review<extra></extra>",
            name="Median hours in review",
        )
    )
    charts.styled(review_fig, title="Median time in review", x_title="Template", y_title="Hours")
    context = {
        "section": "adoption",
        "rows": rows,
        "summary": summary,
        "chart": charts.chart_context(fig, chart_id="adoption-chart", summary="Documents per template"),
        "review_chart": charts.chart_context(review_fig, chart_id="review-chart", summary="Median hours in review"),
        "open_suggestions": Template.objects.filter(suggestions__status="open").count(),
    }
    return render(request, "tooling/adoption.html", context)


# --- roadmaps ----------------------------------------------------------------------------

HORIZON_ORDER = ["now", "next", "later"]


def _timeline_figure(items: list[RoadmapItem], *, title: str, by_product: bool) -> go.Figure | None:
    dated = [i for i in items if i.target_quarter]
    if not dated:
        return None
    fig = go.Figure()
    groups: dict[str, list[RoadmapItem]] = defaultdict(list)
    for item in dated:
        groups[item.get_status_display()].append(item)
    for status, group in groups.items():
        starts, ends, labels = [], [], []
        for item in group:
            start, end = selectors.quarter_bounds(item.target_quarter)
            starts.append(start.isoformat())
            ends.append((end - start).days * 86400000)
            labels.append(f"{item.product.name}: {item.title}" if by_product else item.title)
        fig.add_trace(
            go.Bar(
                name=status,
                base=starts,
                x=ends,
                y=labels,
                orientation="h",
                marker_color=STATUS_COLORS.get(group[0].status, "#8c8c8c"),
                customdata=[[i.target_quarter, i.get_horizon_display(), i.rice_score] for i in group],
                hovertemplate="%{y}<br>%{customdata[0]} · %{customdata[1]} · RICE %{customdata[2]}<extra></extra>",
            )
        )
    today = timezone.localdate().isoformat()
    fig.update_xaxes(type="date")
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(
        shapes=[
            {
                "type": "line",
                "x0": today,
                "x1": today,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"dash": "dot", "color": "#c2417a"},
            }
        ],
        annotations=[{"x": today, "yref": "paper", "y": 0, "yanchor": "top", "text": "today", "showarrow": False}],
    )
    charts.styled(fig, title=title, x_title="Target quarter", y_title="", height=max(260, 28 * len(dated) + 120))
    fig.update_layout(
        barmode="overlay",
        margin={"l": 260, "t": 72},
        legend={"orientation": "h", "y": 1.0, "x": 0, "yanchor": "bottom"},
    )
    return fig


def _timeline_chart_context(items: list[RoadmapItem]) -> dict | None:
    """The portfolio timeline, memoised on a digest of exactly what it draws (and today's date
    for its marker): building the plotly figure is most of the page's cost."""
    drawn = [(i.pk, i.title, i.product.name, i.status, i.target_quarter, i.horizon, i.rice_score) for i in items]
    digest = hashlib.sha1(repr((drawn, timezone.localdate())).encode(), usedforsecurity=False).hexdigest()

    def build() -> dict | None:
        fig = _timeline_figure(items, title="Roadmap timeline by target quarter", by_product=True)
        if fig is None:
            return None
        return charts.chart_context(fig, chart_id="roadmap-timeline", summary=f"{len(items)} roadmap items")

    return memoised(f"tooling:timeline:v1:{digest}", build)


def roadmap_portfolio(request):
    filters = {k: request.GET.get(k, "").strip() for k in ("product", "unit", "horizon", "status", "quarter", "owner")}
    items = list(
        selectors.roadmap_item_list(**{k: v or None for k, v in filters.items()}).order_by(
            "product__name", "position", "-rice_score"
        )
    )
    chart = _timeline_chart_context(items)
    horizons = Counter(i.horizon for i in items)
    quarters = sorted({i.target_quarter for i in RoadmapItem.objects.exclude(target_quarter="").only("target_quarter")})
    recent = list(selectors.roadmap_change_list(product=filters["product"] or None)[:10])
    context = {
        "section": "roadmaps",
        "items": items,
        "filters": filters,
        "products": Product.objects.order_by("name"),
        "units": BusinessUnit.objects.order_by("name"),
        "horizons": RoadmapItem.Horizon.choices,
        "statuses": RoadmapItem.Status.choices,
        "quarters": quarters,
        "owners": User.objects.filter(roadmap_items__isnull=False).distinct().order_by("first_name"),
        "counts": {h: horizons.get(h, 0) for h in HORIZON_ORDER},
        "shipped": sum(1 for i in items if i.status == "shipped"),
        "chart": chart,
        "recent_changes": recent,
    }
    return render(request, "tooling/roadmap_portfolio.html", context)


def roadmap_board(request, slug: str):
    product = get_object_or_404(Product, slug=slug)
    can_edit = can_edit_product(request.user, product)
    form = RoadmapItemForm(request.POST or None, product=product, initial={"owner": request.user.pk})
    if request.method == "POST":
        require_product_edit(request.user, product)
        if form.is_valid():
            try:
                item = services.roadmap_item_create(product=product, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Added “{item.title}” to {item.get_horizon_display()}.")
                return redirect("tooling:roadmap-board", slug=product.slug)
    items = list(selectors.roadmap_item_list(product=product.slug).order_by("-rice_score", "position"))
    columns = [
        (value, label, [i for i in items if i.horizon == value and i.status != "dropped"])
        for value, label in RoadmapItem.Horizon.choices
    ]
    fig = _timeline_figure(
        [i for i in items if i.status != "dropped"], title=f"{product.name} timeline", by_product=False
    )
    changes = list(selectors.roadmap_change_list(product=product.slug)[:12])
    context = {
        "section": "roadmaps",
        "product": product,
        "columns": columns,
        "dropped": [i for i in items if i.status == "dropped"],
        "can_edit": can_edit,
        "form": form,
        "chart": charts.chart_context(fig, chart_id="product-timeline", summary=f"{len(items)} items") if fig else None,
        "changes": changes,
        "show_form": request.method == "POST" or request.GET.get("new"),
    }
    return render(request, "tooling/roadmap_board.html", context)


def roadmap_item(request, pk: int):
    try:
        item = selectors.roadmap_item_get(pk)
    except RoadmapItem.DoesNotExist as exc:
        raise Http404("No such roadmap item.") from exc
    can_edit = can_edit_product(request.user, item.product)
    form = RoadmapItemForm(request.POST or None, instance=item, product=item.product)
    link_form = RoadmapLinkForm(prefix="link")
    if request.method == "POST":
        require_product_edit(request.user, item.product)
        if form.is_valid():
            try:
                services.roadmap_item_update(item=item, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Saved.")
                return redirect(item.get_absolute_url())
    documents = Document.objects.filter(product=item.product).exclude(status="archived").order_by("title")
    context = {
        "section": "roadmaps",
        "item": item,
        "form": form,
        "link_form": link_form,
        "can_edit": can_edit,
        "documents": documents,
        "changes": item.changes.all(),
    }
    return render(request, "tooling/roadmap_item.html", context)


@require_POST
def roadmap_item_move(request, pk: int):
    item = get_object_or_404(RoadmapItem.objects.select_related("product"), pk=pk)
    require_product_edit(request.user, item.product)
    horizon = request.POST.get("horizon", "")
    try:
        services.roadmap_item_update(item=item, by=request.user, horizon=horizon)
    except ValidationError as exc:
        messages.error(request, _error_message(exc))
    else:
        messages.success(request, f"Moved “{item.title}” to {RoadmapItem.Horizon(horizon).label}.")
    return redirect("tooling:roadmap-board", slug=item.product.slug)


@require_POST
def roadmap_link_add(request, pk: int):
    item = get_object_or_404(RoadmapItem.objects.select_related("product"), pk=pk)
    require_product_edit(request.user, item.product)
    form = RoadmapLinkForm(request.POST, prefix="link")
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form[field].label if field in form.fields else "Link"
            messages.error(request, f"{label}: {' '.join(errors)}")
        return redirect(item.get_absolute_url())
    data = form.cleaned_data
    document = None
    if data["kind"] == "document":
        document = Document.objects.filter(pk=int(data["ref"])).first()
        if document is None:
            messages.error(request, f"Id: no document number {data['ref']}.")
            return redirect(item.get_absolute_url())
    try:
        link = services.roadmap_link_add(
            item=item,
            kind=data["kind"],
            label=data["label"],
            ref=data["ref"],
            url=data["url"],
            document=document,
            by=request.user,
        )
    except ValidationError as exc:
        messages.error(request, _error_message(exc))
    else:
        messages.success(request, f"Linked “{link.label}”.")
    return redirect(item.get_absolute_url())


# --- launches ----------------------------------------------------------------------------


def launch_list(request):
    filters = {k: request.GET.get(k, "").strip() for k in ("product", "status", "tier")}
    launches = list(selectors.launch_list(**{k: v or None for k, v in filters.items()}))
    today = timezone.localdate()
    for launch in launches:
        launch.readiness_pct = launch.n_required_done / launch.n_required if launch.n_required else 1.0
        launch.days_to_go = (launch.launch_date - today).days
    upcoming = [lc for lc in launches if lc.status == "planned"]
    fig = None
    if upcoming:
        fig = go.Figure(
            go.Bar(
                x=[round(lc.readiness_pct * 100, 1) for lc in upcoming],
                y=[f"{lc.feature} ({lc.launch_date:%-d %b})" for lc in upcoming],
                orientation="h",
                marker_color=["#2a9d6f" if lc.n_blocking == 0 else "#e0782f" for lc in upcoming],
                hovertemplate="%{y}: %{x:.1f}% of required items done<extra></extra>",
                name="Readiness",
            )
        )
        fig.update_xaxes(range=[0, 100])
        fig.update_yaxes(autorange="reversed")
        charts.styled(
            fig,
            title="Readiness of planned launches",
            x_title="Required checklist items done (%)",
            height=max(240, 30 * len(upcoming) + 110),
        )
        fig.update_layout(margin={"l": 240})
    context = {
        "section": "launches",
        "launches": launches,
        "filters": filters,
        "products": Product.objects.order_by("name"),
        "statuses": Launch.Status.choices,
        "tiers": Launch._meta.get_field("tier").choices,
        "n_upcoming": len(upcoming),
        "n_overdue": sum(1 for lc in upcoming if lc.n_overdue),
        "n_go": sum(1 for lc in upcoming if lc.n_blocking == 0),
        "chart": charts.chart_context(fig, chart_id="launch-readiness", summary="Readiness of planned launches")
        if fig
        else None,
        "can_create": not request.user.is_viewer,
    }
    return render(request, "tooling/launch_list.html", context)


def launch_new(request):
    if request.user.is_viewer:
        raise PermissionDenied("You have view access: viewers can read but not change anything.")
    products = products_editable_by(request.user).order_by("name")
    initial = {"launch_date": timezone.localdate() + timedelta(days=21)}
    if request.GET.get("item"):
        item = RoadmapItem.objects.filter(pk=request.GET["item"], product__in=products).first()
        if item:
            initial.update(roadmap_item=item, product=item.product, feature=item.title)
    form = LaunchForm(request.POST or None, products=products, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        require_product_edit(request.user, data["product"])
        try:
            launch = services.launch_create(
                product=data["product"],
                feature=data["feature"],
                tier=data["tier"],
                launch_date=data["launch_date"],
                owner=request.user,
                roadmap_item=data["roadmap_item"] if data["roadmap_item"] else None,
                success_criteria={"1d": data["success_1d"], "1w": data["success_1w"], "1m": data["success_1m"]},
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Launch created with {launch.checklist.count()} checklist items.")
            return redirect(launch.get_absolute_url())
    return render(request, "tooling/launch_new.html", {"section": "launches", "form": form})


def launch_detail(request, pk: int):
    launch = get_object_or_404(Launch.objects.select_related("product", "owner", "roadmap_item", "document"), pk=pk)
    items = list(launch.checklist.select_related("done_by"))
    readiness = selectors.launch_readiness(launch, items)
    today = timezone.localdate()
    for item in items:
        item.is_overdue = not item.done_at and item.due_date < today
    by_role = defaultdict(lambda: [0, 0])
    for item in items:
        by_role[item.owner_role][1] += 1
        by_role[item.owner_role][0] += bool(item.done_at)
    roles = sorted(by_role)
    fig = go.Figure(
        [
            go.Bar(name="Done", y=roles, x=[by_role[r][0] for r in roles], orientation="h", marker_color="#2a9d6f"),
            go.Bar(
                name="Open",
                y=roles,
                x=[by_role[r][1] - by_role[r][0] for r in roles],
                orientation="h",
                marker_color="#c5ccd3",
            ),
        ]
    )
    fig.update_layout(barmode="stack")
    charts.styled(fig, title="Checklist by owner role", x_title="Items", y_title="", height=300)
    fig.update_layout(margin={"l": 96})
    documents = Document.objects.filter(product=launch.product).exclude(status="archived").order_by("title")
    context = {
        "section": "launches",
        "launch": launch,
        "items": items,
        "readiness": readiness,
        "follow_ups": launch.follow_ups.all(),
        "can_edit": can_edit_product(request.user, launch.product),
        "chart": charts.chart_context(fig, chart_id="launch-owners", summary="Checklist items by owner role")
        if items
        else None,
        "documents": documents,
    }
    return render(request, "tooling/launch_detail.html", context)


@require_POST
def launch_item_toggle(request, pk: int, item_pk: int):
    item = get_object_or_404(LaunchChecklistItem.objects.select_related("launch__product"), pk=item_pk, launch_id=pk)
    require_product_edit(request.user, item.launch.product)
    services.launch_item_set_done(item=item, done=request.POST.get("done") == "1", by=request.user)
    return redirect(item.launch.get_absolute_url() + "#checklist")


@require_POST
def launch_follow_up(request, pk: int, follow_up_pk: int):
    follow_up = get_object_or_404(
        LaunchFollowUp.objects.select_related("launch__product"), pk=follow_up_pk, launch_id=pk
    )
    require_product_edit(request.user, follow_up.launch.product)
    met = {"yes": True, "no": False}.get(request.POST.get("met", ""))
    try:
        services.launch_follow_up_record(
            follow_up=follow_up,
            by=request.user,
            met=met,
            outcome=request.POST.get("outcome", ""),
            success_criteria=request.POST.get("success_criteria"),
        )
    except ValidationError as exc:
        messages.error(request, _error_message(exc))
    else:
        messages.success(request, f"Follow-up at {follow_up.get_horizon_display()} saved.")
    return redirect(follow_up.launch.get_absolute_url() + "#follow-ups")


@require_POST
def launch_update(request, pk: int):
    launch = get_object_or_404(Launch.objects.select_related("product"), pk=pk)
    require_product_edit(request.user, launch.product)
    try:
        if request.POST.get("status"):
            services.launch_set_status(launch=launch, status=request.POST["status"], by=request.user)
            messages.success(request, f"Launch marked {launch.get_status_display().lower()}.")
        if request.POST.get("document"):
            document = get_object_or_404(Document, pk=request.POST["document"], product=launch.product)
            services.launch_link_document(launch=launch, document=document, by=request.user)
            messages.success(request, f"Linked “{document.title}”.")
    except ValidationError as exc:
        messages.error(request, _error_message(exc))
    return redirect(launch.get_absolute_url())
