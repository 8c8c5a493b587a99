"""Hostile markup in every user-writable text field, rendered on every page.

Instead of listing markdown fields (which would miss tomorrow's), the demo company's
text columns are all overwritten with an XSS payload: every TextField, and every
free-text CharField long enough to hold a title. Then every page is fetched as each
role and parsed; no executable markup may come out: no <script> carrying the payload,
no on* event-handler attribute, no javascript:/data: URL in href/src/action.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.test import Client

from portal.text import render_markdown
from tests.reliability.urlwalk import all_routes

pytestmark = pytest.mark.django_db

PAYLOAD = (
    "Title <script>alert('xss-script')</script> "
    "<img src=x onerror=\"alert('xss-onerror')\"> "
    "[click](javascript:alert('xss-js')) "
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgneHNzJyk8L3NjcmlwdD4=">xss-data</a> '
    "<svg onload=alert('xss-svg')></svg> "
    '<iframe src="javascript:alert(1)"></iframe>'
)
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data"}
SKIP_FIELD_NAMES = {"password", "key_hash", "prefix", "webhook_secret", "pattern", "expression", "rule", "query"}


class Finder(HTMLParser):
    """Collects every way the payload could execute in a browser."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False
        self._json = False

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "iframe", "object", "embed"}:
            self._in_script = tag == "script"
            # data islands (json_script) hold the payload as escaped JSON: inert unless it breaks out
            self._json = tag == "script" and "json" in (dict(attrs).get("type") or "")
            if tag != "script":
                self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler")
            if name in URL_ATTRS and (value.startswith("javascript:") or value.startswith("data:text/html")):
                self.problems.append(f"<{tag} {name}={value[:30]}…>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if not (self._in_script and "xss-" in data):
            return
        if not self._json or "<script" in data.lower() or "</" in data:
            self.problems.append("payload inside a <script> element")


def executable_markup(html: str) -> list[str]:
    finder = Finder()
    finder.feed(html)
    return finder.problems


def _constrained(model) -> set[str]:
    names = {n for group in model._meta.unique_together for n in group}
    for constraint in model._meta.constraints:
        names |= set(getattr(constraint, "fields", ()) or ())
    return names


def _writable_text_fields(model) -> list[models.Field]:
    fields = []
    constrained = _constrained(model)
    for field in model._meta.get_fields():
        if not isinstance(field, models.CharField | models.TextField) or not field.concrete:
            continue
        if field.primary_key or field.unique or field.choices or field.name in SKIP_FIELD_NAMES | constrained:
            continue
        if isinstance(field, models.SlugField | models.EmailField | models.URLField):
            continue
        if isinstance(field, models.CharField) and (field.max_length or 0) < 100:
            continue  # short codes, keys and labels: not free text
        fields.append(field)
    return fields


@pytest.fixture(scope="module")
def poisoned(world, django_db_blocker):
    """Every free-text column of every app model now holds the payload."""
    written = []
    with django_db_blocker.unblock():
        for label in ["portal", *settings.PORTAL_APPS]:
            for model in apps.get_app_config(label).get_models():
                if model._meta.proxy or not model._meta.managed:
                    continue
                fields = _writable_text_fields(model)
                if not fields or not model.objects.exists():
                    continue
                values = {f.name: PAYLOAD[: f.max_length] if f.max_length else PAYLOAD for f in fields}
                with transaction.atomic():
                    model.objects.update(**values)
                written += [f"{model._meta.label}.{f.name}" for f in fields]
    return written


def test_the_payload_reaches_the_markdown_fields(poisoned):
    """The poisoning is wide enough to matter: user-authored markdown fields are in it."""
    expected = {"tooling.DocumentSection.body", "feedback.FeedbackItem.text"}
    assert expected & set(poisoned) == expected, sorted(poisoned)
    assert any(name.startswith("research.Insight.") for name in poisoned), sorted(poisoned)


@pytest.mark.parametrize("payload", [PAYLOAD, "<scr<script>ipt>alert(1)</script>", "[x](JaVaScRiPt:alert(1))"])
def test_render_markdown_strips_every_vector(payload):
    html = render_markdown(payload)
    assert executable_markup(html) == []
    assert "javascript:" not in html.lower()


@pytest.mark.parametrize("username", ["pm", "viewer"])
def test_no_page_executes_stored_markup(world, poisoned, username):
    from portal.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    problems = []
    for route in all_routes():
        if route.is_api or route.name in {"logout", "healthz"}:
            continue
        path = world.paths.get(route.name) or route.path()
        response = client.get(path)
        if response.status_code >= 500:
            problems.append(f"{path}: {response.status_code}")
            continue
        if "text/html" not in response.get("Content-Type", ""):
            continue
        for problem in executable_markup(response.content.decode(errors="replace")):
            problems.append(f"{path}: {problem}")
    assert problems == []
