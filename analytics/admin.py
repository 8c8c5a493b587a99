"""Ops leads manage the tracking plan, naming rules and sources here."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.utils.html import format_html

from analytics import funnels, services
from analytics.models import (
    Dashboard,
    DashboardTemplate,
    Event,
    EventDefinition,
    FunnelRollup,
    Insight,
    NamingRule,
    PlanChange,
    PropertyDefinition,
    RejectedEvent,
    Source,
    Tile,
    ViolationType,
)
from portal.services import audit_record


@admin.register(NamingRule)
class NamingRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "applies_to", "pattern", "description", "is_active"]
    list_filter = ["applies_to", "is_active"]
    search_fields = ["name", "pattern", "description"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="naming_rule.update" if change else "naming_rule.create",
            target=obj,
            changes={f: str(form.cleaned_data.get(f)) for f in form.changed_data},
        )


class PropertyDefinitionInline(admin.TabularInline):
    model = PropertyDefinition
    extra = 1
    fields = ["name", "type", "enum_values", "required", "pii", "description"]
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 40})}}


@admin.register(EventDefinition)
class EventDefinitionAdmin(admin.ModelAdmin):
    list_display = ["name", "product", "status", "owner", "verified", "volume_30d", "last_seen", "tag_list"]
    list_filter = ["product", "status", "verified", "owner"]
    search_fields = ["name", "description", "tags"]
    list_select_related = ["product", "owner"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["first_seen", "last_seen", "volume_30d", "created_at", "updated_at"]
    inlines = [PropertyDefinitionInline]
    actions = ["mark_verified", "mark_deprecated"]

    @admin.display(description="Tags")
    def tag_list(self, obj):
        return ", ".join(obj.tags)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.plan_record_change(obj=obj, by=request.user, created=not change, changed=form.changed_data)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            services.plan_record_change(obj=obj, by=request.user, created=True, changed=["type", "required", "pii"])
        for obj, changed in formset.changed_objects:
            services.plan_record_change(obj=obj, by=request.user, created=False, changed=changed)
        for obj in formset.deleted_objects:
            services.plan_record_delete(obj=obj, by=request.user)

    @admin.action(description="Mark verified")
    def mark_verified(self, request, queryset):
        for definition in queryset:
            services.event_definition_update(definition=definition, by=request.user, verified=True)

    @admin.action(description="Deprecate")
    def mark_deprecated(self, request, queryset):
        for definition in queryset:
            services.event_definition_update(definition=definition, by=request.user, status="deprecated")


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "product", "enforcement", "prefix", "created_at", "last_used_at", "state"]
    list_filter = ["product", "enforcement"]
    search_fields = ["name", "prefix"]
    list_select_related = ["product"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    @admin.display(description="State")
    def state(self, obj):
        return "revoked" if obj.revoked_at else "active"

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            audit_record(actor=request.user, action="source.update", target=obj, changes={"fields": form.changed_data})
            return
        source, secret = services.source_create(
            product=obj.product, name=obj.name, enforcement=obj.enforcement, by=request.user
        )
        obj.pk = source.pk
        obj.prefix, obj.key_hash = source.prefix, source.key_hash
        messages.warning(
            request,
            format_html("Write key for {} (shown once — copy it now): <code>{}</code>", source.name, secret),
        )

    @admin.action(description="Revoke the write key")
    def revoke(self, request, queryset):
        for source in queryset:
            services.source_revoke(source=source, by=request.user)
        messages.success(request, f"Revoked {queryset.count()} key(s).")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PlanChange)
class PlanChangeAdmin(ReadOnlyAdmin):
    list_display = ["at", "product", "actor", "action", "target"]
    list_filter = ["product", "action"]
    search_fields = ["target"]
    list_select_related = ["product", "actor"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["timestamp", "product", "event", "distinct_id", "status", "source"]
    list_filter = ["status", "product"]
    search_fields = ["event", "distinct_id"]
    list_select_related = ["product", "source"]
    show_full_result_count = False


@admin.register(RejectedEvent)
class RejectedEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "product", "event", "source"]
    list_filter = ["product"]
    search_fields = ["event"]
    list_select_related = ["product", "source"]


@admin.register(DashboardTemplate)
class DashboardTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position", "tile_count", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}

    @admin.display(description="Tiles")
    def tile_count(self, obj):
        return len(obj.tiles or [])

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="dashboard_template.update" if change else "dashboard_template.create",
            target=obj,
            changes={"fields": form.changed_data},
        )
        services.dashboards_ensure_standard()  # every product's copy follows the template


class TileInline(admin.TabularInline):
    model = Tile
    extra = 0
    fields = ["position", "title", "width", "spec"]


@admin.register(Dashboard)
class DashboardAdmin(admin.ModelAdmin):
    list_display = ["name", "product", "template", "created_by", "updated_at"]
    list_filter = ["product", "template"]
    search_fields = ["name", "description"]
    list_select_related = ["product", "template", "created_by"]
    inlines = [TileInline]


@admin.register(Insight)
class InsightAdmin(admin.ModelAdmin):
    list_display = ["name", "product", "created_by", "updated_at"]
    list_filter = ["product"]
    search_fields = ["name", "description"]
    list_select_related = ["product", "created_by"]


@admin.register(ViolationType)
class ViolationTypeAdmin(ReadOnlyAdmin):
    list_display = ["event", "code", "property", "product", "count", "first_seen", "last_seen"]
    list_filter = ["product", "code"]
    search_fields = ["event", "property"]
    list_select_related = ["product"]


@admin.register(FunnelRollup)
class FunnelRollupAdmin(ReadOnlyAdmin):
    """The saved funnels the workers keep precomputed: when each was built, caught up and read."""

    list_display = ["product", "__str__", "built_at", "refreshed_at", "stale_from", "stale_to", "last_used_at"]
    list_filter = ["product"]
    list_select_related = ["product"]
    actions = ["rebuild"]

    @admin.action(description="Rebuild from raw events (the funnel reads raw events meanwhile)")
    def rebuild(self, request, queryset):
        count = funnels.rebuild_later(queryset)
        services.rollups_dispatch()
        messages.success(request, f"The worker rebuilds {count} funnel(s) now.")
