"""HTML forms: input shape only; rules live in services."""

from __future__ import annotations

from django import forms

from experiments.models import Experiment, Metric


class ExperimentForm(forms.Form):
    product = forms.ModelChoiceField(queryset=None, help_text="Experiments belong to one product team.")
    name = forms.CharField(max_length=200)
    key = forms.SlugField(max_length=80, help_text="Used by the SDK: GET /api/v1/experiments/<key>/assignment")
    hypothesis_change = forms.CharField(label="If we…", max_length=300, help_text="the change you make")
    hypothesis_audience = forms.CharField(label="for…", max_length=300, help_text="who sees it")
    hypothesis_metric = forms.CharField(label="then…", max_length=200, required=False, help_text="the metric")
    hypothesis_impact = forms.CharField(label="will…", max_length=300, help_text="the expected impact, e.g. rise by 3%")
    variants = forms.CharField(
        initial="control: Control = 0.5\ntreatment: Treatment = 0.5",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: key: Name = weight. The first line is the control. Weights sum to 1.",
    )
    primary_metric = forms.ModelChoiceField(queryset=None)
    secondary_metrics = forms.ModelMultipleChoiceField(queryset=None, required=False)
    guardrail_metrics = forms.ModelMultipleChoiceField(queryset=None, required=False)
    mde = forms.FloatField(label="Minimum detectable effect (%)", initial=5, min_value=0.1, max_value=100)
    alpha = forms.FloatField(initial=0.05, min_value=0.001, max_value=0.2)
    power = forms.FloatField(initial=0.8, min_value=0.5, max_value=0.99)
    engine = forms.ChoiceField(choices=Experiment.Engine.choices, initial=Experiment.Engine.FREQUENTIST)
    planned_start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    planned_end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    tags = forms.CharField(required=False, help_text="Comma-separated, e.g. pricing, onboarding")
    prd = forms.ModelChoiceField(label="PRD", queryset=None, required=False, help_text="A document of the product")
    roadmap_item = forms.ModelChoiceField(queryset=None, required=False)

    def __init__(self, *args, products=None, metrics=None, **kwargs):
        from tooling.models import Document, RoadmapItem

        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products
        self.fields["prd"].queryset = Document.objects.filter(product__in=products).select_related("product")
        self.fields["prd"].label_from_instance = lambda d: f"{d.product.name}: {d.title}"
        self.fields["roadmap_item"].queryset = RoadmapItem.objects.filter(product__in=products).select_related(
            "product"
        )
        self.fields["roadmap_item"].label_from_instance = lambda r: f"{r.product.name}: {r.title}"
        for name in ("primary_metric", "secondary_metrics", "guardrail_metrics"):
            self.fields[name].queryset = metrics
            self.fields[name].label_from_instance = lambda m: f"{m.name} ({m.product.name if m.product else 'shared'})"

    def clean_variants(self) -> list[dict]:
        out = []
        for number, line in enumerate(self.cleaned_data["variants"].splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            if ":" not in line or "=" not in line:
                raise forms.ValidationError(f"Line {number}: write it as 'key: Name = weight'.")
            key, rest = line.split(":", 1)
            name, weight = rest.rsplit("=", 1)
            out.append({"key": key.strip(), "name": name.strip(), "weight": weight.strip()})
        return out

    def clean_tags(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]


class ExperimentEditForm(ExperimentForm):
    """The create form without product and key (the SDK uses the key; the product owns it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["product"]
        del self.fields["key"]

    @staticmethod
    def initial_for(experiment: Experiment) -> dict:
        ems = list(experiment.experiment_metrics.all())
        return {
            "name": experiment.name,
            "hypothesis_change": experiment.hypothesis_change,
            "hypothesis_audience": experiment.hypothesis_audience,
            "hypothesis_metric": experiment.hypothesis_metric,
            "hypothesis_impact": experiment.hypothesis_impact,
            "variants": "\n".join(f"{v.key}: {v.name} = {v.weight:g}" for v in experiment.variants.all()),
            "primary_metric": next((em.metric for em in ems if em.role == "primary"), None),
            "secondary_metrics": [em.metric for em in ems if em.role == "secondary"],
            "guardrail_metrics": [em.metric for em in ems if em.role == "guardrail"],
            "mde": round(experiment.mde * 100, 4),
            "alpha": experiment.alpha,
            "power": experiment.power,
            "engine": experiment.engine,
            "planned_start": experiment.planned_start,
            "planned_end": experiment.planned_end,
            "tags": ", ".join(experiment.tags),
            "prd": experiment.prd,
            "roadmap_item": experiment.roadmap_item,
        }


class StopForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=Experiment.Decision.choices)
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    learnings = forms.CharField(
        label="What we learned", widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=8000
    )


class PowerForm(forms.Form):
    metric_type = forms.ChoiceField(choices=[("conversion", "Conversion rate"), ("mean", "Mean")], initial="conversion")
    baseline = forms.FloatField(help_text="Conversion rate in % (e.g. 12) or the control mean", initial=10)
    sd = forms.FloatField(label="Standard deviation", required=False, help_text="Mean metrics only")
    mde = forms.FloatField(label="MDE (%)", initial=5, min_value=0.1, max_value=100)
    alpha = forms.FloatField(initial=0.05, min_value=0.001, max_value=0.2)
    power = forms.FloatField(initial=0.8, min_value=0.5, max_value=0.99)
    variants = forms.IntegerField(initial=2, min_value=2, max_value=10)
    product = forms.ModelChoiceField(queryset=None, required=False, help_text="Days needed from its recent traffic")

    def __init__(self, *args, products=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products


class MetricForm(forms.ModelForm):
    class Meta:
        model = Metric
        fields = [
            "product",
            "key",
            "name",
            "kind",
            "event",
            "value_property",
            "denominator_event",
            "denominator_property",
            "window_hours",
            "direction",
            "description",
        ]
