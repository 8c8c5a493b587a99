from __future__ import annotations

import json

from django import forms

from portal.models import Product, User
from research.models import Confidence, EligibilityRule, EvidenceKind, Method


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV with a header row; UTF-8.")
    email_column = forms.CharField(required=False, help_text="Column holding the email (default: email)")
    name_column = forms.CharField(required=False)
    company_column = forms.CharField(required=False)
    role_column = forms.CharField(required=False)
    country_column = forms.CharField(required=False)
    timezone_column = forms.CharField(required=False)
    consent_column = forms.CharField(required=False, help_text="yes/true/1 records research consent")
    attribute_columns = forms.CharField(
        required=False, help_text="Comma-separated columns kept as segment attributes (default: all unmapped)"
    )
    source = forms.CharField(required=False, max_length=80, initial="csv import")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 10 * 1024 * 1024:
            raise forms.ValidationError("The file is larger than 10 MB; split it.")
        raw = upload.read()
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError("The file is not UTF-8 text; export it as CSV UTF-8.") from exc

    def mapping(self) -> dict[str, str]:
        fields = ["email", "name", "company", "role", "country", "timezone", "consent"]
        return {f: self.cleaned_data[f"{f}_column"] for f in fields if self.cleaned_data.get(f"{f}_column")}

    def attributes(self) -> list[str] | None:
        raw = self.cleaned_data.get("attribute_columns", "")
        return [c.strip() for c in raw.split(",") if c.strip()] or None


class StudyForm(forms.Form):
    title = forms.CharField(max_length=200)
    products = forms.ModelMultipleChoiceField(queryset=Product.objects.all())
    method = forms.ChoiceField(choices=Method.choices)
    research_questions = forms.CharField(widget=forms.Textarea, required=False, help_text="One per line")
    team = forms.ModelMultipleChoiceField(queryset=User.objects.exclude(role="viewer"), required=False)
    eligibility_rule = forms.ModelChoiceField(queryset=EligibilityRule.objects.all(), required=False)
    screener = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text='JSON, e.g. [{"attribute": "plan", "op": "eq", "value": "enterprise"}]',
    )
    target_sessions = forms.IntegerField(min_value=1, max_value=500, initial=8)

    def clean_screener(self):
        raw = self.cleaned_data.get("screener", "").strip()
        if not raw:
            return []
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} at line {exc.lineno}.") from exc


class SessionForm(forms.Form):
    participant = forms.IntegerField()
    scheduled_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    duration_minutes = forms.IntegerField(min_value=5, max_value=600, initial=45)


class HighlightForm(forms.Form):
    excerpt = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    tags = forms.CharField(required=False, help_text="Comma-separated; global tags or new study tags")


class IncentiveForm(forms.Form):
    amount = forms.DecimalField(min_value=0.01, max_digits=10, decimal_places=2)
    currency = forms.CharField(max_length=3, initial="USD")


class InsightForm(forms.Form):
    statement = forms.CharField(max_length=300)
    details = forms.CharField(widget=forms.Textarea, required=False, help_text="Markdown")
    products = forms.ModelMultipleChoiceField(queryset=Product.objects.all())
    confidence = forms.ChoiceField(choices=Confidence.choices, initial="medium")
    tags = forms.CharField(required=False, help_text="Comma-separated")
    highlights = forms.CharField(required=False, help_text="Highlight ids, comma-separated")

    def clean_highlights(self):
        raw = self.cleaned_data.get("highlights", "")
        try:
            return [int(x) for x in raw.replace(" ", "").split(",") if x]
        except ValueError as exc:
            raise forms.ValidationError("Highlight ids are numbers separated by commas.") from exc


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(choices=EvidenceKind.choices)
    label = forms.CharField(max_length=200)
    ref = forms.CharField(max_length=120, required=False)
    url = forms.CharField(max_length=500, required=False)
