"""Experiments pages: library, experiment page (results read from stored snapshots), create from a
template with the checklist and power calculator, metrics, best-practice guide. Views are thin."""

from __future__ import annotations

from datetime import date, timedelta

import plotly.graph_objects as go
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from experiments import selectors, services, stats
from experiments.forms import DecideForm, ExperimentEditForm, ExperimentForm, MetricForm, PowerForm, StopForm
from experiments.models import BestPractice, Experiment, ExperimentTemplate, Metric
from portal import charts
from portal.memo import memoised
from portal.models import Product
from portal.permissions import can_edit_product, products_editable_by
from portal.tables import paginate

VERDICT_LABELS = {
    "win": ("won", "Winner"),
    "loss": ("lost", "Worse"),
    "flat": ("inconclusive", "No clear effect"),
    "not_enough_data": ("pending", "Not enough data"),
}


def _form_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        target = field if field in form.fields else None
        for error in errors:
            form.add_error(target, error)


# ---------------------------------------------------------------------------------------------
# Library


def index(request):
    filters = {k: request.GET.get(k, "").strip() for k in ("q", "product", "status", "outcome", "metric", "tag")}
    qs = selectors.experiment_list(**{k: v or None for k, v in filters.items()})
    page = paginate(request, qs, 25)
    all_experiments = Experiment.objects.all()
    decided = all_experiments.filter(decision__in=["shipped", "rolled_back", "inconclusive"])
    shipped = decided.filter(decision="shipped").count()
    context = {
        "page": page,
        "filters": filters,
        "products": Product.objects.order_by("name"),
        "metrics": Metric.objects.order_by("name"),
        "tags": selectors.tag_list(),
        "statuses": Experiment.Status.choices,
        "outcomes": Experiment.Decision.choices,
        "kpis": {
            "running": all_experiments.filter(status="running").count(),
            "decided": decided.count(),
            "ship_rate": (shipped / decided.count()) if decided.count() else None,
            "products": all_experiments.values("product").distinct().count(),
        },
        "can_create": products_editable_by(request.user).exists(),
    }
    return render(request, "experiments/index.html", context)


# ---------------------------------------------------------------------------------------------
# Experiment page


def _results_context(experiment: Experiment) -> dict:
    snapshot = selectors.snapshot_latest(experiment)
    pending = selectors.snapshot_pending(experiment)
    rows = []
    if snapshot is not None:
        for row in snapshot.results:
            tone, label = VERDICT_LABELS.get(row.get("verdict"), ("pending", "–"))
            rows.append({**row, "tone": tone, "verdict_label": label})
    primary = [r for r in rows if r["role"] == "primary"]
    health = snapshot.health if snapshot else []
    # The charts live in the same polled block as the results card: when a refresh lands, the
    # exposures and cumulative-lift cards update with it instead of keeping a stale empty state.
    return {
        "experiment": experiment,
        "snapshot": snapshot,
        "pending": pending,
        "rows": rows,
        "primary_rows": primary,
        "health": health,
        "health_worst": _worst(health)[0],
        "health_label": _worst(health)[1],
        **_charts(experiment, snapshot, rows),
    }


def _charts(experiment: Experiment, snapshot, rows: list[dict]) -> dict:
    """The three charts, built from ready (immutable) snapshots: memoised per latest snapshot,
    since building plotly figures is most of the page's cost."""

    def build() -> dict:
        return {
            "forest": _forest_chart(rows) if any(r["lift"] is not None for r in rows) else None,
            "cumulative": _cumulative_chart(experiment, selectors.snapshot_history(experiment)),
            "exposures": _exposure_chart(snapshot),
        }

    if snapshot is None:
        return build()
    key = f"experiments:charts:v1:{experiment.pk}:{experiment.updated_at.timestamp()}:{snapshot.pk}"
    return memoised(key, build)


def _worst(health: list[dict]) -> tuple[str, str]:
    """(badge tone key, label) for the page header."""
    codes = {c["code"] for c in health}
    if "srm" in codes:
        return "srm", "Sample ratio mismatch"
    if "guardrail" in codes:
        return "failed", "Guardrail regression"
    if codes & {"no_exposures", "underpowered"}:
        return "needs_attention", "Needs attention"
    if "too_early" in codes:
        return "too early", "Too early to call"
    return ("healthy", "Healthy") if health else ("pending", "Not computed")


