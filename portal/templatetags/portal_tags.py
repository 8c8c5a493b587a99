"""Template helpers shared by every app: charts, markdown, numbers, badges, dates."""

from __future__ import annotations

import re
from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from portal.text import render_markdown

register = template.Library()

# UI.md: one colour vocabulary for statuses across apps (always with a word, never colour alone).
STATUS_TONES = {
    "grey": {"draft", "planned", "planning", "idea", "archived", "inactive", "queued", "later", "hidden"},
    "blue": {
        "running",
        "in_progress",
        "in progress",
        "in_review",
        "in review",
        "active",
        "recruiting",
        "fieldwork",
        "synthesis",
        "now",
        "next",
        "published",
        "enrolled",
        "computing",
    },
    "green": {
        "shipped",
        "won",
        "done",
        "decided",
        "approved",
        "complete",
        "completed",
        "ok",
        "passed",
        "shared",
        "verified",
        "accepted",
        "healthy",
        "ready",
        "go",
    },
    "amber": {
        "needs_attention",
        "overdue",
        "stale",
        "warning",
        "deprecated",
        "at_risk",
        "inconclusive",
        "stopped",
        "quarantined",
        "pending",
        "too early",
    },
    "red": {"failed", "lost", "blocked", "rejected", "rolled_back", "error", "srm", "no-go", "dropped"},
}


@register.simple_tag
def status_badge(value, label=None):
    key = str(value).lower()
    tone = next((t for t, words in STATUS_TONES.items() if key in words), "grey")
    text = label or str(value).replace("_", " ").capitalize()
    return format_html('<span class="badge badge-{}">{}</span>', tone, text)


@register.inclusion_tag("portal/_chart.html")
def chart(context_dict):
    return {"chart": context_dict}


@register.filter
def markdown(text):
    """User-authored markdown, rendered and sanitised (never |safe on user text)."""
    return mark_safe(render_markdown(text or ""))  # noqa: S308 - sanitised by nh3


@register.filter
def pct(value, digits=1):
    if value is None:
        return "–"
    return f"{value * 100:.{int(digits)}f}%"


@register.filter
def signed_pct(value, digits=1):
    if value is None:
        return "–"
    return f"{value * 100:+.{int(digits)}f}%"


@register.filter
def num(value):
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


@register.simple_tag
def reltime(value: datetime | None):
    """'3 h ago' with the absolute time in the user's timezone on hover."""
    if value is None:
        return "never"
    local = timezone.localtime(value)
    delta = timezone.now() - value
    seconds = int(delta.total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        text = "just now"
    else:
        for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
            if seconds >= size:
                amount = seconds // size
                text = f"in {amount} {unit}" if future else f"{amount} {unit} ago"
                break
        if seconds >= 86400 * 14:
            text = local.strftime("%-d %b %Y")
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', value.isoformat(), local.strftime("%Y-%m-%d %H:%M %Z"), text
    )


@register.simple_tag(takes_context=True)
def query_url(context, **changes):
    """The current URL with some query-string parameters changed (filters live in the URL)."""
    request = context["request"]
    params = request.GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + params.urlencode() if params else "?"


@register.filter
def snippet(text, terms=None):
    """Escape a search snippet, then turn its highlight markers into <mark>. With `terms`
    (a list of words or phrases), whole-word matches of their words are marked first."""
    text = text or ""
    words = sorted({w for t in (terms or []) for w in str(t).lower().split() if len(w) > 2}, key=len, reverse=True)
    if words:
        pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)
        text = pattern.sub("\x01\\1\x02", text.replace("\x01", "").replace("\x02", ""))
    html = escape(text).replace("\x01", "<mark>").replace("\x02", "</mark>")
    return mark_safe(html)  # noqa: S308 - escaped above
