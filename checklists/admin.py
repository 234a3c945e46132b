from django.contrib import admin

from checklists.models import Checklist, ChecklistItem, ChecklistTemplate, TemplateItem, TickEvent


class TemplateItemInline(admin.TabularInline):
    model = TemplateItem
    extra = 1
    fields = ["order", "playbook_id", "text", "kind", "target", "unit", "due_at", "note_required", "parent", "is_active"]


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "playbook_id", "role", "team", "schedule", "generate_at", "due_at", "is_active"]
    list_filter = ["team", "role__code", "schedule", "is_active"]
    search_fields = ["name", "playbook_id"]
    inlines = [TemplateItemInline]


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    fields = ["order", "playbook_id", "text", "status", "value", "text_value", "note", "due_at", "done_at", "done_by"]
    readonly_fields = ["done_at", "done_by"]


@admin.register(Checklist)
class ChecklistAdmin(admin.ModelAdmin):
    list_display = ["name", "member", "assignee", "date", "team"]
    list_filter = ["team", "date", "role__code"]
    date_hierarchy = "date"
    search_fields = ["member__display_name", "name"]
    inlines = [ChecklistItemInline]
    raw_id_fields = ["member", "assignee", "template"]


@admin.register(TickEvent)
class TickEventAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "item", "actor", "on_behalf_of", "ip"]
    list_filter = ["action"]
    readonly_fields = ["item", "actor", "on_behalf_of", "action", "changes", "at", "ip"]
