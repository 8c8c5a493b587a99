"""Turning a query result (analytics.queries) into a plotly figure, KPI tiles, a table and CSV rows."""

from __future__ import annotations

import plotly.graph_objects as go

from portal.charts import line_chart, styled

INTERVAL_LABEL = {"day": "Day (UTC)", "week": "Week starting (UTC)", "month": "Month (UTC)"}


def figure_for(result: dict, *, title: str, show: str | None = None) -> go.Figure | None:
    kind = result.get("kind")
    if kind == "trends":
        series = {s["name"]: s["values"] for s in result["series"]}
        y_title = result.get("y_title") or "Events or users"
        if result.get("interval") == "day":
            return _legend_below(
                line_chart(result["x"], series, title=title, x_title=INTERVAL_LABEL["day"], y_title=y_title)
            )
        fig = go.Figure([go.Bar(x=result["x"], y=values, name=name) for name, values in series.items()])
        fig.update_layout(barmode="group")
        return _legend_below(
            styled(
                fig,
                title=title,
                x_title=INTERVAL_LABEL[result.get("interval", "week")],
                y_title=y_title,
                time_series=True,
            )
        )
    if kind == "active_users":
        if show == "stickiness":
            fig = go.Figure(
                go.Scatter(
                    x=result["x"], y=[round(v * 100, 1) for v in result["stickiness"]], mode="lines", name="DAU/MAU"
                )
            )
            return styled(fig, title=title, x_title="Day (UTC)", y_title="DAU / MAU (%)", time_series=True)
        series = {s["name"]: s["values"] for s in result["series"]}
        return _legend_below(line_chart(result["x"], series, title=title, x_title="Day (UTC)", y_title="Active users"))
    if kind == "quality":
        colours = {"Conforming": "#2a9d6f", "Flagged (allowed)": "#e0a02f", "Quarantined": "#c2414a"}
        fig = go.Figure(
            [
                go.Bar(x=result["x"], y=s["values"], name=s["name"], marker_color=colours.get(s["name"]))
                for s in result["series"]
            ]
        )
        fig.update_layout(barmode="stack")
        return _legend_below(styled(fig, title=title, x_title="Day (UTC)", y_title="Events", time_series=True))
    if kind == "funnel":
        steps = result["steps"]
        fig = go.Figure(
            go.Funnel(
                y=[s["event"] for s in steps],
                x=[s["count"] for s in steps],
                textinfo="value+percent initial",
                name="Users",
            )
        )
        return styled(fig, title=title, x_title="Users reaching the step", y_title="Step")
    if kind == "retention":
        cohorts = result["cohorts"]
        if not cohorts:
            return None
        periods = max(len(c["shares"]) for c in cohorts)
        unit = "Week" if result["period"] == "week" else "Day"
        z = [[round(s * 100, 1) for s in c["shares"]] + [None] * (periods - len(c["shares"])) for c in cohorts]
        text = [[f"{v:.0f}%" if v is not None else "" for v in row] for row in z]
        fig = go.Figure(
            go.Heatmap(
                z=z,
                x=[f"{unit} {k}" for k in range(periods)],
                y=[f"{c['cohort']} ({c['size']:,})" for c in cohorts],
                colorscale="Blues",
                zmin=0,
                zmax=100,
                text=text,
                texttemplate="%{text}",
                hovertemplate="Cohort %{y}<br>%{x}: %{z:.1f}% returned<extra></extra>",
                colorbar={"title": "%"},
            )
        )
        fig.update_yaxes(autorange="reversed")
        return styled(fig, title=title, x_title=f"{unit}s since first seen", y_title="Cohort (users)", height=360)
    return None


def _legend_below(fig: go.Figure) -> go.Figure:
    """Room for a legend under the x-axis title, so they never overlap."""
    fig.update_layout(legend={"orientation": "h", "y": -0.32, "x": 0}, margin={"b": 96})
    return fig


def kpis_for(result: dict, *, today: str | None = None) -> list[dict]:
    """Big numbers for the top of a tile (UI.md KPI tiles): the last complete day, with its
    change vs 7 days before (today is partial, so it would always look like a drop)."""
    from datetime import UTC, datetime

    if result.get("kind") != "active_users" or not result.get("x"):
        return []
    today = today or datetime.now(UTC).date().isoformat()
    last = len(result["x"]) - 1
    if result["x"][last] >= today and last > 0:
        last -= 1
    out = []
    for s in result["series"]:
        values = s["values"]
        now = values[last]
        before = values[last - 7] if last >= 7 else None
        change = (now - before) / before if before else None
        out.append(
            {"label": f"{s['name']} ({result['x'][last]})", "value": now, "display": f"{now:,}", "change": change}
        )
    sticky = result["stickiness"]
    out.append(
        {
            "label": "Stickiness (DAU/MAU)",
            "value": sticky[last],
            "display": f"{sticky[last] * 100:.1f}%",
            "change": (sticky[last] - sticky[last - 7]) / sticky[last - 7] if last >= 7 and sticky[last - 7] else None,
        }
    )
    return out


