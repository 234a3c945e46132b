from django.contrib import admin

from roles.models import CalendarGap, CalendarOverride, Cover, Member, MemberRole, Role, Team


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