def _forest_chart(rows: list[dict]) -> dict:
    shown = [r for r in rows if r["lift"] is not None]
    labels = [f"{r['metric_name']} · {r['variant_name']}" for r in shown]
    colors = {"win": charts.COLORS[2], "loss": charts.COLORS[3]}
    fig = go.Figure(
        go.Scatter(
            x=[r["lift"] * 100 for r in shown],
            y=labels,
            mode="markers",
            marker={"size": 10, "color": [colors.get(r["verdict"], charts.COLORS[5]) for r in shown]},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [(r["ci_high"] - r["lift"]) * 100 for r in shown],
                "arrayminus": [(r["lift"] - r["ci_low"]) * 100 for r in shown],
                "thickness": 2,
            },
            customdata=[[r["ci_low"] * 100, r["ci_high"] * 100] for r in shown],
            hovertemplate="%{y}: %{x:+.1f}% (%{customdata[0]:.1f}% to %{customdata[1]:.1f}%)<extra></extra>",
            name="Lift",
        )
    )
    fig.add_vline(x=0, line_width=1, line_color="#1f2933", line_dash="dash")
    charts.styled(fig, title="Lift by metric (with interval)", x_title="Relative lift vs control (%)", y_title="",
                  height=max(300, 70 + 46 * len(shown)))  # fmt: skip
    fig.update_yaxes(autorange="reversed")
    summary = "; ".join(f"{label}: {r['lift'] * 100:+.1f}%" for label, r in zip(labels, shown, strict=True))
    return charts.chart_context(fig, chart_id="forest-chart", summary=summary, csv_name="lifts")


def _cumulative_chart(experiment: Experiment, history: list) -> dict | None:
    primary_key = next((em.metric.key for em in experiment.experiment_metrics.all() if em.role == "primary"), None)
    series: dict[str, list] = {}
    for snap in history:
        for row in snap.results:
            if row["metric"] == primary_key and row["lift"] is not None and snap.as_of:
                s = series.setdefault(row["variant_name"], [])
                s.append((snap.as_of, row["lift"] * 100, row["ci_low"] * 100, row["ci_high"] * 100))
    if not series or max(len(v) for v in series.values()) < 2:
        return None
    fig = go.Figure()
    for index, (name, points) in enumerate(series.items()):
        color = charts.COLORS[(index + 1) % len(charts.COLORS)]
        xs = [p[0] for p in points]
        band_y = [p[3] for p in points] + [p[2] for p in points][::-1]
        fig.add_trace(
            go.Scatter(
                x=xs + xs[::-1],
                y=band_y,
                fill="toself",
                line={"width": 0},
                fillcolor="rgba(224,120,47,0.15)",
                mode="lines",
                hoverinfo="skip",
                name=f"{name} interval",
                showlegend=False,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[p[1] for p in points],
                mode="lines+markers",
                name=name,
                line={"color": color},
                hovertemplate="%{y:+.1f}%<extra>" + name + "</extra>",
            )
        )
    fig.add_hline(y=0, line_width=1, line_color="#1f2933", line_dash="dash")
    charts.styled(fig, title="Cumulative lift of the primary metric", x_title="Date", y_title="Lift (%)",
                  time_series=True)  # fmt: skip
    return charts.chart_context(fig, chart_id="cumulative-chart", summary="Cumulative lift over time", csv_name="lift")


def _exposure_chart(snapshot) -> dict | None:
    if snapshot is None or not snapshot.daily_exposures:
        return None
    days = sorted({d["day"] for d in snapshot.daily_exposures})
    by_variant: dict[str, dict[str, int]] = {}
    for d in snapshot.daily_exposures:
        by_variant.setdefault(d["variant"], {})[d["day"]] = d["units"]
    names = {v["key"]: v["name"] for v in snapshot.variants}
    fig = go.Figure()
    for key, counts in by_variant.items():
        label = names.get(key, key)
        fig.add_trace(
            go.Bar(
                x=days,
                y=[counts.get(day, 0) for day in days],
                name=label,
                hovertemplate="%{x}: %{y:,} new units<extra>" + label + "</extra>",
            )
        )
    fig.update_layout(barmode="group")
    charts.styled(fig, title="New units exposed per day", x_title="Date (UTC)", y_title="Units", time_series=True)
    total = sum(d["units"] for d in snapshot.daily_exposures)
    return charts.chart_context(fig, chart_id="exposure-chart", summary=f"{total:,} units over {len(days)} days")


def detail(request, key: str):
    experiment = get_object_or_404(selectors.experiment_list(), key=key)
    if services.results_stale_without_exposures(experiment):
        # Stale-while-revalidate: a running experiment whose last snapshot saw no exposures is
        # recomputed in the background (units may have arrived since); the page polls for it.
        services.results_request(experiment=experiment)
    context = _results_context(experiment)
    context.update(
        can_edit=can_edit_product(request.user, experiment.product),
        checklist=services.checklist(experiment),
        guide={g.checklist_key: g for g in BestPractice.objects.exclude(checklist_key="")},
        stop_form=StopForm(),
        decide_form=DecideForm(initial={"learnings": experiment.learnings}),
        variants=list(experiment.variants.all()),
        metrics=list(experiment.experiment_metrics.all()),
    )
    return render(request, "experiments/detail.html", context)


