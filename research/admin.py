"""Research admin: research ops manage eligibility rules and the global tag taxonomy here;
the panel, studies and insights are browsable for support. Changes to rules are audited."""

from django.contrib import admin

from portal.services import audit_record
from research.models import (
    ConsentRecord,
    ContactLog,
    EligibilityRule,
    Highlight,
    Incentive,
    Insight,
    InsightEvidence,
    Participant,
    Session,
    Study,
    Tag,
)
from research.services import participant_stats_refresh


@admin.register(EligibilityRule)
class EligibilityRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "is_default",
        "cooldown_days",
        "max_sessions",
        "window_days",
        "no_show_limit",
        "require_consent",
        "exclude_opted_out",
        "updated_at",
    ]
    list_filter = ["is_default", "require_consent", "exclude_opted_out"]
    search_fields = ["name", "description"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="eligibility_rule.change" if change else "eligibility_rule.create",
            target=obj,
            changes={f: str(form.cleaned_data.get(f)) for f in form.changed_data},
        )

    def delete_model(self, request, obj):
        audit_record(actor=request.user, action="eligibility_rule.delete", target=obj)
        super().delete_model(request, obj)


class GlobalTagFilter(admin.SimpleListFilter):
    title = "scope"
    parameter_name = "scope"

    def lookups(self, request, model_admin):
        return [("global", "Global taxonomy"), ("study", "Study-local")]

    def queryset(self, request, queryset):
        if self.value() == "global":
            return queryset.filter(study__isnull=True)
        if self.value() == "study":
            return queryset.filter(study__isnull=False)
        return queryset


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "study", "description"]
    list_filter = [GlobalTagFilter]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["study"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if obj.study_id is None:
            audit_record(actor=request.user, action="tag.change" if change else "tag.create", target=obj)


class ConsentInline(admin.TabularInline):
    model = ConsentRecord
    extra = 0


class ContactInline(admin.TabularInline):
    model = ContactLog
    extra = 0
    autocomplete_fields = ["study"]
    readonly_fields = ["by"]


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ["__str__", "name", "email", "company", "country", "source", "opted_out", "erased_at"]
    list_filter = ["opted_out", "source", "country", ("erased_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "email", "company"]
    inlines = [ConsentInline, ContactInline]
    readonly_fields = ["erased_at", "erased_summary", "created_at", "updated_at"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        participant_stats_refresh(participant_ids=[form.instance.pk])

    def has_delete_permission(self, request, obj=None):
        return False  # use erasure (audited, keeps counts), never a silent delete


class SessionInline(admin.TabularInline):
    model = Session
    extra = 0
    fields = ["participant", "scheduled_at", "status", "moderator"]
    raw_id_fields = ["participant"]


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["title", "method", "status", "owner", "created_at"]
    list_filter = ["status", "method", "products"]
    search_fields = ["title", "research_questions"]
    filter_horizontal = ["products", "team"]
    inlines = [SessionInline]


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ["study", "participant", "scheduled_at", "status"]
    list_filter = ["status", "study__method"]
    search_fields = ["study__title", "notes"]
    raw_id_fields = ["participant"]


@admin.register(Incentive)
class IncentiveAdmin(admin.ModelAdmin):
    list_display = ["session", "amount", "currency", "status", "paid_at"]
    list_filter = ["status", "currency"]


@admin.register(Highlight)
class HighlightAdmin(admin.ModelAdmin):
    list_display = ["__str__", "study", "created_at", "feedback_ref"]
    list_filter = ["study__method", "tags"]
    search_fields = ["excerpt"]
    raw_id_fields = ["session", "participant"]


class EvidenceInline(admin.TabularInline):
    model = InsightEvidence
    extra = 0


@admin.register(Insight)
class InsightAdmin(admin.ModelAdmin):
    list_display = ["statement", "status", "confidence", "study", "published_at"]
    list_filter = ["status", "confidence", "products", "tags"]
    search_fields = ["statement", "details"]
    filter_horizontal = ["products", "tags"]
    raw_id_fields = ["highlights"]
    inlines = [EvidenceInline]
