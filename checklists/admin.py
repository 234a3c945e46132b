from django.contrib import admin
from django.db import models

from checklists.models import (
    ActionItem,
    AgendaItem,
    Amendment,
    Attendance,
    Campaign,
    CampaignStep,
    CampaignTemplate,
    Checklist,
    ChecklistItem,
    ChecklistTemplate,
    Delivery,
    DutyTemplate,
    Escalation,
    EscalationLevel,
    EscalationPolicy,
    Meeting,
    MeetingSeries,
    Notification,
    Plan,
    PlanStageTemplate,
    PlaybookDifference,
    ProblemOrder,
    ReflectionQuestion,
    Robot,
    RobotSend,
    Task,
    TaskEvent,
    TemplateItem,
    TickEvent,
    WeeklyReflection,
)


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


# --- notifications and their outbox (issue 4): read-mostly, the pages and services do the writing ---


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ["channel", "robot", "status", "attempts", "next_attempt_at", "sent_at", "error_code", "error"]
    readonly_fields = fields


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "title", "recipient", "kind", "urgent", "read_at", "team"]
    list_filter = ["team", "kind", "urgent"]
    search_fields = ["title", "recipient__display_name"]
    date_hierarchy = "created_at"
    readonly_fields = ["team", "recipient", "role", "kind", "title", "body", "url", "urgent", "created_at", "read_at", "escalations"]
    inlines = [DeliveryInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Robot)
class RobotAdmin(admin.ModelAdmin):
    """Saving runs Robot.clean(): the webhook must be on the vendor's host (OPSTEAM_ROBOT_HOSTS)."""

    list_display = ["name", "kind", "team", "role", "rate_per_minute", "is_active"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_filter = ["team", "kind", "is_active"]
    search_fields = ["name"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "notification", "channel", "robot", "status", "attempts", "next_attempt_at", "error_code"]
    list_filter = ["team", "status", "channel"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Delivery._meta.fields]
    raw_id_fields = ["notification"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(RobotSend)
class RobotSendAdmin(admin.ModelAdmin):
    list_display = ["at", "robot", "messages", "ok", "http_status", "error_code", "is_test"]
    list_filter = ["ok", "is_test", "robot__kind"]
    readonly_fields = [f.name for f in RobotSend._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# --- duties and escalation (issue 4): policies and playbook rows are edited here ---


class EscalationLevelInline(admin.TabularInline):
    model = EscalationLevel
    extra = 1
    fields = ["order", "offset_minutes", "notify", "repeat_every_minutes", "repeat_times", "urgent"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "source", "quiet_start", "quiet_end", "is_active"]
    list_filter = ["team", "source", "is_active"]
    inlines = [EscalationLevelInline]


@admin.register(DutyTemplate)
class DutyTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "playbook_id", "role", "team", "schedule", "weekdays", "due_at", "target", "escalation_policy", "is_active"]
    list_filter = ["team", "role__code", "schedule", "is_active"]
    search_fields = ["name", "playbook_id"]


class CampaignStepInline(admin.TabularInline):
    model = CampaignStep
    extra = 1
    fields = ["playbook_id", "phase", "offset_days", "role", "title", "due_time"]


@admin.register(CampaignTemplate)
class CampaignTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "playbook_id", "team", "is_active"]
    list_filter = ["team"]
    inlines = [CampaignStepInline]


@admin.register(PlanStageTemplate)
class PlanStageTemplateAdmin(admin.ModelAdmin):
    list_display = ["order", "name", "who", "days", "team"]
    list_filter = ["team"]


class TaskEventInline(admin.TabularInline):
    model = TaskEvent
    extra = 0
    can_delete = False
    fields = ["at", "actor", "action", "changes", "ip"]
    readonly_fields = fields


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "source", "playbook_id", "role", "owner", "assignee", "due_at", "status", "team"]
    list_filter = ["team", "source", "status", "role__code"]
    search_fields = ["title", "playbook_id"]
    date_hierarchy = "due_at"
    raw_id_fields = ["owner", "assignee", "done_by", "created_by", "campaign", "plan", "duty_template"]
    readonly_fields = ["source_key", "created_at", "done_at", "done_by"]
    inlines = [TaskEventInline]


@admin.register(ProblemOrder)
class ProblemOrderAdmin(admin.ModelAdmin):
    list_display = ["order_no", "kind", "logged_by", "logged_at", "due_at", "closed_at", "team"]
    list_filter = ["team", "kind"]
    search_fields = ["order_no"]
    raw_id_fields = ["task", "logged_by", "closed_by"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "date", "template", "team", "created_by"]
    list_filter = ["team"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["title", "stage", "status", "team", "created_by", "created_at"]
    list_filter = ["team", "status"]


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ["raised_at", "level_order", "notify", "item", "task", "recipient", "status", "acknowledged_by", "team"]
    list_filter = ["team", "status", "notify"]
    date_hierarchy = "raised_at"
    readonly_fields = [f.name for f in Escalation._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


# Meetings (issue 6): series and reflection questions are playbook rows an owner edits here; meetings are
# read here and written on the minutes page (published minutes change only by amendment).
@admin.register(MeetingSeries)
class MeetingSeriesAdmin(admin.ModelAdmin):
    list_display = ["name", "playbook_id", "cadence", "weekdays", "starts_at", "chair_role", "is_active", "team"]
    list_filter = ["team", "cadence", "is_active"]


@admin.register(ReflectionQuestion)
class ReflectionQuestionAdmin(admin.ModelAdmin):
    list_display = ["playbook_id", "text", "order", "is_active", "team"]
    list_filter = ["team", "is_active"]


class AgendaItemInline(admin.TabularInline):
    model = AgendaItem
    fk_name = "meeting"
    fields = ["order", "kind", "title", "notes", "carry_count"]
    readonly_fields = fields
    extra = 0
    can_delete = False


class AttendanceInline(admin.TabularInline):
    model = Attendance
    readonly_fields = ["member", "status"]
    extra = 0
    can_delete = False


class ActionItemInline(admin.TabularInline):
    model = ActionItem
    fk_name = "meeting"
    readonly_fields = ["title", "owner", "due_date", "task"]
    fields = readonly_fields
    extra = 0
    can_delete = False


class AmendmentInline(admin.TabularInline):
    model = Amendment
    readonly_fields = ["at", "member", "field", "before", "after", "reason"]
    extra = 0
    can_delete = False


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["title", "date", "series", "chair", "status", "published_at", "team"]
    list_filter = ["team", "series__playbook_id", "status"]
    date_hierarchy = "date"
    readonly_fields = [f.name for f in Meeting._meta.fields]
    inlines = [AttendanceInline, AgendaItemInline, ActionItemInline, AmendmentInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(WeeklyReflection)
class WeeklyReflectionAdmin(admin.ModelAdmin):
    list_display = ["member", "week", "updated_at", "team"]
    list_filter = ["team"]
    readonly_fields = ["team", "member", "week", "answers", "updated_at"]


@admin.register(PlaybookDifference)
class PlaybookDifferenceAdmin(admin.ModelAdmin):
    """Read only: the loader writes these; the owner resolves one by editing the row itself."""

    list_display = ["playbook_id", "field", "team_value", "playbook_value", "model", "team", "recorded_at"]
    list_filter = ["team", "model"]
    search_fields = ["playbook_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