def results_fragment(request, key: str):
    """The results card with its charts (polled while a refresh is queued or computing)."""
    experiment = get_object_or_404(selectors.experiment_list(), key=key)
    context = _results_context(experiment)
    context["can_edit"] = can_edit_product(request.user, experiment.product)
    return render(request, "experiments/_results.html", context)


def _action(request, key: str, fn, success: str):
    experiment = get_object_or_404(Experiment, key=key)
    try:
        fn(experiment)
    except ValidationError as exc:
        for errors in exc.message_dict.values():
            for error in errors:
                messages.error(request, error)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success)
    return redirect(experiment.get_absolute_url())


@require_POST
def start(request, key: str):
    return _action(
        request,
        key,
        lambda e: services.experiment_start(experiment=e, by=request.user),
        "Started: assignments are live.",
    )


@require_POST
def stop(request, key: str):
    reason = request.POST.get("reason", "")
    return _action(
        request,
        key,
        lambda e: services.experiment_stop(experiment=e, by=request.user, reason=reason),
        "Stopped. Final results are being computed.",
    )


@require_POST
def decide(request, key: str):
    post = request.POST
    return _action(
        request,
        key,
        lambda e: services.experiment_decide(
            experiment=e,
            by=request.user,
            decision=post.get("decision", ""),
            rationale=post.get("rationale", ""),
            learnings=post.get("learnings", ""),
        ),
        "Decision recorded and shared in the experiment library.",
    )


@require_POST
def archive(request, key: str):
    return _action(request, key, lambda e: services.experiment_archive(experiment=e, by=request.user), "Archived.")


@require_POST
def refresh(request, key: str):
    experiment = get_object_or_404(Experiment, key=key)
    services.results_request(experiment=experiment, by=request.user)
    messages.info(request, "Refreshing results in the background; this page updates when they are ready.")
    return redirect(experiment.get_absolute_url())


# ---------------------------------------------------------------------------------------------
# Create from a template


