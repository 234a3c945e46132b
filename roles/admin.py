from django.contrib import admin

from roles.models import (
    CalendarGap,
    CalendarOverride,
    Cover,
    Kpi,
    Member,
    MemberRole,
    Metric,
    MetricEntry,
    Responsibility,
    Role,
    Target,
    Team,
)


class MemberRoleInline(admin.TabularInline):
    model = MemberRole
    extra = 1
    autocomplete_fields = ["role"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_active"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "team", "playbook_id", "order"]
    list_filter = ["team", "code"]
    search_fields = ["name", "playbook_id"]


@admin.register(Responsibility)
class ResponsibilityAdmin(admin.ModelAdmin):
    list_display = ["playbook_id", "text", "role", "heading", "schedule", "team", "is_active"]
    list_filter = ["team", "role__code", "is_active"]
    search_fields = ["playbook_id", "text"]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "team", "is_director", "is_active"]
    list_filter = ["team", "is_director", "is_active"]
    search_fields = ["display_name", "user__username"]
    inlines = [MemberRoleInline]
    raw_id_fields = ["user"]


@admin.register(Cover)
class CoverAdmin(admin.ModelAdmin):
    list_display = ["absent", "cover", "start_date", "end_date", "team"]
    list_filter = ["team"]


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "team", "note"]
    list_filter = ["team", "is_workday"]


@admin.register(CalendarGap)
class CalendarGapAdmin(admin.ModelAdmin):
    list_display = ["year", "warned_at"]


# --- KPIs (issue 5): definitions, daily figures, targets and grading rules, all editable by the owner --------------


@admin.register(Metric)
class MetricAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "unit", "direction", "periods", "scope", "team", "playbook_id", "is_active"]
    list_filter = ["team", "kind", "scope", "is_active"]
    search_fields = ["name", "code", "aliases", "playbook_id"]
    raw_id_fields = ["numerator", "denominator"]


@admin.register(MetricEntry)
class MetricEntryAdmin(admin.ModelAdmin):
    list_display = ["date", "metric", "value", "member", "source", "entered_by", "entered_at", "team"]
    list_filter = ["team", "source", "metric"]
    date_hierarchy = "date"
    raw_id_fields = ["metric", "member", "entered_by"]


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ["month", "metric", "value", "split", "role", "member", "team", "set_by", "set_at"]
    list_filter = ["team", "split", "metric"]
    raw_id_fields = ["metric", "member", "set_by"]


@admin.register(Kpi)
class KpiAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "metric", "team", "playbook_id", "is_active"]
    list_filter = ["team", "kind", "is_active"]
    raw_id_fields = ["metric"]
