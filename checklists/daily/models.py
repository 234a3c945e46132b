"""Templates and their items; the daily checklists made from them, their items and the record of every tick."""

from __future__ import annotations

import uuid
from datetime import date, time

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from opsteam.lib.images import IMAGE_CONTENT_TYPES
from roles.models import Member, PlaybookRow, Role, Team


class ScheduleKind(models.TextChoices):
    WORKDAYS = "workdays", _("Every working day")
    WEEKDAYS = "weekdays", _("Chosen weekdays")
    WEEKLY = "weekly", _("Weekly on a weekday")
    EVERY_N_WEEKS = "every_n_weeks", _("Every N weeks")
    MONTHLY = "monthly", _("Monthly on a day")


class ItemKind(models.TextChoices):
    CHECK = "check", _("Check")
    COUNT = "count", _("Count with a target")
    NUMBER = "number", _("Number")
    TEXT = "text", _("Short text")
    PHOTO = "photo", _("Photo")


class Scheduled(models.Model):
    """The schedule fields shared by checklist templates and duty templates (abstract)."""

    schedule = models.CharField(_("schedule"), max_length=20, choices=ScheduleKind.choices, default=ScheduleKind.WORKDAYS)
    # ISO weekdays 1 (Monday) .. 7, as a string of digits: "135" = Mon, Wed, Fri.
    weekdays = models.CharField(
        _("weekdays"), max_length=7, blank=True, help_text=_("ISO weekdays, e.g. 135 for Monday, Wednesday, Friday")
    )
    interval_weeks = models.PositiveSmallIntegerField(_("every N weeks"), default=1)
    anchor_date = models.DateField(_("first date"), null=True, blank=True, help_text=_("For every N weeks: a date the schedule falls on"))
    month_day = models.PositiveSmallIntegerField(_("day of month"), null=True, blank=True)
    generate_at = models.TimeField(_("generated at"), default=time(7, 0))
    due_at = models.TimeField(_("due at"), default=time(18, 0))

    class Meta:
        abstract = True

    def clean(self) -> None:
        if self.weekdays and not set(self.weekdays) <= set("1234567"):
            raise ValidationError({"weekdays": _("Use the digits 1 (Monday) to 7 (Sunday).")})
        if self.schedule in (ScheduleKind.WEEKDAYS, ScheduleKind.WEEKLY, ScheduleKind.EVERY_N_WEEKS) and not self.weekdays:
            raise ValidationError({"weekdays": _("Choose at least one weekday for this schedule.")})
        if self.schedule == ScheduleKind.MONTHLY and not self.month_day:
            raise ValidationError({"month_day": _("Choose the day of the month.")})
        if self.schedule == ScheduleKind.EVERY_N_WEEKS and not self.anchor_date:
            raise ValidationError({"anchor_date": _("Give a first date for a schedule every N weeks.")})

    def falls_on(self, day: date) -> bool:
        """Does the schedule name this date? (Working days are checked separately.)"""
        weekday = str(day.isoweekday())
        if self.schedule == ScheduleKind.WORKDAYS:
            return True
        if self.schedule in (ScheduleKind.WEEKDAYS, ScheduleKind.WEEKLY):
            return weekday in self.weekdays
        if self.schedule == ScheduleKind.EVERY_N_WEEKS:
            if weekday not in self.weekdays or self.anchor_date is None or day < self.anchor_date:
                return False
            weeks = (day - self.anchor_date).days // 7
            return weeks % self.interval_weeks == 0
        if self.schedule == ScheduleKind.MONTHLY:
            return day.day == self.month_day
        return False


