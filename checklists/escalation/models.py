"""Escalation policies (who is told when something is late) and the escalations the sweep raises."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from roles.models import Member, Role, Team


class NotifyWhom(models.TextChoices):
    OWNER = "owner", _("Owner")
    LEAD = "lead", _("Role lead")
    DIRECTOR = "director", _("Director")


class TaskSource(models.TextChoices):
    """Where a duty comes from (issue 4); also the key for a per-kind escalation policy."""

    CHECKLIST = "checklist", _("Daily checklist")
    RECURRING = "recurring", _("Recurring duty")
    PROBLEM_ORDER = "problem_order", _("Problem order")
    SHIPMENT = "shipment", _("Order to ship")
    CAMPAIGN = "campaign", _("Campaign")
    PLAN = "plan", _("Plan")
    ADHOC = "adhoc", _("Assigned task")
    MEETING = "meeting", _("Meeting action item")


class EscalationPolicy(models.Model):
    """A chain of levels: e.g. owner 30 min before due, the role lead at due + 30 min, the director at due + 2 h."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="escalation_policies", verbose_name=_("team"))
    name = models.CharField(_("name"), max_length=100)
    # Empty: the team's default, used where no template or task kind names a policy.
    source = models.CharField(
        _("applies to"),
        max_length=20,
        choices=TaskSource.choices,
        blank=True,
        help_text=_("Empty: the team's default policy. Otherwise the policy for this kind of duty."),
    )
    quiet_start = models.TimeField(_("quiet hours from"), default=time(22, 0))
    quiet_end = models.TimeField(_("quiet hours until"), default=time(8, 0))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")
        ordering = ["team", "source", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "source"], name="checklists_escalationpolicy_one_per_team_source"),
        ]

    def __str__(self) -> str:
        return self.name


