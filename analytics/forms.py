"""Forms for the analytics pages: a query builder that produces a JSON spec, filters, import."""

from __future__ import annotations

import json

from django import forms
from django.core.exceptions import ValidationError

from analytics import services

TYPE_CHOICES = [
    ("trends", "Trend"),
    ("funnel", "Funnel"),
    ("retention", "Retention"),
    ("active_users", "Active users & stickiness"),
    ("top_events", "Top events"),
    ("quality", "Data quality"),
]


def _csv(value: str) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


class QueryForm(forms.Form):
    """Builds a spec from a few fields; 'spec' (JSON) overrides them for anything advanced."""

    title = forms.CharField(max_length=200)
    type = forms.ChoiceField(choices=TYPE_CHOICES, initial="trends")
    events = forms.CharField(
        required=False, help_text="Trend: event names, comma-separated (e.g. order_completed, cart_viewed)"
    )
    math = forms.ChoiceField(
        required=False,
        choices=[("count", "Count"), ("uniques", "Unique users"), ("sum", "Sum of"), ("avg", "Average of")],
        initial="count",
    )
    property = forms.CharField(required=False, help_text="Numeric property for sum / average")
    interval = forms.ChoiceField(
        required=False, choices=[("day", "Day"), ("week", "Week"), ("month", "Month")], initial="day"
    )
    breakdown = forms.CharField(required=False, help_text="Split a trend by this property (e.g. country)")
    steps = forms.CharField(required=False, help_text="Funnel: ordered event names, comma-separated")
    window_days = forms.IntegerField(required=False, min_value=1, max_value=90, initial=7)
    date_from = forms.CharField(required=False, initial="-30d", help_text="ISO date or relative like -30d")
    spec = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="JSON spec (advanced)",
        help_text='Overrides the fields above, e.g. {"type": "retention", "period": "week"}',
    )

    def clean(self):
        data = super().clean()
        if data.get("spec"):
            try:
                spec = json.loads(data["spec"])
            except json.JSONDecodeError as exc:
                raise ValidationError({"spec": f"Not valid JSON: {exc.msg} (line {exc.lineno})."}) from None
        else:
            spec = {"type": data.get("type")}
            if data.get("date_from"):
                spec["date_from"] = data["date_from"]
            if spec["type"] == "trends":
                spec["events"] = [
                    {
                        "event": e,
                        "math": data.get("math") or "count",
                        **({"property": data["property"]} if data.get("property") else {}),
                    }
                    for e in _csv(data.get("events"))
                ]
                spec["interval"] = data.get("interval") or "day"
                if data.get("breakdown"):
                    spec["breakdown"] = data["breakdown"]
            elif spec["type"] == "funnel":
                spec["steps"] = _csv(data.get("steps"))
                spec["window_days"] = data.get("window_days") or 7
            elif spec["type"] == "retention":
                spec["period"] = "week"
        try:
            services.spec_validate(spec)
        except ValidationError as exc:
            message = exc.message_dict.get("spec", exc.messages)[0]
            field = message.split(":")[0].split("[")[0]
            target = field if field in self.fields and field != "type" else None
            raise ValidationError({target: message} if target else message) from None
        data["built_spec"] = spec
        return data


class DashboardForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class FilterForm(forms.Form):
    date_from = forms.CharField(required=False, max_length=20)
    date_to = forms.CharField(required=False, max_length=20)
    prop = forms.CharField(required=False, max_length=200, label="Property")
    op = forms.ChoiceField(
        required=False,
        choices=[("eq", "="), ("neq", "≠"), ("contains", "contains"), ("gt", ">"), ("lt", "<"), ("is_set", "is set")],
    )
    value = forms.CharField(required=False, max_length=200)

    def filters(self) -> list[dict]:
        d = self.cleaned_data
        if not d.get("prop"):
            return []
        return [{"property": d["prop"], "op": d.get("op") or "eq", "value": d.get("value", "")}]


class PlanImportForm(forms.Form):
    file = forms.FileField(help_text="A tracking plan exported as JSON or CSV (max 2 MB)")

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > 2 * 1024 * 1024:
            raise ValidationError("The file is larger than 2 MB.")
        return f
