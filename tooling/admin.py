"""Admin for ops leads: templates and their immutable versions, checklist templates, suggestions."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from tooling import selectors, services
from tooling.models import (
    ChecklistTemplateItem,
    Document,
    DocumentSection,
    Launch,
    LaunchChecklistItem,
    RoadmapItem,
    Template,
    TemplateSection,
    TemplateSuggestion,
    TemplateVersion,
)


class DeprecateForm(forms.Form):
    replacement = forms.ModelChoiceField(
        queryset=Template.objects.none(),
        required=False,
        help_text="Where PMs should go instead. Leave empty only if nothing replaces it.",
    )

    def __init__(self, *args, template: Template, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["replacement"].queryset = Template.objects.filter(status=Template.Status.PUBLISHED).exclude(
            pk=template.pk
        )


class TemplateVersionInline(admin.TabularInline):
    model = TemplateVersion
    fields = ["version_link", "status", "published_at", "published_by", "usage"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("published_by").annotate(n_docs=Count("documents"))

    @admin.display(description="Version")
    def version_link(self, obj):
        url = reverse("admin:tooling_templateversion_change", args=[obj.pk])
        return format_html('<a href="{}">v{}</a>', url, obj.number)

    @admin.display(description="Documents using it")
    def usage(self, obj):
        return obj.n_docs


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "status", "owner", "latest_version", "n_documents", "replacement"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["owner", "replacement"]
    inlines = [TemplateVersionInline]
    actions = ["create_next_version", "deprecate"]
    readonly_fields = ["status", "replacement"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(n_docs=Count("versions__documents", distinct=True), latest=Count("versions", distinct=True))
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/deprecate/",
                self.admin_site.admin_view(self.deprecate_view),
                name="tooling_template_deprecate",
            ),
            *super().get_urls(),
        ]

    def deprecate_view(self, request, pk: int):
        template = get_object_or_404(Template, pk=pk)
        if not self.has_change_permission(request, template):
            raise PermissionDenied
        form = DeprecateForm(request.POST or None, template=template)
        if request.method == "POST" and form.is_valid():
            try:
                services.template_deprecate(
                    template=template, replacement=form.cleaned_data["replacement"], by=request.user
                )
            except ValidationError as exc:
                form.add_error("replacement", exc.messages)
            else:
                messages.success(request, f"Deprecated “{template}”. PMs are pointed to its replacement.")
                return redirect("admin:tooling_template_change", template.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Deprecate {template}",
            "template_obj": template,
            "form": form,
            "opts": self.model._meta,
            "n_documents": Document.objects.filter(template_version__template=template).count(),
        }
        return render(request, "tooling/admin/deprecate.html", context)

    @admin.action(description="Deprecate (choose a replacement)")
    def deprecate(self, request, queryset):
        if queryset.count() != 1:
            messages.error(request, "Deprecate one template at a time: each needs its own replacement.")
            return None
        return redirect("admin:tooling_template_deprecate", queryset.get().pk)

    @admin.display(description="Versions", ordering="latest")
    def latest_version(self, obj):
        return obj.latest

    @admin.display(description="Documents", ordering="n_docs")
    def n_documents(self, obj):
        return obj.n_docs

    @admin.action(description="Create next version (a draft copy of the latest)")
    def create_next_version(self, request, queryset):
        for template in queryset:
            version = services.template_version_create(template=template)
            messages.success(request, f"Created draft {version}. Edit its sections, then publish it.")


class TemplateSectionInline(admin.TabularInline):
    model = TemplateSection
    fields = ["order", "key", "title", "guidance", "placeholder", "required"]
    extra = 0

    def _locked(self, obj) -> bool:
        return obj is not None and obj.was_published

    def has_add_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_delete_permission(request, obj)


@admin.register(TemplateVersion)
class TemplateVersionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "template", "number", "status", "published_at", "published_by", "usage"]
    list_filter = ["status", "template__kind", "template"]
    search_fields = ["template__name", "changelog"]
    list_select_related = ["template", "published_by"]
    inlines = [TemplateSectionInline]
    actions = ["publish"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_docs=Count("documents"))

    @admin.display(description="Documents using it", ordering="n_docs")
    def usage(self, obj):
        return obj.n_docs

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.was_published:
            return ["template", "number", "status", "changelog", "variables", "published_at", "published_by"]
        return ["status", "published_at", "published_by"]

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.was_published:
            return False
        return super().has_delete_permission(request, obj)

    change_form_template = "tooling/admin/templateversion_change_form.html"

    def get_urls(self):
        return [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="tooling_templateversion_preview",
            ),
            path("diff/", self.admin_site.admin_view(self.diff_view), name="tooling_templateversion_diff"),
            *super().get_urls(),
        ]

    def preview_view(self, request, pk: int):
        version = get_object_or_404(TemplateVersion.objects.select_related("template"), pk=pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview {version}",
            "version": version,
            "sections": version.sections.all(),
            "opts": self.model._meta,
            "usage": version.documents.count(),
        }
        return render(request, "tooling/admin/templateversion_preview.html", context)

    def diff_view(self, request):
        versions = TemplateVersion.objects.select_related("template").order_by("template__name", "number")
        old = versions.filter(pk=request.GET.get("a") or 0).first()
        new = versions.filter(pk=request.GET.get("b") or 0).first()
        error = None
        changes = None
        if old and new:
            if old.template_id != new.template_id:
                error = "Compare two versions of the same template."
            else:
                changes = selectors.template_version_diff(old, new)
        context = {
            **self.admin_site.each_context(request),
            "title": "Compare template versions",
            "versions": versions,
            "old": old,
            "new": new,
            "changes": changes,
            "error": error,
            "opts": self.model._meta,
        }
        return render(request, "tooling/admin/templateversion_diff.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and obj.was_published and request.method == "GET":
            messages.warning(request, obj.immutable_message())
        if obj is not None and "_publish" in request.POST:
            try:
                services.template_version_publish(version=obj, by=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, f"Published {obj}. PMs now create documents from it.")
            return redirect(request.path)
        extra_context = {**(extra_context or {}), "version": obj}
        if obj is not None:
            extra_context["previous"] = obj.template.versions.filter(number__lt=obj.number).order_by("-number").first()
            extra_context["usage"] = obj.documents.count()
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Publish selected draft versions")
    def publish(self, request, queryset):
        for version in queryset:
            try:
                services.template_version_publish(version=version, by=request.user)
            except ValidationError as exc:
                messages.error(request, f"{version}: {' '.join(exc.messages)}")
            else:
                messages.success(request, f"Published {version}.")


@admin.register(TemplateSuggestion)
class TemplateSuggestionAdmin(admin.ModelAdmin):
    list_display = ["template", "section_key", "short_body", "author", "status", "created_at"]
    list_filter = ["status", "template"]
    search_fields = ["body", "template__name", "author__username"]
    list_select_related = ["template", "author"]
    readonly_fields = [
        "template",
        "version",
        "section_key",
        "body",
        "author",
        "status",
        "created_at",
        "resolved_by",
        "resolved_at",
    ]
    fields = [*readonly_fields[:6], "response", *readonly_fields[6:]]
    actions = ["accept", "decline"]

    def has_add_permission(self, request):
        return False  # PMs suggest from the template page

    def _resolve(self, request, queryset, status):
        for suggestion in queryset.filter(status=TemplateSuggestion.Status.OPEN).select_related("template", "author"):
            services.template_suggestion_resolve(
                suggestion=suggestion, status=status, by=request.user, response=suggestion.response
            )
        messages.success(request, f"Marked {status}; the authors were told.")

    @admin.action(description="Accept (plan it into the next version)")
    def accept(self, request, queryset):
        self._resolve(request, queryset, TemplateSuggestion.Status.ACCEPTED)

    @admin.action(description="Decline")
    def decline(self, request, queryset):
        self._resolve(request, queryset, TemplateSuggestion.Status.DECLINED)

    @admin.display(description="Suggestion")
    def short_body(self, obj):
        return obj.body[:80]


@admin.register(ChecklistTemplateItem)
class ChecklistTemplateItemAdmin(admin.ModelAdmin):
    list_display = ["title", "tier", "owner_role", "offset_days", "required", "order"]
    list_filter = ["tier", "owner_role", "required"]
    search_fields = ["title"]
    list_editable = ["required", "order"]


class DocumentSectionInline(admin.TabularInline):
    model = DocumentSection
    fields = ["order", "key", "title", "required", "body"]
    extra = 0


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "product", "owner", "status", "template_version", "updated_at"]
    list_filter = ["status", "product", "template_version__template__kind"]
    search_fields = ["title"]
    list_select_related = ["product", "owner", "template_version__template"]
    inlines = [DocumentSectionInline]
    raw_id_fields = ["owner", "template_version"]


@admin.register(RoadmapItem)
class RoadmapItemAdmin(admin.ModelAdmin):
    list_display = ["title", "product", "horizon", "target_quarter", "status", "owner", "rice_score"]
    list_filter = ["product", "horizon", "status"]
    search_fields = ["title", "description"]
    list_select_related = ["product", "owner"]


class LaunchChecklistItemInline(admin.TabularInline):
    model = LaunchChecklistItem
    fields = ["title", "owner_role", "offset_days", "due_date", "required", "done_at"]
    extra = 0


@admin.register(Launch)
class LaunchAdmin(admin.ModelAdmin):
    list_display = ["feature", "product", "tier", "launch_date", "owner", "status"]
    list_filter = ["tier", "status", "product"]
    search_fields = ["feature"]
    list_select_related = ["product", "owner"]
    inlines = [LaunchChecklistItemInline]