def create(request):
    products = products_editable_by(request.user)
    if not products.exists():
        raise PermissionDenied("You can view experiments but not create them: you are not on a product team.")
    template = None
    if request.GET.get("template"):
        template = ExperimentTemplate.objects.filter(pk=request.GET["template"], is_active=True).first()
    metrics = selectors.metric_list().filter(Q(product__in=products) | Q(product__isnull=True))
    if request.method == "POST":
        form = ExperimentForm(request.POST, products=products, metrics=metrics)
        if form.is_valid():
            d = form.cleaned_data
            try:
                experiment = services.experiment_create(
                    by=request.user,
                    product=d["product"],
                    key=d["key"],
                    name=d["name"],
                    hypothesis_change=d["hypothesis_change"],
                    hypothesis_audience=d["hypothesis_audience"],
                    hypothesis_impact=d["hypothesis_impact"],
                    hypothesis_metric=d["hypothesis_metric"],
                    variants=d["variants"],
                    primary_metric=d["primary_metric"],
                    secondary_metrics=list(d["secondary_metrics"]),
                    guardrail_metrics=list(d["guardrail_metrics"]),
                    mde=d["mde"] / 100,
                    alpha=d["alpha"],
                    power=d["power"],
                    engine_name=d["engine"],
                    planned_start=d["planned_start"],
                    planned_end=d["planned_end"],
                    tags=d["tags"],
                    prd=d["prd"],
                    roadmap_item=d["roadmap_item"],
                    template=ExperimentTemplate.objects.filter(pk=request.POST.get("template") or None).first(),
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                note = " with its experiment brief" if experiment.brief_id else ""
                messages.success(request, f"Created “{experiment.name}”{note}. Review the checklist, then start it.")
                return redirect(experiment.get_absolute_url())
    else:
        initial = {"product": products.first()}
        if template is not None:
            initial.update(
                hypothesis_change=template.hypothesis_change,
                hypothesis_audience=template.hypothesis_audience,
                hypothesis_impact=template.hypothesis_impact,
                mde=round(template.default_mde * 100, 2),
                alpha=template.default_alpha,
                power=template.default_power,
                planned_start=date.today(),
                planned_end=date.today() + timedelta(days=template.default_duration_days),
                guardrail_metrics=list(template.suggested_guardrails.all()),
            )
        form = ExperimentForm(initial=initial, products=products, metrics=metrics)
    context = {
        "form": form,
        "template": template,
        "templates": ExperimentTemplate.objects.filter(is_active=True),
        "guide": BestPractice.objects.exclude(checklist_key=""),
    }
    return render(request, "experiments/create.html", context)


# ---------------------------------------------------------------------------------------------
# Edit (drafts fully; once started, variants, weights and metrics are frozen by the service)

EDIT_FIELDS = ["name", "hypothesis_change", "hypothesis_audience", "hypothesis_metric", "hypothesis_impact",
               "alpha", "power", "engine", "planned_start", "planned_end", "prd", "roadmap_item"]  # fmt: skip


def _edit_changes(experiment: Experiment, d: dict) -> dict:
    """Only what the form changed, so a started or decided experiment is not refused for
    fields that were merely shown back unchanged."""
    changes = {name: d[name] for name in EDIT_FIELDS if d[name] != getattr(experiment, name)}
    if abs(d["mde"] / 100 - experiment.mde) > 1e-9:
        changes["mde"] = d["mde"] / 100
    if sorted({t.lower() for t in d["tags"]}) != sorted(experiment.tags):
        changes["tags"] = d["tags"]
    current = [(v.key, v.name, round(v.weight, 9)) for v in experiment.variants.all()]
    wanted = []
    for v in d["variants"]:
        try:
            weight = round(float(v["weight"]), 9)
        except (TypeError, ValueError):
            weight = v["weight"]
        wanted.append((v["key"], v["name"] or v["key"].replace("_", " ").capitalize(), weight))
    if wanted != current:
        changes["variants"] = d["variants"]
    ems = list(experiment.experiment_metrics.all())
    for role, field in (("primary", "primary_metric"), ("secondary", "secondary_metrics"),
                        ("guardrail", "guardrail_metrics")):  # fmt: skip
        chosen = d[field] if role != "primary" else [d[field]]
        if sorted(m.pk for m in chosen) != sorted(em.metric_id for em in ems if em.role == role):
            changes[field] = list(chosen) if role != "primary" else d[field]
    return changes


def edit(request, key: str):
    experiment = get_object_or_404(selectors.experiment_list(), key=key)
    if not can_edit_product(request.user, experiment.product):
        raise PermissionDenied(
            f"You can view this experiment but not edit it: only the {experiment.product.name} team and ops leads can."
        )
    products = Product.objects.filter(pk=experiment.product_id)
    metrics = selectors.metric_list(product=experiment.product)
    if request.method == "POST":
        form = ExperimentEditForm(request.POST, products=products, metrics=metrics)
        if form.is_valid():
            changes = _edit_changes(experiment, form.cleaned_data)
            try:
                if changes:
                    services.experiment_update(experiment=experiment, by=request.user, **changes)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, "Saved." if changes else "Nothing changed.")
                return redirect(experiment.get_absolute_url())
    else:
        form = ExperimentEditForm(initial=ExperimentEditForm.initial_for(experiment), products=products,
                                  metrics=metrics)  # fmt: skip
    return render(request, "experiments/edit.html", {"form": form, "experiment": experiment})


# ---------------------------------------------------------------------------------------------
# Power calculator, metrics, guide


def power(request):
    products = Product.objects.order_by("name")
    form = PowerForm(request.GET or None, products=products)
    result = None
    if form.is_valid():
        d = form.cleaned_data
        conversion = d["metric_type"] == "conversion"
        try:
            size = stats.sample_size(
                baseline=d["baseline"] / 100 if conversion else d["baseline"],
                mde=d["mde"] / 100,
                alpha=d["alpha"],
                power=d["power"],
                sd=None if conversion else d["sd"],
                weights=[1.0] * d["variants"],
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            daily = selectors.product_daily_units(d["product"]) if d["product"] else None
            result = {
                "size": size,
                "daily": daily,
                "days": stats.days_needed(size.total, daily) if daily else None,
                "product": d["product"],
            }
    return render(request, "experiments/power.html", {"form": form, "result": result})


def metrics(request):
    form = MetricForm(request.POST or None)
    form.fields["product"].queryset = products_editable_by(request.user)
    if request.method == "POST" and form.is_valid():
        try:
            metric = services.metric_create(by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error("product", str(exc))
        else:
            messages.success(request, f"Metric “{metric.name}” defined.")
            return redirect("experiments:metrics")
    rows = selectors.metric_list()
    return render(
        request,
        "experiments/metrics.html",
        {"metrics": rows, "form": form, "can_define": products_editable_by(request.user).exists()},
    )


def guide(request):
    return render(
        request,
        "experiments/guide.html",
        {"practices": BestPractice.objects.all(), "templates": ExperimentTemplate.objects.filter(is_active=True)},
    )
