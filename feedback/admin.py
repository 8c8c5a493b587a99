from django.contrib import admin

from feedback.models import (
    Contact,
    CustomerAccount,
    FeedbackItem,
    FeedbackSource,
    PipelineRun,
    ProductArea,
    SpikeAlert,
    Theme,
)
from portal.services import audit_record


@admin.register(FeedbackSource)
class FeedbackSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "default_product", "is_active", "created_at"]
    list_filter = ["kind", "is_active", "default_product"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "created_by"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(actor=request.user, action="feedback_source.change" if change else "feedback_source.create",
                     target=obj, changes={"fields": form.changed_data})  # fmt: skip


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


@admin.register(CustomerAccount)
class CustomerAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "segment", "arr", "created_at"]
    list_filter = ["segment"]
    search_fields = ["name", "contacts__email"]
    inlines = [ContactInline]


@admin.register(ProductArea)
class ProductAreaAdmin(admin.ModelAdmin):
    """Area rules are a shared standard owned by ops leads: every change is audited."""

    list_display = ["name", "product", "keywords", "priority"]
    list_filter = ["product"]
    search_fields = ["name", "keywords"]
    list_editable = ["keywords", "priority"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(actor=request.user, action="feedback_area.change" if change else "feedback_area.create",
                     target=obj, changes={f: str(form.cleaned_data.get(f)) for f in form.changed_data})  # fmt: skip

    def delete_model(self, request, obj):
        audit_record(actor=request.user, action="feedback_area.delete", target=obj)
        super().delete_model(request, obj)


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["label", "product", "status", "size", "score", "trend", "label_locked", "updated_at"]
    list_filter = ["status", "product", "label_locked"]
    search_fields = ["label"]
    readonly_fields = ["terms", "size", "score", "trend", "last_alert_week", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        if "label" in form.changed_data:
            obj.label_locked = True
        super().save_model(request, obj, form, change)
        audit_record(actor=request.user, action="feedback_theme.change", target=obj,
                     changes={f: str(form.cleaned_data.get(f)) for f in form.changed_data})  # fmt: skip


@admin.register(FeedbackItem)
class FeedbackItemAdmin(admin.ModelAdmin):
    list_display = ["__str__", "product", "account", "rating", "sentiment", "theme", "state", "created_at"]
    list_filter = ["state", "source", "product", "duplicate_status", "area_method"]
    search_fields = ["external_id", "text", "account__name"]
    list_select_related = ["source", "product", "account", "theme"]
    raw_id_fields = ["account", "contact", "theme", "duplicate_of", "area"]
    date_hierarchy = "created_at"
    readonly_fields = ["received_at", "updated_at", "raw", "text_hash", "processed_at", "attempts", "error"]


@admin.register(SpikeAlert)
class SpikeAlertAdmin(admin.ModelAdmin):
    list_display = ["theme", "week", "volume", "baseline", "created_at"]
    list_select_related = ["theme"]


@admin.register(PipelineRun)
class PipelineRunAdmin(admin.ModelAdmin):
    list_display = ["kind", "product", "status", "queued_at", "finished_at"]
    list_filter = ["kind", "status"]
