"""Analytics pages: thin views over selectors and services."""

from __future__ import annotations

import csv
import json
from urllib.parse import urlencode

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from analytics import queries, selectors, services
from analytics.forms import DashboardForm, FilterForm, PlanImportForm, QueryForm
from analytics.models import Dashboard, EventDefinition, Insight, Tile, TileResult
from portal.models import Product
from portal.permissions import can_edit_product, require_ops_lead, require_product_edit

REFRESH_EVERY_SECONDS = 60


def _product(slug: str) -> Product:
    return get_object_or_404(Product.objects.select_related("pm_owner"), slug=slug)


def _base(request, product: Product | None, section: str, **extra) -> dict:
    ctx = {
        "current_section": "analytics",
        "product": product,
        "section": section,
        "products": Product.objects.only("slug", "name"),
        "can_edit": can_edit_product(request.user, product) if product else False,
    }
    ctx.update(extra)
    return ctx


def index(request):
    products = selectors.product_list_for(request.user)
    if request.GET.get("product"):
        return redirect("analytics:product", request.GET["product"])
    health = {
        d.product_id: d
        for d in Dashboard.objects.filter(template__slug="product-health").only("pk", "product_id", "name")
    }
    rows = [(p, health.get(p.pk)) for p in products]
    return render(request, "analytics/index.html", _base(request, None, "index", rows=rows))


def product_home(request, slug):
    product = _product(slug)
    return render(
        request,
        "analytics/product.html",
        _base(
            request,
            product,
            "dashboards",
            dashboards=selectors.dashboard_list(product=product),
            insights=selectors.insight_list(product=product)[:50],
        ),
    )


# --- Dashboards ----------------------------------------------------------------------------


def _filter_state(params: QueryDict, dashboard: Dashboard) -> tuple[FilterForm, dict, bool]:
    """The filter form and effective filters: the query string, else the saved filters."""
    submitted = any(k in params for k in ("date_from", "date_to", "prop"))
    if submitted:
        form = FilterForm(params)
        if form.is_valid():
            overrides = {
                "date_from": form.cleaned_data["date_from"] or dashboard.date_from,
                "date_to": form.cleaned_data["date_to"],
                "filters": form.filters(),
            }
            return form, services.effective_filters(dashboard=dashboard, overrides=overrides), True
    saved = dashboard.filters[0] if dashboard.filters else {}
    form = FilterForm(
        initial={
            "date_from": dashboard.date_from,
            "date_to": dashboard.date_to,
            "prop": saved.get("property", ""),
            "op": saved.get("op", "eq"),
            "value": saved.get("value", ""),
        }
    )
    return form, services.effective_filters(dashboard=dashboard), False


def _tile_context(tile: Tile, result: TileResult, query: str) -> dict:
    ctx = {"tile": tile, "result": result, "query": query, "pending": result.status in ("queued", "computing")}
    if result.result and not result.view:  # computed before views were stored
        result.view = services.tile_view(tile=tile, data=result.result)
    view = result.view or {}
    if view:
        ctx["summary"] = view.get("summary", "")
        if view.get("figure"):
            ctx["chart"] = {
                "id": f"tile-{tile.pk}",
                "json": view["figure"],
                "summary": ctx["summary"],
                "csv_name": tile.title,
            }
        ctx["kpis"] = view.get("kpis") or []
        ctx["table"] = view.get("table")
    return ctx


def dashboard_detail(request, pk):
    try:
        dashboard = selectors.dashboard_get(pk)
    except Dashboard.DoesNotExist:
        raise Http404("No such dashboard") from None
    form, effective, overridden = _filter_state(request.GET, dashboard)
    tiles = list(dashboard.tiles.all())
    results = services.tile_results_request(tiles=tiles, effective=effective)
    query = request.GET.urlencode()
    tile_views = [_tile_context(t, results[t.pk], query) for t in tiles]
    computed = [r.computed_at for r in results.values() if r.computed_at]
    return render(
        request,
        "analytics/dashboard.html",
        _base(
            request,
            dashboard.product,
            "dashboards",
            dashboard=dashboard,
            form=form,
            overridden=overridden,
            tiles=tile_views,
            oldest=min(computed) if computed else None,
            query=query,
        ),
    )


def tile_fragment(request, pk, tile_pk):
    """One tile's card (polled while its result is being computed)."""
    dashboard = get_object_or_404(Dashboard.objects.select_related("product"), pk=pk)
    tile = get_object_or_404(Tile, pk=tile_pk, dashboard=dashboard)
    _form, effective, _ = _filter_state(request.GET, dashboard)
    result = services.tile_results_request(tiles=[tile], effective=effective)[tile.pk]
    return render(request, "analytics/_tile.html", _tile_context(tile, result, request.GET.urlencode()))


