"""Plotly figures for the ramp metrics page (styled with portal.charts)."""

from __future__ import annotations

import plotly.graph_objects as go

from onboarding.milestones import MILESTONES
from onboarding.selectors import CohortRamp
from portal import charts


def _short(text: str, size: int = 40) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def ramp_trend(cohorts: list[CohortRamp]):
    """Median days from start to each milestone and to all-required-done, per start cohort."""
    x = [c.cohort for c in cohorts]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[c.median_days_done for c in cohorts],
            mode="lines+markers",
            name="All required tasks done",
            line={"width": 3},
            hovertemplate="%{x}: %{y:.0f} days<extra>All required done</extra>",
        )
    )
    for milestone in MILESTONES:
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[c.median_days[milestone.key] for c in cohorts],
                mode="lines+markers",
                name=milestone.label,
                hovertemplate="%{x}: %{y:.0f} days<extra>" + milestone.label + "</extra>",
            )
        )
    charts.styled(
        fig,
        title="Median days to ramp, by start cohort",
        x_title="Start cohort (month)",
        y_title="Days from start",
        height=380,
    )
    fig.update_xaxes(type="category")
    fig.update_layout(legend={"orientation": "h", "y": -0.3, "x": 0}, margin={"b": 110})
    summary = "; ".join(
        f"{c.cohort}: {c.people} people, median {c.median_days_done:.0f} days to all required"
        if c.median_days_done is not None
        else f"{c.cohort}: {c.people} people, none finished yet"
        for c in cohorts
    )
    return charts.chart_context(fig, chart_id="ramp-trend", summary=summary, csv_name="ramp-by-cohort")


def stuck_chart(rows: list[dict]):
    fig = go.Figure(
        go.Bar(
            x=[r["late"] for r in rows][::-1],
            y=[_short(r["task__title"]) for r in rows][::-1],
            customdata=[r["task__title"] for r in rows][::-1],
            orientation="h",
            hovertemplate="%{customdata}: %{x} people late<extra></extra>",
        )
    )
    charts.styled(fig, title="Tasks most often overdue", x_title="People late on it", y_title="", height=380)
    fig.update_layout(margin={"l": 250})
    return charts.chart_context(
        fig,
        chart_id="stuck-tasks",
        summary=", ".join(f"{r['task__title']}: {r['late']}" for r in rows),
        csv_name="tasks-most-often-overdue",
    )
