"""Feedback pages: signal dashboard, themes, items, ops (pipeline health), import, sources."""

from __future__ import annotations

import json
from datetime import timedelta

import plotly.graph_objects as go
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Avg, Count
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from feedback import selectors, services
from feedback.models import (
    FeedbackItem,
    FeedbackSource,
    RoadmapLink,
    Segment,
    SourceKind,
    Theme,
    ThemeStatus,
    ThemeWeek,
)
from portal.charts import chart_context, styled
from portal.models import Product
from portal.permissions import can_edit_product, require_ops_lead
from portal.tables import paginate

PERIODS = {"4": 4, "12": 12, "26": 26, "52": 52}


def _filters(request) -> dict:
    product = Product.objects.filter(slug=request.GET.get("product")).first() if request.GET.get("product") else None
    segment = request.GET.get("segment") if request.GET.get("segment") in Segment.values else ""
    weeks = PERIODS.get(request.GET.get("weeks", "12"), 12)
    return {
        "product": product,
        "segment": segment,
        "weeks": weeks,
        "since": timezone.now() - timedelta(weeks=weeks),
        "products": Product.objects.order_by("name"),
        "segments": Segment.choices,
        "periods": [(k, f"Last {v} weeks") for k, v in PERIODS.items()],
    }


def _themes_scope(f):
    return selectors.theme_list(product=f["product"], all_products=f["product"] is None)