@require_POST
def dashboard_refresh(request, pk):
    dashboard = get_object_or_404(Dashboard, pk=pk)
    query = request.POST.get("query", "")
    url = dashboard.get_absolute_url() + (f"?{query}" if query else "")
    if not cache.add(f"analytics:dashboard-refresh:{dashboard.pk}", 1, timeout=REFRESH_EVERY_SECONDS):
        messages.warning(request, "This dashboard was refreshed less than a minute ago; its tiles are updating.")
        return redirect(url)
    _form, effective, _ = _filter_state(QueryDict(query), dashboard)
    services.tile_results_request(tiles=list(dashboard.tiles.all()), effective=effective, force=True)
    messages.success(request, "Refreshing every tile in the background; they update on this page as they finish.")
    return redirect(url)


@require_POST
def dashboard_save_filters(request, pk):
    dashboard = get_object_or_404(Dashboard.objects.select_related("product"), pk=pk)
    require_product_edit(request.user, dashboard.product)
    form = FilterForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The filters are not valid.")
        return redirect(dashboard)
    try:
        services.dashboard_save_filters(
            dashboard=dashboard,
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
            filters=form.filters(),
            by=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(dashboard)
    messages.success(request, "Filters saved: everyone opening this dashboard now sees this view.")
    return redirect(dashboard)


def dashboard_new(request, slug):
    product = _product(slug)
    require_product_edit(request.user, product)
    form = DashboardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        dashboard = services.dashboard_create(
            product=product,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            by=request.user,
        )
        messages.success(request, "Dashboard created. Add its first tile.")
        return redirect("analytics:tile-new", dashboard.pk)
    return render(request, "analytics/dashboard_form.html", _base(request, product, "dashboards", form=form))


def tile_new(request, pk):
    dashboard = get_object_or_404(Dashboard.objects.select_related("product"), pk=pk)
    require_product_edit(request.user, dashboard.product)
    if dashboard.is_standard:
        raise PermissionDenied(
            "Standard dashboards follow their template (ops leads edit it in the admin); "
            "create your own dashboard to add tiles."
        )
    form = QueryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.tile_add(
            dashboard=dashboard,
            title=form.cleaned_data["title"],
            spec=form.cleaned_data["built_spec"],
            width=2 if form.cleaned_data["built_spec"]["type"] in ("retention", "funnel") else 1,
            by=request.user,
        )
        messages.success(request, "Tile added; its result is computing.")
        return redirect(dashboard)
    return render(
        request,
        "analytics/query_form.html",
        _base(request, dashboard.product, "dashboards", form=form, dashboard=dashboard, heading="Add a tile"),
    )


# --- Insights ------------------------------------------------------------------------------


def insight_new(request, slug):
    product = _product(slug)
    require_product_edit(request.user, product)
    form = QueryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        insight = services.insight_create(
            product=product, name=form.cleaned_data["title"], spec=form.cleaned_data["built_spec"], by=request.user
        )
        return redirect(insight)
    return render(
        request, "analytics/query_form.html", _base(request, product, "insights", form=form, heading="New insight")
    )


def _insight_result(insight: Insight) -> tuple[dict | None, str]:
    try:
        spec = services.spec_resolve(product=insight.product, spec=insight.spec)
        return queries.run(insight.product_id, spec), ""
    except queries.SpecError as exc:
        return None, str(exc)


def insight_detail(request, pk):
    from analytics import charts
    from portal.charts import chart_context  # plotly: imported only where drawn

    insight = get_object_or_404(Insight.objects.select_related("product", "created_by"), pk=pk)
    result, error = _insight_result(insight)
    ctx = _base(request, insight.product, "insights", insight=insight, error=error, result=result)
    if result:
        fig = charts.figure_for(result, title=insight.name, show=insight.spec.get("show"))
        ctx["summary"] = charts.summary_for(result, insight.name)
        if fig is not None:
            ctx["chart"] = chart_context(fig, chart_id="insight", summary=ctx["summary"], csv_name=insight.name)
        ctx["table"] = charts.display_table(*charts.table_for(result))
        ctx["kpis"] = charts.kpis_for(result)
    ctx["spec_json"] = json.dumps(insight.spec, indent=2)
    return render(request, "analytics/insight.html", ctx)


def insight_csv(request, pk):
    from analytics import charts

    insight = get_object_or_404(Insight.objects.select_related("product"), pk=pk)
    result, error = _insight_result(insight)
    if result is None:
        return HttpResponse(error, status=400, content_type="text/plain")
    header, rows = charts.table_for(result)
    return _csv_response(f"{insight.product.slug}-{insight.name}", header, rows)


def _csv_response(name: str, header: list, rows: list) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:80]
    response["Content-Disposition"] = f'attachment; filename="{safe}.csv"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return response


def _csv_cell(value):
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- Tracking plan -------------------------------------------------------------------------