class EscalationLevel(models.Model):
    """One step of a policy: at <offset from due>, notify <whom>, repeat every <interval> up to <n> times."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="levels", verbose_name=_("policy"))
    order = models.PositiveSmallIntegerField(_("level"))
    offset_minutes = models.IntegerField(_("minutes from due"), help_text=_("Negative: before the due time, e.g. -30"))
    notify = models.CharField(_("notify"), max_length=10, choices=NotifyWhom.choices)
    repeat_every_minutes = models.PositiveIntegerField(_("repeat every (minutes)"), default=0, help_text=_("0: no repeat"))
    repeat_times = models.PositiveSmallIntegerField(_("repeat up to (times)"), default=0)
    # Urgent levels go out during quiet hours; the others wait until the morning.
    urgent = models.BooleanField(_("urgent"), default=False)

    class Meta:
        verbose_name = _("escalation level")
        verbose_name_plural = _("escalation levels")
        ordering = ["policy", "order"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "order"], name="checklists_escalationlevel_order_once_per_policy"),
            models.CheckConstraint(
                condition=Q(repeat_times=0) | Q(repeat_every_minutes__gte=1), name="checklists_escalationlevel_repeat_has_interval"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy} #{self.order} {self.get_notify_display()} {self.offset_minutes:+d} min"

    @property
    def offset(self) -> timedelta:
        return timedelta(minutes=self.offset_minutes)


class EscalationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class EscalationQuerySet(models.QuerySet):
    def visible_to(self, viewer: Member) -> EscalationQuerySet:
        """The one access path: a member sees the escalations sent to them; a lead their roles'; the director the team's."""
        from roles.selectors import member_led_role_ids

        team_rows = self.filter(team_id=viewer.team_id)
        if viewer.is_director or viewer.user.is_superuser:
            return team_rows
        return team_rows.filter(Q(recipient=viewer) | Q(role_id__in=member_led_role_ids(member=viewer)))


class Escalation(models.Model):
    """A level of a policy raised for one late item or duty: exactly once per item and level (the constraint)."""

    # The table's indexes are its write cost (the sweep inserts thousands of rows a minute, issue 8): the team, the
    # item and the duty have none of their own, as checklists_esc_status and the two once-per-level constraints
    # lead with them; nullable links are indexed only where set.
    # team and role are copies of the item's (or duty's) list's, for the board and the filters: the item and duty
    # keys hold the row to what it is about. They are not database foreign keys, because the sweep inserts a
    # thousand rows a minute and each key is a check per row at COMMIT: these two were 9 ms of an 86 ms sweep
    # (issue 8). Django still cascades a deleted team and nulls a deleted role (on_delete runs in Python).
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="escalations", verbose_name=_("team"), db_index=False, db_constraint=False
    )
    item = models.ForeignKey(
        "checklists.ChecklistItem",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="escalations",
        verbose_name=_("item"),
        db_index=False,
    )
    task = models.ForeignKey(
        "checklists.Task",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="escalations",
        verbose_name=_("duty"),
        db_index=False,
    )
    level = models.ForeignKey(EscalationLevel, on_delete=models.PROTECT, related_name="escalations", verbose_name=_("level"))
    level_order = models.PositiveSmallIntegerField(_("level"))
    notify = models.CharField(_("notify"), max_length=10, choices=NotifyWhom.choices)
    role = models.ForeignKey(
        Role, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("role"), db_constraint=False
    )
    # Who was told: resolved when the sweep writes the notification (owner, cover, lead or director).
    recipient = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="escalations", verbose_name=_("sent to"), db_index=False
    )
    due_at = models.DateTimeField(_("due at"))
    raised_at = models.DateTimeField(_("raised at"))
    status = models.CharField(_("status"), max_length=15, choices=EscalationStatus.choices, default=EscalationStatus.OPEN)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("acknowledged by"), db_index=False
    )
    # From where, for the audit trail (issue 7); the client's address as opsteam.lib.net.client_ip sees it.
    acknowledged_ip = models.GenericIPAddressField(_("acknowledged from"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # Set in the transaction that writes the notification; a row left NULL by a failure is retried.
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)
    repeats_sent = models.PositiveSmallIntegerField(_("repeats sent"), default=0)
    next_repeat_at = models.DateTimeField(_("next repeat at"), null=True, blank=True)
    error = models.TextField(_("last error"), blank=True)
    # Rows inserted by one sweep share a batch, so the sweep learns which rows it inserted (as generation does).
    # Not indexed: only the ORM path (not PostgreSQL) reads it, together with notified_at IS NULL.
    batch = models.UUIDField(editable=False)

    objects = EscalationQuerySet.as_manager()

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "level_order"], condition=Q(item__isnull=False), name="checklists_escalation_once_per_item_level"
            ),
            models.UniqueConstraint(
                fields=["task", "level_order"], condition=Q(task__isnull=False), name="checklists_escalation_once_per_task_level"
            ),
            models.CheckConstraint(
                condition=Q(item__isnull=False, task__isnull=True) | Q(item__isnull=True, task__isnull=False),
                name="checklists_escalation_item_or_task",
            ),
        ]
        indexes = [
            models.Index(fields=["team", "status"], name="checklists_esc_status"),
            models.Index(
                fields=["next_repeat_at"], condition=Q(status="open", next_repeat_at__isnull=False), name="checklists_esc_repeat_due"
            ),
            models.Index(fields=["raised_at"], condition=Q(notified_at__isnull=True), name="checklists_esc_unnotified"),
            # Every query names a member (visible_to, acknowledge all, SET_NULL when a member goes), so the rows
            # without one need no entry: a row is raised with neither.
            models.Index(fields=["recipient"], condition=Q(recipient__isnull=False), name="checklists_esc_recipient"),
            models.Index(fields=["acknowledged_by"], condition=Q(acknowledged_by__isnull=False), name="checklists_esc_acknowledged_by"),
        ]

    def __str__(self) -> str:
        return f"{self.get_notify_display()} #{self.level_order} · {self.item_id or self.task_id}"

    @property
    def subject(self):
        return self.item if self.item_id else self.task


def escalation_reopen(*, now: datetime, item=None, task=None) -> int:
    """Undo (or a reopened duty) takes the chain up where the tick stopped it: nothing late goes unnoticed.

    Each resolved level is open again, or acknowledged if it was, and an unacknowledged level's repeats
    resume one interval from now; levels not raised yet are raised by the next sweep as for any open item.
    """
    rows = Escalation.objects.filter(status=EscalationStatus.RESOLVED)
    rows = rows.filter(item=item) if item is not None else rows.filter(task=task)
    reopened = rows.filter(acknowledged_at__isnull=False).update(status=EscalationStatus.ACKNOWLEDGED, resolved_at=None)
    for escalation in rows.filter(acknowledged_at__isnull=True).select_related("level"):
        level = escalation.level
        repeats_left = escalation.notified_at is not None and escalation.repeats_sent < level.repeat_times
        escalation.status, escalation.resolved_at = EscalationStatus.OPEN, None
        escalation.next_repeat_at = now + timedelta(minutes=level.repeat_every_minutes) if repeats_left else None
        escalation.save(update_fields=["status", "resolved_at", "next_repeat_at"])
        reopened += 1
    return reopened


def escalation_resolve(*, now: datetime, item=None, task=None) -> int:
    """Done (or closed) stops the whole chain: every open or acknowledged level is resolved, no repeat follows."""
    rows = Escalation.objects.filter(status__in=[EscalationStatus.OPEN, EscalationStatus.ACKNOWLEDGED])
    rows = rows.filter(item=item) if item is not None else rows.filter(task=task)
    return rows.update(status=EscalationStatus.RESOLVED, resolved_at=now, next_repeat_at=None)
