"""Feedback template helpers: sentiment and trend labels, money. (Highlighted terms: portal's
`snippet` filter with a list of terms.)"""

from __future__ import annotations

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def sentiment_badge(value):
    if value is None:
        return format_html('<span class="badge badge-grey">{}</span>', "Not scored")
    if value >= 0.05:
        tone, word = "green", "Positive"
    elif value <= -0.05:
        tone, word = "red", "Negative"
    else:
        tone, word = "grey", "Neutral"
    return format_html('<span class="badge badge-{}">{} {}</span>', tone, word, f"{value:+.2f}")


@register.simple_tag
def trend(value):
    if value is None:
        return "–"
    arrow, css = ("▲", "up") if value > 0.05 else (("▼", "down") if value < -0.05 else ("▬", "flat"))
    return format_html('<span class="trend trend-{}">{} {}%</span>', css, arrow, f"{value * 100:+.0f}")


@register.filter
def money(value):
    if value in (None, ""):
        return "–"
    value = float(value)
    if value >= 1_000_000:
        return f"${value / 1_000_000:,.1f}M"
    if value >= 10_000:
        return f"${value / 1000:,.0f}k"
    return f"${value:,.0f}"
