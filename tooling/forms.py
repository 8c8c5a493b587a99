"""Form shapes for tooling pages; business rules stay in services."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from portal.models import Product, User
from tooling.models import Launch, LaunchTier, RoadmapItem, RoadmapLink, TemplateVersion


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError next to the matching fields (or at the top)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class DocumentCreateForm(forms.Form):
    template_version = forms.ModelChoiceField(
        queryset=TemplateVersion.objects.none(), label="Template", empty_label="Choose a template"
    )
    product = forms.ModelChoiceField(queryset=Product.objects.none(), empty_label="Choose a product")
    title = forms.CharField(max_length=200)

    def __init__(self, *args, versions, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template_version"].queryset = versions
        self.fields["template_version"].label_from_instance = lambda v: f"{v.template.name} (v{v.number})"
        self.fields["product"].queryset = products


class RoadmapItemForm(forms.ModelForm):
    class Meta:
        model = RoadmapItem
        fields = [
            "title",
            "description",
            "horizon",
            "target_quarter",
            "status",
            "owner",
            "confidence",
            "reach",
            "impact",
            "effort",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "target_quarter": forms.TextInput(attrs={"placeholder": "2026-Q3"}),
        }

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(role__in=["pm", "ops_lead"]).order_by("first_name")
        self.fields["owner"].label_from_instance = lambda u: u.display_name


class RoadmapLinkForm(forms.Form):
    kind = forms.ChoiceField(choices=[c for c in RoadmapLink.Kind.choices if c[0] != "launch"])
    label = forms.CharField(max_length=200, required=False, help_text="What people see")
    ref = forms.CharField(max_length=64, required=False, label="Id", help_text="Document, experiment, insight… id")
    url = forms.CharField(max_length=500, required=False, label="URL")

    def clean(self):
        data = super().clean()
        if data.get("kind") == "document":
            if not (data.get("ref") or "").isdigit():
                self.add_error("ref", "Give the document's number (from its URL).")
        elif not data.get("label"):
            self.add_error("label", "Give the link a label.")
        if data.get("kind") == "url" and not (data.get("url") or "").startswith(("http://", "https://", "/")):
            self.add_error("url", "Give a full URL starting with https://.")
        return data


class LaunchForm(forms.Form):
    feature = forms.CharField(max_length=200)
    product = forms.ModelChoiceField(queryset=Product.objects.none(), empty_label="Choose a product")
    tier = forms.ChoiceField(choices=LaunchTier.choices, initial=LaunchTier.T2)
    launch_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    roadmap_item = forms.ModelChoiceField(queryset=RoadmapItem.objects.none(), required=False)
    success_1d = forms.CharField(required=False, label="Success at 1 day", max_length=500)
    success_1w = forms.CharField(required=False, label="Success at 1 week", max_length=500)
    success_1m = forms.CharField(required=False, label="Success at 1 month", max_length=500)

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products
        self.fields["roadmap_item"].queryset = (
            RoadmapItem.objects.filter(product__in=products)
            .exclude(status__in=["shipped", "dropped"])
            .select_related("product")
        )
        self.fields["roadmap_item"].label_from_instance = lambda i: f"{i.product.name}: {i.title}"


LAUNCH_STATUS_CHOICES = Launch.Status.choices
