"""Checklist templates (PLAYBOOK §2): what a role checks, on which days, by when."""

from __future__ import annotations

from datetime import date, time

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from roles.models import PlaybookRow, Role, Team


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