def index(request):
    """Signal dashboard."""
    f = _filters(request)
    items = FeedbackItem.objects.filter(selectors.COUNTED, created_at__gte=f["since"])
    if f["product"]:
        items = items.filter(product=f["product"])
    if f["segment"]:
        items = items.filter(account__segment=f["segment"])
    totals = items.aggregate(n=Count("id"), accounts=Count("account", distinct=True), sentiment=Avg("sentiment"))
    nps_rows = selectors.survey_scores(kind=SourceKind.NPS, product=f["product"], months=max(3, f["weeks"] // 4))
    csat_rows = selectors.survey_scores(kind=SourceKind.CSAT, product=f["product"], months=max(3, f["weeks"] // 4))
    if f["segment"]:
        nps_seg = selectors.survey_scores(
            kind=SourceKind.NPS, product=f["product"], months=max(3, f["weeks"] // 4), by_segment=True
        )
        nps_rows = [r for r in nps_seg if r["segment"] == f["segment"]]

    themes = list(_themes_scope(f)[:200])
    # Last 4 weeks per theme: items, and the ARR of distinct accounts asking (each once).
    recent = timezone.now() - timedelta(weeks=4)
    volume = dict(
        FeedbackItem.objects.filter(selectors.COUNTED, theme__in=themes, created_at__gte=recent)
        .values_list("theme_id")
        .annotate(n=Count("id"))
    )
    arr: dict[int, float] = {}
    for theme_id, _account_id, value in (
        FeedbackItem.objects.filter(selectors.COUNTED, theme__in=themes, created_at__gte=recent, account__isnull=False)
        .values_list("theme_id", "account_id", "account__arr")
        .distinct()
    ):
        arr[theme_id] = arr.get(theme_id, 0.0) + float(value or 0)
    for theme in themes:
        theme.recent_volume = volume.get(theme.pk, 0)
        theme.recent_arr = arr.get(theme.pk, 0)
    top = themes[:10]
    trending = sorted([t for t in themes if t.recent_volume >= 5 and t.trend > 0.2], key=lambda t: -t.trend)[:6]
    spikes = selectors.theme_list(all_products=True).filter(alerts__isnull=False).distinct()
    if f["product"]:
        spikes = spikes.filter(product=f["product"])
    recent_alerts = (
        Theme.objects.filter(alerts__created_at__gte=timezone.now() - timedelta(days=14), pk__in=[t.pk for t in themes])
        .distinct()
        .count()
    )

    charts = {}
    weeks = selectors.theme_weeks([t.pk for t in top[:5]], weeks=f["weeks"])
    if weeks:
        fig = go.Figure()
        for theme in top[:5]:
            rows = weeks.get(theme.pk, [])
            fig.add_trace(go.Scatter(x=[r.week for r in rows], y=[r.volume for r in rows], mode="lines+markers",
                                     name=theme.label[:40]))  # fmt: skip
        charts["volume"] = chart_context(
            styled(fig, title="Weekly volume of the top themes", x_title="Week", y_title="Items", time_series=True),
            chart_id="fb-volume",
            summary="Weekly item volume for the five highest-scoring themes.",
        )
    by_area = list(items.values("area__name").annotate(n=Count("id"), s=Avg("sentiment")).order_by("-n")[:12])
    if by_area:
        fig = go.Figure(
            go.Bar(x=[r["area__name"] or "Unassigned" for r in by_area], y=[r["n"] for r in by_area],
                   marker_color=["#c2417a" if (r["s"] or 0) < -0.05 else "#2f6fde" for r in by_area],
                   customdata=[round(r["s"] or 0, 2) for r in by_area],
                   hovertemplate="%{x}: %{y} items, mean sentiment %{customdata}<extra></extra>")
        )  # fmt: skip
        charts["areas"] = chart_context(
            styled(fig, title="Items by product area", x_title="Product area", y_title="Items"),
            chart_id="fb-areas",
            summary="Feedback volume per product area; pink bars have negative mean sentiment.",
        )
    by_segment = list(items.values("account__segment").annotate(n=Count("id"), s=Avg("sentiment")).order_by("-n"))
    labels = dict(Segment.choices)
    if by_segment:
        fig = go.Figure(
            go.Bar(x=[labels.get(r["account__segment"], "No account") for r in by_segment],
                   y=[r["n"] for r in by_segment])
        )  # fmt: skip
        charts["segments"] = chart_context(
            styled(fig, title="Items by customer segment", x_title="Segment", y_title="Items"),
            chart_id="fb-segments",
            summary="Feedback volume per customer segment.",
        )
    for key, rows, name, axis in (
        ("nps", nps_rows, "NPS by month (95% interval)", "NPS (−100 to 100)"),
        ("csat", csat_rows, "CSAT by month (95% interval)", "% satisfied"),
    ):
        if rows:
            fig = go.Figure(
                go.Scatter(
                    x=[r["month"] for r in rows], y=[r["value"] for r in rows], mode="lines+markers", name=key.upper(),
                    error_y={"type": "data", "symmetric": False, "array": [r["high"] - r["value"] for r in rows],
                             "arrayminus": [r["value"] - r["low"] for r in rows]},
                    customdata=[r["n"] for r in rows],
                    hovertemplate="%{x|%b %Y}: %{y:.1f} (n=%{customdata})<extra></extra>",
                )
            )  # fmt: skip
            charts[key] = chart_context(
                styled(fig, title=name, x_title="Month", y_title=axis, time_series=True),
                chart_id=f"fb-{key}",
                summary=f"{key.upper()} per month with 95% confidence intervals.",
            )
    latest_nps = nps_rows[-1] if nps_rows else None
    latest_csat = csat_rows[-1] if csat_rows else None
    return render(
        request,
        "feedback/index.html",
        {
            **f,
            "totals": totals,
            "top": top,
            "trending": trending,
            "charts": charts,
            "latest_nps": latest_nps,
            "latest_csat": latest_csat,
            "recent_alerts": recent_alerts,
            "section": "dashboard",
            "run": selectors.last_run(kind="recluster", product=f["product"]),
        },
    )


class RenameForm(forms.Form):
    label = forms.CharField(max_length=200)


class MergeForm(forms.Form):
    into = forms.ModelChoiceField(queryset=Theme.objects.none(), label="Merge into")

    def __init__(self, *args, theme: Theme, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["into"].queryset = Theme.objects.filter(
            product=theme.product, status__in=[ThemeStatus.ACTIVE, ThemeStatus.PROPOSED]
        ).exclude(pk=theme.pk)


def theme_detail(request, pk: int):
    theme = get_object_or_404(Theme.objects.select_related("product", "merged_into"), pk=pk)
    weeks = ThemeWeek.objects.filter(theme=theme).order_by("week")
    with_contacts = selectors.can_see_contacts(request.user)
    accounts = selectors.theme_accounts(theme, with_contacts=with_contacts)
    arr_total = sum(float(a["arr"] or 0) for a in accounts)
    items = selectors.item_list(theme=theme)[:20]
    charts = {}
    if weeks:
        fig = go.Figure()
        fig.add_trace(go.Bar(x=[w.week for w in weeks], y=[w.volume for w in weeks], name="Items"))
        fig.add_trace(
            go.Scatter(x=[w.week for w in weeks], y=[w.baseline for w in weeks], name="8-week baseline",
                       line={"dash": "dot"})
        )  # fmt: skip
        charts["volume"] = chart_context(
            styled(fig, title="Items per week against the baseline", x_title="Week", y_title="Items",
                   time_series=True),
            chart_id="fb-theme-volume", summary="Weekly volume and the 8-week baseline.",
        )  # fmt: skip
        fig = go.Figure(
            go.Scatter(x=[w.week for w in weeks], y=[w.mean_sentiment for w in weeks], mode="lines+markers",
                       name="Mean sentiment")
        )  # fmt: skip
        fig.update_yaxes(range=[-1, 1])
        charts["sentiment"] = chart_context(
            styled(fig, title="Mean sentiment per week", x_title="Week", y_title="Sentiment (−1 to 1)",
                   time_series=True),
            chart_id="fb-theme-sentiment", summary="Mean VADER sentiment of the theme's items per week.",
        )  # fmt: skip
    links = _roadmap_links(theme=theme)
    return render(
        request,
        "feedback/theme.html",
        {
            "theme": theme,
            "weeks": list(weeks),
            "accounts": accounts,
            "arr_total": arr_total,
            "items": items,
            "charts": charts,
            "with_contacts": with_contacts,
            "is_ops": request.user.is_ops_lead,
            "rename_form": RenameForm(initial={"label": theme.label}),
            "merge_form": MergeForm(theme=theme),
            "links": links,
            "roadmap_choices": _roadmap_choices(request.user, theme.product),
            "section": "themes",
            "latest": list(weeks)[-1] if weeks else None,
        },
    )


def _roadmap_links(*, theme=None, item=None):
    qs = RoadmapLink.objects.select_related("roadmap_item", "created_by")
    return list(qs.filter(theme=theme) if theme else qs.filter(item=item))


def _roadmap_choices(user, product):
    from tooling.models import RoadmapItem

    if product is None or not can_edit_product(user, product):
        return []
    return list(RoadmapItem.objects.filter(product=product).exclude(status="dropped").order_by("title"))


@require_POST
def link_create(request):
    from tooling.models import RoadmapItem

    roadmap_item = get_object_or_404(RoadmapItem.objects.select_related("product"), pk=request.POST.get("roadmap_item"))
    theme = Theme.objects.filter(pk=request.POST.get("theme")).first() if request.POST.get("theme") else None
    item = FeedbackItem.objects.filter(pk=request.POST.get("item")).first() if request.POST.get("item") else None
    try:
        services.roadmap_link_create(roadmap_item=roadmap_item, theme=theme, item=item, by=request.user)
        messages.success(request, f"Linked to “{roadmap_item.title}”. When it ships, its page lists who to tell.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    target = theme or item
    return redirect(target.get_absolute_url() if target else "feedback:loops")


@require_POST
def link_delete(request, pk: int):
    link = get_object_or_404(RoadmapLink.objects.select_related("roadmap_item__product"), pk=pk)
    services.roadmap_link_delete(link=link, by=request.user)
    messages.success(request, "Link removed.")
    return HttpResponseRedirect(request.POST.get("next") or reverse("feedback:loops"))


def loops(request):
    """Close the loop: roadmap items that answer feedback, shipped ones first."""
    from tooling.models import RoadmapItem

    f = _filters(request)
    qs = RoadmapItem.objects.filter(feedback_links__isnull=False).select_related("product", "owner").distinct()
    if f["product"]:
        qs = qs.filter(product=f["product"])
    qs = qs.annotate(
        themes=Count("feedback_links__theme", distinct=True), items=Count("feedback_links__item", distinct=True)
    ).order_by("-status", "title")
    rows = list(qs)
    shipped = [r for r in rows if r.status == "shipped"]
    others = [r for r in rows if r.status != "shipped"]
    return render(request, "feedback/loops.html", {**f, "shipped": shipped, "others": others, "section": "loop"})


def loop_detail(request, pk: int):
    from tooling.models import RoadmapItem

    roadmap_item = get_object_or_404(RoadmapItem.objects.select_related("product", "owner"), pk=pk)
    with_contacts = selectors.can_see_contacts(request.user)
    accounts = selectors.loop_accounts(roadmap_item, with_contacts=with_contacts)
    if request.GET.get("format") == "csv":
        return _accounts_csv(roadmap_item, accounts, with_contacts)
    links = list(RoadmapLink.objects.filter(roadmap_item=roadmap_item).select_related("theme", "item", "created_by"))
    return render(
        request,
        "feedback/loop.html",
        {
            "roadmap_item": roadmap_item,
            "accounts": accounts,
            "arr_total": sum(float(a["arr"] or 0) for a in accounts),
            "links": links,
            "with_contacts": with_contacts,
            "can_edit": can_edit_product(request.user, roadmap_item.product),
            "section": "loop",
        },
    )


def _accounts_csv(roadmap_item, accounts, with_contacts):
    import csv

    from django.http import HttpResponse

    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="customers-to-tell-{roadmap_item.pk}.csv"'
    writer = csv.writer(response)
    writer.writerow(["account", "segment", "arr", "items", "last_asked", *(["contacts"] if with_contacts else [])])
    for a in accounts:
        row = [a["name"], a["segment"], a["arr"], a["items"], a["last_asked"].date().isoformat()]
        if with_contacts:
            row.append("; ".join(f"{c.name} <{c.email}>" for c in a["contacts"]))
        writer.writerow(row)
    return response


@require_POST
def theme_action(request, pk: int, action: str):
    theme = get_object_or_404(Theme, pk=pk)
    try:
        if action == "rename":
            form = RenameForm(request.POST)
            if not form.is_valid():
                raise ValidationError({"label": "A theme needs a label (at most 200 characters)."})
            services.theme_rename(theme=theme, label=form.cleaned_data["label"], by=request.user)
            messages.success(request, f"Renamed to “{theme.label}”. Re-clusters keep this name.")
        elif action == "merge":
            form = MergeForm(request.POST, theme=theme)
            if not form.is_valid():
                raise ValidationError({"into": "Choose a theme of the same product to merge into."})
            into = services.theme_merge(theme=theme, into=form.cleaned_data["into"], by=request.user)
            messages.success(request, f"Merged into “{into.label}”.")
            return redirect(into)
        elif action == "split":
            new = services.theme_split(theme=theme, by=request.user)
            messages.success(request, f"Split off “{new.label}” ({new.size} items).")
        elif action == "accept":
            services.theme_accept(theme=theme, by=request.user)
            messages.success(request, "Theme accepted: it is now active.")
        else:
            raise PermissionDenied("Unknown action.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(theme)


def themes(request):
    f = _filters(request)
    qs = _themes_scope(f)
    page = paginate(request, qs, 50)
    return render(request, "feedback/themes.html", {**f, "page": page, "section": "themes"})


def items(request):
    f = _filters(request)
    theme = (
        Theme.objects.filter(pk=request.GET.get("theme")).first() if request.GET.get("theme", "").isdigit() else None
    )
    q = request.GET.get("q", "").strip()[:200]
    source = request.GET.get("source") or None
    qs = selectors.item_list(source=source, product=f["product"], theme=theme, segment=f["segment"], q=q)
    page = paginate(request, qs, 50)
    terms = [q] if q else (theme.top_terms[:6] if theme else [])
    return render(
        request,
        "feedback/items.html",
        {**f, "page": page, "theme": theme, "q": q, "terms": terms, "source": source,
         "sources": FeedbackSource.objects.order_by("name"), "section": "items"},
    )  # fmt: skip


def item_detail(request, pk: int):
    item = get_object_or_404(
        FeedbackItem.objects.select_related("source", "account", "product", "theme", "area", "duplicate_of", "contact"),
        pk=pk,
    )
    return render(
        request,
        "feedback/item.html",
        {
            "item": item,
            "raw": json.dumps(item.raw, indent=2, ensure_ascii=False),
            "with_contacts": selectors.can_see_contacts(request.user),
            "is_ops": request.user.is_ops_lead,
            "terms": item.theme.top_terms[:6] if item.theme else [],
            "links": _roadmap_links(item=item),
            "roadmap_choices": _roadmap_choices(request.user, item.product),
            "section": "items",
        },
    )


@require_POST
def item_action(request, pk: int, action: str):
    item = get_object_or_404(FeedbackItem, pk=pk)
    try:
        if action == "retry":
            services.item_retry(item=item, by=request.user)
            messages.success(request, "Queued for processing again.")
        elif action in ("confirm", "undo"):
            services.duplicate_review(item=item, confirm=action == "confirm", by=request.user)
            messages.success(request, "Duplicate confirmed." if action == "confirm" else "Merge undone.")
        else:
            raise PermissionDenied("Unknown action.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return HttpResponseRedirect(request.POST.get("next") or item.get_absolute_url())


def ops(request):
    """Pipeline health: failures (retried automatically, listed here), duplicates, proposals."""
    failed = selectors.failed_items()
    proposed = Theme.objects.filter(status=ThemeStatus.PROPOSED).select_related("product")
    runs = services.PipelineRun.objects.select_related("product", "requested_by")[:10]
    context = {
        "failed": failed[:100],
        "failed_count": failed.count(),
        "pending": selectors.pending_count(),
        "duplicates": selectors.suggested_duplicates()[:50],
        "proposed": proposed,
        "runs": runs,
        "is_ops": request.user.is_ops_lead,
        "products": Product.objects.order_by("name"),
        "section": "ops",
        "running": any(r.status in ("queued", "running") for r in runs),
    }
    if request.headers.get("X-Requested-With") == "fetch":
        return render(request, "feedback/_runs.html", context)
    return render(request, "feedback/ops.html", context)


@require_POST
def recluster(request):
    require_ops_lead(request.user)
    product = Product.objects.filter(slug=request.POST.get("product")).first()
    run = services.run_start(kind="recluster", product=product, by=request.user)
    from feedback.tasks import recluster as recluster_task

    recluster_task.delay_on_commit(run.pk)
    messages.success(request, f"Re-cluster of {product.name if product else 'unassigned feedback'} queued.")
    return redirect("feedback:ops")


class CsvImportForm(forms.Form):
    source = forms.ModelChoiceField(queryset=FeedbackSource.objects.filter(is_active=True).order_by("name"))
    file = forms.FileField(help_text="UTF-8 CSV with a header row; at most 20,000 rows.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in services.CSV_FIELDS:
            self.fields[f"col_{name}"] = forms.CharField(
                required=name in services.CSV_REQUIRED,
                initial=name,
                label={"arr": "ARR", "external_id": "External ID"}.get(name, name.replace("_", " ").capitalize()),
                help_text="Column header in your file" + (" (required)" if name in services.CSV_REQUIRED else ""),
            )

    def mapping_fields(self):
        return [self[f"col_{name}"] for name in services.CSV_FIELDS]


def csv_import(request):
    result = None
    if request.method == "POST":
        if request.user.is_viewer:
            raise PermissionDenied("You have view access: viewers can read but not change anything.")
        form = CsvImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                form.add_error("file", "The file is not UTF-8 text; export it from your spreadsheet as CSV UTF-8.")
            else:
                mapping = {name: form.cleaned_data[f"col_{name}"].strip() for name in services.CSV_FIELDS}
                try:
                    result = services.csv_import(
                        source=form.cleaned_data["source"], text=text, mapping=mapping, by=request.user
                    )
                except ValidationError as exc:
                    for field, errors in exc.message_dict.items():
                        form.add_error(f"col_{field}" if field in services.CSV_FIELDS else "file", errors)
    else:
        form = CsvImportForm()
    return render(request, "feedback/import.html", {"form": form, "result": result, "section": "import"})


class SourceForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=SourceKind.choices)
    default_product = forms.ModelChoiceField(queryset=Product.objects.order_by("name"), required=False)


def sources(request):
    created = None
    if request.method == "POST":
        form = SourceForm(request.POST)
        if form.is_valid():
            created = services.source_create(
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                default_product=form.cleaned_data["default_product"],
                by=request.user,
            )
            form = SourceForm()
    else:
        form = SourceForm()
    base = request.build_absolute_uri("/api/v1/feedback/webhooks/")
    return render(
        request,
        "feedback/sources.html",
        {"sources": selectors.source_list(), "form": form, "created": created, "webhook_base": base,
         "can_create": not request.user.is_viewer, "section": "sources"},
    )  # fmt: skip