def plan(request, slug):
    product = _product(slug)
    q = request.GET.get("q", "").strip()[:100]
    status = request.GET.get("status", "")
    tag = request.GET.get("tag", "").strip()[:40]
    if status and status not in EventDefinition.Status.values:
        status = ""
    definitions = selectors.event_definition_list(product=product, q=q, status=status, tag=tag)
    tags = sorted(
        {t for tags in EventDefinition.objects.filter(product=product).values_list("tags", flat=True) for t in tags}
    )
    return render(
        request,
        "analytics/plan.html",
        _base(
            request,
            product,
            "plan",
            definitions=definitions,
            q=q,
            status=status,
            tag=tag,
            tags=tags,
            statuses=EventDefinition.Status.choices,
            import_form=PlanImportForm() if request.user.is_ops_lead else None,
        ),
    )


def event_detail(request, slug, name):
    from portal.charts import chart_context, line_chart  # plotly: imported only where drawn

    product = _product(slug)
    try:
        definition = selectors.event_definition_get(product=product, name=name)
    except EventDefinition.DoesNotExist:
        raise Http404("No such event in the tracking plan") from None
    daily = selectors.event_daily_counts(product=product, event=name, days=30)
    ctx = _base(request, product, "plan", definition=definition, daily=daily)
    if daily:
        fig = line_chart(
            [d[0].isoformat() for d in daily],
            {"Events": [d[1] for d in daily], "Unique users": [d[2] for d in daily]},
            title="Volume, last 30 days",
            x_title="Day (UTC)",
            y_title="Events / users",
        )
        fig.update_layout(height=240)
        ctx["chart"] = chart_context(
            fig, chart_id="event-volume", summary=f"{sum(d[1] for d in daily):,} events in 30 days"
        )
    from analytics.models import Event, ViolationType

    ctx["violation_types"] = ViolationType.objects.filter(product=product, event=name).order_by("-last_seen")[:10]
    ctx["recent_violations"] = list(
        Event.objects.filter(product=product, event=name)
        .exclude(reasons=[])
        .order_by("-timestamp")
        .only("timestamp", "distinct_id", "status", "reasons")[:10]
    )
    ctx["changes"] = selectors.plan_change_list(product=product).filter(target__startswith=name)[:10]
    return render(request, "analytics/event.html", ctx)


def plan_history(request, slug):
    product = _product(slug)
    return render(
        request,
        "analytics/plan_history.html",
        _base(request, product, "plan", changes=selectors.plan_change_list(product=product)[:200]),
    )


def plan_export_json(request, slug):
    product = _product(slug)
    response = HttpResponse(
        json.dumps(services.plan_export(product=product), indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="tracking-plan-{product.slug}.json"'
    return response


def plan_export_csv(request, slug):
    product = _product(slug)
    return _csv_response(
        f"tracking-plan-{product.slug}", services.PLAN_CSV_COLUMNS, services.plan_export_csv_rows(product=product)
    )


@require_POST
def plan_import(request, slug):
    product = _product(slug)
    require_ops_lead(request.user)
    form = PlanImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("analytics:plan", slug)
    upload = form.cleaned_data["file"]
    try:
        text = upload.read().decode("utf-8-sig")
        data = services.plan_from_csv(text) if upload.name.lower().endswith(".csv") else json.loads(text)
        summary = services.plan_import(product=product, data=data, by=request.user)
    except UnicodeDecodeError:
        messages.error(request, "The file is not UTF-8 text.")
    except json.JSONDecodeError as exc:
        messages.error(request, f"The file is not valid JSON: {exc.msg} at line {exc.lineno}.")
    except ValidationError as exc:
        messages.error(request, "Nothing was imported. " + " ".join(exc.messages))
    else:
        messages.success(
            request,
            "Imported: {events_created} events created, {events_updated} updated, "
            "{properties_created} properties created, {properties_updated} updated.".format(**summary),
        )
    return redirect("analytics:plan", slug)


# --- Data governance -----------------------------------------------------------------------


def quality(request, slug):
    from analytics import charts
    from portal.charts import chart_context  # plotly: imported only where drawn

    product = _product(slug)
    try:
        stale_days = max(1, min(int(request.GET.get("stale_days", 14)), 365))
    except ValueError:
        stale_days = 14
    report = selectors.quality_report(product=product, stale_days=stale_days)
    spec = {"type": "quality", "date_from": f"-{report['days'] - 1}d"}
    result = queries.run(product.pk, spec)
    fig = charts.figure_for(result, title="Events by conformance, last 30 days")
    ctx = _base(
        request,
        product,
        "quality",
        report=report,
        stale_days=stale_days,
        chart=chart_context(fig, chart_id="quality", summary=charts.summary_for(result, "Conformance")),
        query=urlencode({"stale_days": stale_days}),
    )
    return render(request, "analytics/quality.html", ctx)


def dashboard_redirect(request, slug, template_slug):
    """/analytics/<product>/health/ → the product's standard dashboard of that template."""
    dashboard = get_object_or_404(Dashboard, product__slug=slug, template__slug=template_slug)
    return redirect(reverse("analytics:dashboard-detail", args=[dashboard.pk]))
