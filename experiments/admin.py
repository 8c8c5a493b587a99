"""Admin: ops leads manage experiment templates, the best-practice guide and shared metrics.
Changes to these shared standards are audited."""

from __future__ import annotations

from django.contrib import admin

from experiments.models import (
    BestPractice,
    Experiment,
    ExperimentMetric,
    ExperimentTemplate,
    Metric,
    ResultSnapshot,
    Variant,
)
from portal.services import audit_record


class AuditedAdmin(admin.ModelAdmin):
    audit_name = ""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action=f"{self.audit_name}.{'update' if change else 'create'}",
            target=obj,
            changes={"fields": list(form.changed_data)},
        )

    def delete_model(self, request, obj):
        audit_record(actor=request.user, action=f"{self.audit_name}.delete", target=obj)
        super().delete_model(request, obj)


@admin.register(ExperimentTemplate)
class ExperimentTemplateAdmin(AuditedAdmin):
    audit_name = "experiment_template"
    list_display = [
        "name",
        "default_mde",
        "default_alpha",
        "default_power",
        "default_duration_days",
        "is_active",
        "updated_at",
    ]
    list_filter = ["is_active"]
    search_fields = ["name", "description", "hypothesis_change"]
    filter_horizontal = ["suggested_guardrails"]


@admin.register(BestPractice)
class BestPracticeAdmin(AuditedAdmin):
    audit_name = "experiment_guide"
    list_display = ["title", "checklist_key", "order"]
    list_editable = ["order"]
    list_filter = ["checklist_key"]
    search_fields = ["title", "body"]


@admin.register(Metric)
class MetricAdmin(AuditedAdmin):
    audit_name = "experiment_metric"
    list_display = [
        "name", "key", "product", "kind", "event", "value_property", "denominator_event", "window_hours", "direction"
    ]  # fmt: skip
    list_filter = ["kind", "direction", "product"]
    search_fields = ["name", "key", "event"]
    list_select_related = ["product"]


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ["position", "key", "name", "weight"]


class ExperimentMetricInline(admin.TabularInline):
    model = ExperimentMetric
    extra = 0
    autocomplete_fields = ["metric"]


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    """For support: PMs run their experiments from the experiment pages, which enforce the rules."""

    list_display = ["name", "key", "product", "owner", "status", "decision", "started_at"]
    list_filter = ["status", "decision", "product", "engine"]
    search_fields = ["name", "key", "hypothesis_change", "learnings"]
    list_select_related = ["product", "owner"]
    readonly_fields = [
        "status",
        "started_at",
        "stopped_at",
        "decided_at",
        "decided_by",
        "archived_at",
        "srm_notified_at",
    ]
    inlines = [VariantInline, ExperimentMetricInline]


@admin.register(ResultSnapshot)
class ResultSnapshotAdmin(admin.ModelAdmin):
    list_display = ["experiment", "status", "units", "srm_p_value", "computed_at", "sql_ms", "stats_ms"]
    list_filter = ["status"]
    search_fields = ["experiment__key", "experiment__name"]
    list_select_related = ["experiment"]
    readonly_fields = [f.name for f in ResultSnapshot._meta.fields]