class ChecklistTemplate(PlaybookRow, Scheduled):
    """A list of items a role checks on a schedule, e.g. 仓库每日自查 (SC-WH)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="checklist_templates", verbose_name=_("team"))
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="checklist_templates", verbose_name=_("role"))
    # SC-CS-7 客服主管日常记录: a list for the role's lead alone, not for every member of the role.
    lead_only = models.BooleanField(_("for the lead only"), default=False)
    name = models.CharField(_("name"), max_length=100)
    source = models.CharField(_("source"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    escalation_policy = models.ForeignKey(
        "checklists.EscalationPolicy",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("escalation policy"),
        help_text=_("Empty: the team's default policy"),
    )

    class Meta:
        verbose_name = _("checklist template")
        verbose_name_plural = _("checklist templates")
        ordering = ["team", "role__order", "due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "playbook_id"], condition=~Q(playbook_id=""), name="checklists_template_playbook_id_once_per_team"
            ),
            models.CheckConstraint(
                condition=Q(month_day__isnull=True) | Q(month_day__gte=1, month_day__lte=31), name="checklists_template_month_day_valid"
            ),
            models.CheckConstraint(condition=Q(interval_weeks__gte=1), name="checklists_template_interval_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class TemplateItem(PlaybookRow):
    """One line of a template, e.g. SC-WH-1 检查产品配件, possibly with sub-items (包装盒, 快递单, ...)."""

    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="items", verbose_name=_("template"))
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children", verbose_name=_("parent item")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.CharField(_("text"), max_length=300)
    source = models.CharField(_("source"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=ItemKind.choices, default=ItemKind.CHECK)
    target = models.PositiveIntegerField(_("target"), null=True, blank=True, help_text=_("For a count: how many, e.g. 10"))
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    due_at = models.TimeField(_("due at"), null=True, blank=True, help_text=_("Empty: the template's due time"))
    note_required = models.BooleanField(_("note required when not done"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("template item")
        verbose_name_plural = _("template items")
        ordering = ["template", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "playbook_id"], condition=~Q(playbook_id=""), name="checklists_templateitem_playbook_id_once"
            ),
            models.CheckConstraint(condition=~Q(kind="count") | Q(target__gte=1), name="checklists_templateitem_count_has_target"),
        ]

    def __str__(self) -> str:
        return f"{self.playbook_id} {self.text}".strip()


def covering(viewer: Member, absent_field: str, date_field: str):
    """Covers by the viewer of the row's member, on the row's date or today: a cover arranged after the
    lists (or duties) were made still reaches them, as the reminders do. For an Exists() in visible_to."""
    from django.utils import timezone

    from roles.models import Cover

    today = timezone.localdate()
    on_row_date = Q(start_date__lte=OuterRef(date_field), end_date__gte=OuterRef(date_field))
    return Cover.objects.filter(absent=OuterRef(absent_field), cover=viewer).filter(
        on_row_date | Q(start_date__lte=today, end_date__gte=today)
    )


class ChecklistQuerySet(models.QuerySet):
    def visible_to(self, viewer: Member) -> ChecklistQuerySet:
        """The one access path (STYLE §3): own and covered lists; a lead's role; the director's team."""
        from roles.models import MemberRole
        from roles.selectors import member_led_role_ids

        team_lists = self.filter(team_id=viewer.team_id)
        if viewer.is_director or viewer.user.is_superuser:
            return team_lists
        # Roles already read for this request are reused; otherwise a subquery, so a tick or a list read costs
        # no separate query for the viewer's roles (issue 8).
        if getattr(viewer, "_role_links", None) is not None:
            led = member_led_role_ids(member=viewer)
        else:
            led = MemberRole.objects.filter(member_id=viewer.pk, is_lead=True).values("role_id")
        mine = Q(member=viewer) | Q(assignee=viewer) | Q(role_id__in=led)
        if getattr(viewer, "_covers_anyone", True) is False:
            # Read with the login (roles.authentication): covering nobody, the cover subquery can only be false.
            return team_lists.filter(mine)
        return team_lists.filter(mine | Exists(covering(viewer, "member", "date")))


class Checklist(models.Model):
    """One member's list for one template on one day, e.g. 冯仓库's 仓库每日自查 on 2026-11-23."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="checklists", verbose_name=_("team"))
    template = models.ForeignKey(
        ChecklistTemplate, on_delete=models.SET_NULL, null=True, related_name="checklists", verbose_name=_("template")
    )
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="checklists", verbose_name=_("role"))
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="checklists", verbose_name=_("member"))
    # Who does the work: the member, or whoever covers them that day (roles.Cover).
    assignee = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="assigned_checklists", verbose_name=_("assignee"))
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100)
    # Rows inserted by one generation run share a batch: after INSERT ... ON CONFLICT DO NOTHING the
    # run selects its own batch to learn which lists it created, and adds items to those only.
    batch = models.UUIDField(editable=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ChecklistQuerySet.as_manager()

    class Meta:
        verbose_name = _("checklist")
        verbose_name_plural = _("checklists")
        ordering = ["date", "role__order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["member", "template", "date"], name="checklists_checklist_one_per_member_template_day"),
        ]
        indexes = [
            models.Index(fields=["assignee", "date"], name="checklists_assignee_date"),
            models.Index(fields=["team", "date"], name="checklists_team_date"),
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.member} · {self.date}"

    @property
    def is_covered(self) -> bool:
        return self.member_id != self.assignee_id


class ItemStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    NOT_DONE = "not_done", _("Not done")


def tick_photo_path(item: ChecklistItem, filename: str) -> str:
    """Photos are filed under the checklist's day, not the day the upload happened to run, under a name the
    server chooses: only the extension of `filename` is kept, and only a picture's (issue 15: an uploader's
    x.js or x.html was stored and served as such). The photo service passes the extension of the format Pillow
    read (opsteam.lib.images.image_clean)."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in IMAGE_CONTENT_TYPES:
        extension = "bin"
    return f"ticks/{item.checklist.date:%Y/%m/%d}/{uuid.uuid4().hex}.{extension}"


class ChecklistItem(models.Model):
    """An item of a day's checklist, copied from the template as it was that day."""

    checklist = models.ForeignKey(Checklist, on_delete=models.CASCADE, related_name="items", verbose_name=_("checklist"))
    template_item = models.ForeignKey(TemplateItem, on_delete=models.SET_NULL, null=True, related_name="+")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")
    # A group (SC-WH-1 检查产品配件) is closed by its sub-items, never ticked itself; counts skip it.
    is_group = models.BooleanField(default=False)
    playbook_id = models.CharField(_("playbook ID"), max_length=40, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.CharField(_("text"), max_length=300)
    kind = models.CharField(_("kind"), max_length=10, choices=ItemKind.choices, default=ItemKind.CHECK)
    target = models.PositiveIntegerField(_("target"), null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    note_required = models.BooleanField(_("note required when not done"), default=False)
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(_("status"), max_length=10, choices=ItemStatus.choices, default=ItemStatus.OPEN)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2, null=True, blank=True)
    text_value = models.CharField(_("text"), max_length=500, blank=True)
    note = models.TextField(_("note"), blank=True)
    photo = models.ImageField(_("photo"), upload_to=tick_photo_path, blank=True)
    done_at = models.DateTimeField(_("ticked at"), null=True, blank=True)
    done_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("ticked by"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["checklist", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", done_at__isnull=True) | (~Q(status="open") & Q(done_at__isnull=False)),
                name="checklists_item_closed_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["checklist", "order"], name="checklists_item_order"),
            # The escalation sweep reads open items by due time; done items (nearly all of them) stay out of it.
            models.Index(fields=["due_at"], condition=Q(status="open", is_group=False), name="checklists_item_open_due"),
        ]

    def __str__(self) -> str:
        return f"{self.playbook_id} {self.text}".strip()

    @property
    def is_late(self) -> bool:
        """Done after its due time. An item marked not done is not late: it was not done (issue 17)."""
        return self.status == ItemStatus.DONE and self.done_at is not None and self.done_at > self.due_at

    @property
    def shortfall(self) -> int:
        """How far a recorded count fell short of its target (8 of 10: 2); 0 when it reached it or has none."""
        if self.kind != ItemKind.COUNT or not self.target or self.value is None or self.status == ItemStatus.OPEN:
            return 0
        return max(0, int(self.target - self.value))

    @property
    def is_closed(self) -> bool:
        return self.status != ItemStatus.OPEN


# Done after the due time: the one definition of "late" for reports (history, the board). Not done is not
# late (issue 17): it counts as not done, never twice.
LATE = Q(status="done", done_at__gt=F("due_at"))


def missed_at(now) -> Q:
    """漏做 (missed), the one definition (issue 17, docs/board.md): an item still open after its due time, as at
    `now`. A past day's open items are all missed; today's only once their due time has passed. The board, its API
    and export, the pace (who is behind) and the history all count it with this."""
    return Q(status="open", due_at__lt=now)


class TickAction(models.TextChoices):
    TICK = "tick", _("Ticked")
    NOT_DONE = "not_done", _("Marked not done")
    EDIT = "edit", _("Edited")
    UNTICK = "untick", _("Undone")


class TickEvent(models.Model):
    """Who changed an item, when, from where and what changed (issue 3: every tick, untick and edit)."""

    item = models.ForeignKey(ChecklistItem, on_delete=models.CASCADE, related_name="events", verbose_name=_("item"))
    actor = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("done by"))
    # Indexed only where set (checklists_tick_on_behalf): nearly every tick is one's own, and its record then
    # writes no index entry for it (issue 8).
    on_behalf_of = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("on behalf of"), db_index=False
    )
    action = models.CharField(_("action"), max_length=10, choices=TickAction.choices)
    changes = models.JSONField(_("changes"), default=dict)
    at = models.DateTimeField(_("when"))
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("tick record")
        verbose_name_plural = _("tick records")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["on_behalf_of"], condition=Q(on_behalf_of__isnull=False), name="checklists_tick_on_behalf"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.item_id} {self.at:%Y-%m-%d %H:%M}"
