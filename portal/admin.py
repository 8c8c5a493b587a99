from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from portal import services, tokens
from portal.models import ApiToken, AuditEntry, BusinessUnit, Market, Notification, Product, Role, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "role", "title", "timezone", "is_active"]
    list_filter = ["role", "is_active", "is_staff"]
    fieldsets = BaseUserAdmin.fieldsets + (("Portal", {"fields": ["role", "title", "timezone", "manager"]}),)
    actions = [f"make_{r}" for r in Role.values]

    def save_model(self, request, obj, form, change):
        role_changed = change and "role" in form.changed_data
        super().save_model(request, obj, form, change)
        if role_changed or not change:
            services.user_set_role(user=obj, role=obj.role, by=request.user)

    def _set_role(self, request, queryset, role):
        for user in queryset:
            services.user_set_role(user=user, role=role, by=request.user)
        messages.success(request, f"{queryset.count()} people are now {Role(role).label}.")


def _role_action(role):
    def action(modeladmin, request, queryset):
        modeladmin._set_role(request, queryset, role)

    action.__name__ = f"make_{role}"
    action.short_description = f"Set role: {Role(role).label}"
    return action


for _role in Role.values:
    setattr(UserAdmin, f"make_{_role}", _role_action(_role))


@admin.register(BusinessUnit)
class BusinessUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "lead"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Market)
class MarketAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "currency"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "unit", "pm_owner", "requires_review_approval"]
    list_filter = ["unit", "markets"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members", "markets"]
    list_select_related = ["unit", "pm_owner"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "name", "prefix", "key_hash", "scopes", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # tokens are created on the profile page or by create_api_token

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            tokens.api_token_revoke(token=token, by=request.user)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "target_type", "target_label", "ip"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_label", "action", "target_label"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "kind", "title", "read_at"]
    list_filter = ["kind"]
