"""Feedback template helpers: highlighted terms in item texts, sentiment and trend labels."""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def highlight(text, terms):
    """Escape the text, then wrap whole-word matches of the terms in <mark>."""
    html = escape(text or "")
    words = sorted(
        {w for term in (terms or []) for w in str(term).lower().split() if len(w) > 2}, key=len, reverse=True
    )
    if not words:
        return mark_safe(html)  # noqa: S308 - escaped above
    pattern = re.compile(r"\b(" + "|".join(re.escape(escape(w)) for w in words) + r")\b", re.IGNORECASE)
    return mark_safe(pattern.sub(r"<mark>\1</mark>", html))  # noqa: S308 - escaped above, only <mark> added


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
