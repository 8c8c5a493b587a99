"""One layout for every plotly chart in the portal (UI.md "Charts").

Views build a `plotly.graph_objects.Figure`, pass it through `styled()` with a title and
axis titles, and hand `chart_context()` to the `{% chart %}` template tag. The browser
draws it with plotly.js served from the installed plotly package; static/portal/charts.js
adds the "Download CSV" link from the figure's own data, so every chart has one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.utils import PlotlyJSONEncoder

COLORS = ["#2f6fde", "#e0782f", "#2a9d6f", "#c2417a", "#7a5cd6", "#8c8c8c", "#c9a227", "#1f9fb4"]
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def styled(
    fig: go.Figure,
    *,
    title: str,
    x_title: str = "",
    y_title: str = "",
    time_series: bool = False,
    height: int = 320,
) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        font={"family": FONT, "size": 12, "color": "#1f2933"},
        colorway=COLORS,
        margin={"l": 56, "r": 16, "t": 48, "b": 48},
        height=height,
        hovermode="x unified" if time_series else "closest",
        legend={"orientation": "h", "y": -0.2, "x": 0},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="#ffffff",
        autosize=True,
    )
    fig.update_xaxes(title_text=x_title, gridcolor="#eef1f4", zeroline=False)
    fig.update_yaxes(title_text=y_title, gridcolor="#eef1f4", zerolinecolor="#c5ccd3")
    return fig


# Like Django's json_script: the JSON sits inside <script type="application/json">, so user
# text in labels must not be able to close that element or open another.
_JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def figure_json(fig: go.Figure) -> str:
    plotly_json = fig.to_plotly_json()
    text = json.dumps(
        {"data": plotly_json["data"], "layout": plotly_json["layout"], "config": CONFIG}, cls=PlotlyJSONEncoder
    )
    return text.translate(_JSON_SCRIPT_ESCAPES)


def chart_context(fig: go.Figure, *, chart_id: str, summary: str = "", csv_name: str = "") -> dict[str, Any]:
    """What `{% chart %}` needs: the figure JSON, an id, a text summary for screen readers."""
    return {"id": chart_id, "json": figure_json(fig), "summary": summary, "csv_name": csv_name or chart_id}


def line_chart(
    x: Sequence,
    series: dict[str, Sequence],
    *,
    title: str,
    x_title: str,
    y_title: str,
    moving_average: int | None = None,
) -> go.Figure:
    """Daily time series; with moving_average=7 adds a dotted 7-day mean per series."""
    fig = go.Figure()
    for name, values in series.items():
        fig.add_trace(go.Scatter(x=list(x), y=list(values), mode="lines", name=name))
        if moving_average and len(values) >= moving_average:
            avg = [
                sum(values[max(0, i - moving_average + 1) : i + 1])
                / len(values[max(0, i - moving_average + 1) : i + 1])
                for i in range(len(values))
            ]
            fig.add_trace(
                go.Scatter(
                    x=list(x), y=avg, mode="lines", name=f"{name} ({moving_average}-day avg)", line={"dash": "dot"}
                )
            )
    return styled(fig, title=title, x_title=x_title, y_title=y_title, time_series=True)