def table_for(result: dict) -> tuple[list[str], list[list]]:
    """Header and rows for the table beside (or instead of) a chart; also the CSV export."""
    kind = result.get("kind")
    if kind == "table":
        return result["columns"], result["rows"]
    if kind in ("trends", "active_users", "quality"):
        header = ["date", *[s["name"] for s in result["series"]]]
        rows = [[x, *[s["values"][i] for s in result["series"]]] for i, x in enumerate(result["x"])]
        if kind == "active_users":
            header.append("stickiness")
            rows = [[*row, result["stickiness"][i]] for i, row in enumerate(rows)]
        return header, rows
    if kind == "funnel":
        return (
            ["step", "event", "users", "conversion from first step", "conversion from previous", "drop-off"],
            [
                [
                    i + 1,
                    s["event"],
                    s["count"],
                    round(s["conversion"], 4),
                    round(s["step_conversion"], 4),
                    s["drop_off"],
                ]
                for i, s in enumerate(result["steps"])
            ],
        )
    if kind == "retention":
        periods = max((len(c["values"]) for c in result["cohorts"]), default=0)
        return (
            ["cohort", "users", *[f"{result['period']} {k}" for k in range(periods)]],
            [[c["cohort"], c["size"], *c["values"]] for c in result["cohorts"]],
        )
    return [], []


def summary_for(result: dict, title: str) -> str:
    """One sentence a PM can paste (UI.md: plain language first)."""
    kind = result.get("kind")
    if kind == "active_users" and result.get("x"):
        dau, wau, mau, sticky = kpis_for(result)
        day = dau["label"].split("(")[-1].rstrip(")")
        return (
            f"On {day}: {dau['value']:,} daily, {wau['value']:,} weekly and {mau['value']:,} monthly active users; "
            f"stickiness {sticky['display']}."
        )
    if kind == "funnel" and result["steps"]:
        steps = result["steps"]
        return (
            f"{steps[-1]['conversion'] * 100:.1f}% of the {steps[0]['count']:,} users who did {steps[0]['event']} "
            f"went on to {steps[-1]['event']} within {result['window_days']} days; the biggest drop-off is after "
            f"{max(steps[1:], key=lambda s: s['drop_off'])['event'] if len(steps) > 1 else steps[0]['event']}."
        ).replace("after ", "before ", 1)
    if kind == "quality" and result.get("conformance") is not None:
        return f"{result['conformance'] * 100:.1f}% of events in the period conform to the tracking plan."
    if kind == "retention" and result["cohorts"]:
        with_week1 = [c for c in result["cohorts"] if len(c["shares"]) > 1 and c["size"]]
        if with_week1:
            avg = sum(c["shares"][1] for c in with_week1) / len(with_week1)
            return f"On average {avg * 100:.1f}% of a cohort comes back one {result['period']} later."
    if kind == "trends" and result["series"]:
        total = sum(sum(s["values"]) for s in result["series"])
        shown = f"{total:,.0f}" if float(total).is_integer() or total > 1000 else f"{total:,.2f}"
        if result.get("y_title", "").startswith("Average"):
            return f"{title}, per {result['interval']} over the period."
        return f"{title}: {shown} in total over the period."
    return title


def display_table(header: list[str], rows: list[list]) -> dict:
    """Header and cells ready to print: numbers right-aligned with separators, shares as %."""
    percent_cols = {i for i, h in enumerate(header) if "conversion" in h or h == "stickiness"}
    numeric = [
        all(isinstance(r[i], (int, float)) and not isinstance(r[i], bool) for r in rows if r[i] is not None)
        and bool(rows)
        for i in range(len(header))
    ]
    cells = []
    for row in rows:
        out = []
        for i, v in enumerate(row):
            if i in percent_cols and isinstance(v, (int, float)):
                text = f"{v * 100:.1f}%"
            elif isinstance(v, bool) or v is None:
                text = "–" if v is None else ("yes" if v else "no")
            elif isinstance(v, int):
                text = f"{v:,}"
            elif isinstance(v, float):
                text = f"{v:,.2f}"
            else:
                text = str(v)
            out.append({"text": text, "num": numeric[i]})
        cells.append(out)
    return {"header": [{"text": h, "num": numeric[i]} for i, h in enumerate(header)], "rows": cells}
