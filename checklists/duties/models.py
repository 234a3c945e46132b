"""Duties with deadlines (PLAYBOOK §3): recurring duties, problem orders, campaigns, plans and assigned tasks."""

from __future__ import annotations

from datetime import time

from django.db import models
from django.db.models import Exists, F, Q
from django.utils.translation import gettext_lazy as _

from checklists.daily.models import Scheduled, covering
from checklists.escalation.models import EscalationPolicy, TaskSource
from opsteam.lib.idempotency import idempotency_key_constraint, idempotency_key_field
from roles.models import Member, PlaybookRow, Role, Team


class DutyTemplate(PlaybookRow, Scheduled):
    """A recurring duty of a role, e.g. T-RESTOCK 提供店铺产品补货需求表 every Thursday."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="duty_templates", verbose_name=_("team"))
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="duty_templates", verbose_name=_("role"))
    name = models.CharField(_("name"), max_length=200)
    source = models.CharField(_("source"), max_length=100, blank=True)
    # T-WEEKLY-PROMO: the duty's title on each ISO weekday, {"1": "团购", "2": "特价", ...}.
    weekday_titles = models.JSONField(_("title per weekday"), default=dict, blank=True)
    target = models.PositiveIntegerField(_("target"), null=True, blank=True, help_text=_("For a count, e.g. 3 posts a day"))
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    escalation_policy = models.ForeignKey(
        EscalationPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("escalation policy")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("recurring duty")
        verbose_name_plural = _("recurring duties")
        ordering = ["team", "role__order", "playbook_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "playbook_id"], condition=~Q(playbook_id=""), name="checklists_dutytemplate_playbook_id_once_per_team"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def title_on(self, day) -> str:
        extra = self.weekday_titles.get(str(day.isoweekday()))
        return f"{self.name}:{extra}" if extra else self.name


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    NOT_DONE = "not_done", _("Not done")  # closed with a note saying why (issue 17: duties ticked like items)
    CANCELLED = "cancelled", _("Cancelled")


class TaskQuerySet(models.QuerySet):
    def visible_to(self, viewer: Member) -> TaskQuerySet:
        """The one access path: own and role duties; a lead's roles; the director's team."""
        from roles.selectors import member_led_role_ids, member_role_links

        team_rows = self.filter(team_id=viewer.team_id)
        if viewer.is_director or viewer.user.is_superuser:
            return team_rows
        own_roles = {link.role_id for link in member_role_links(member=viewer)}
        return team_rows.filter(
            Q(owner=viewer)
            | Q(assignee=viewer)
            | Q(owner__isnull=True, role_id__in=own_roles)
            | Q(role_id__in=member_led_role_ids(member=viewer))
            | Q(created_by=viewer)
            | Exists(covering(viewer, "owner", "date"))
        )

    def open(self) -> TaskQuerySet:
        return self.filter(status=TaskStatus.OPEN)


class Task(models.Model):
    """A duty with a deadline for a member, or for a role (anyone holding it may close it)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("team"))
    source = models.CharField(_("source"), max_length=20, choices=TaskSource.choices)
    playbook_id = models.CharField(_("playbook ID"), max_length=40, blank=True)
    title = models.CharField(_("title"), max_length=200)
    detail = models.TextField(_("detail"), blank=True)
    role = models.ForeignKey(Role, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks", verbose_name=_("role"))
    # Empty owner: the role's duty. The assignee is who does it today (the owner, or whoever covers them).
    owner = models.ForeignKey(Member, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks", verbose_name=_("owner"))
    assignee = models.ForeignKey(
        Member, on_delete=models.CASCADE, null=True, blank=True, related_name="assigned_tasks", verbose_name=_("assignee")
    )
    date = models.DateField(_("date"))
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    target = models.PositiveIntegerField(_("target"), null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2, null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("done by"))
    created_by = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks_created", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"))
    escalation_policy = models.ForeignKey(
        EscalationPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("escalation policy")
    )
    # What made the task, e.g. "duty:12:2026-11-26", "problem:7", "campaign:3:step:9", "plan:4:stage:2:role:5":
    # a retried or concurrent job cannot create the same duty twice (the constraint).
    source_key = models.CharField(max_length=100, blank=True, editable=False)
    duty_template = models.ForeignKey(DutyTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks")
    campaign = models.ForeignKey("Campaign", on_delete=models.CASCADE, null=True, blank=True, related_name="tasks")
    plan = models.ForeignKey("Plan", on_delete=models.CASCADE, null=True, blank=True, related_name="tasks")
    plan_stage = models.PositiveSmallIntegerField(null=True, blank=True)
    batch = models.UUIDField(null=True, blank=True, editable=False, db_index=True)
    # The assigner's Idempotency-Key (opsteam.lib.idempotency): a double tap or a retry assigns the duty once.
    idempotency_key = idempotency_key_field()

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("duty")
        verbose_name_plural = _("duties")
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "source_key"], condition=~Q(source_key=""), name="checklists_task_once_per_source_key"),
            idempotency_key_constraint(app_model="checklists_task"),
            models.CheckConstraint(condition=Q(role__isnull=False) | Q(owner__isnull=False), name="checklists_task_has_owner_or_role"),
            models.CheckConstraint(
                condition=Q(status="open", done_at__isnull=True) | (~Q(status="open") & Q(done_at__isnull=False)),
                name="checklists_task_closed_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["team", "date"], name="checklists_task_team_date"),
            models.Index(fields=["due_at"], condition=Q(status="open"), name="checklists_task_open_due"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_late(self) -> bool:
        return self.status == TaskStatus.DONE and self.done_at is not None and self.done_at > self.due_at

    @property
    def shortfall(self) -> int:
        """How far a recorded count fell short of the target (8 of 10: 2), 0 when it reached it or has none."""
        if not self.target or self.value is None:
            return 0
        return max(0, int(self.target - self.value))


class ProblemKind(models.TextChoices):
    REFUND = "refund", _("Refund")
    URGE = "urge", _("Chase delivery (催单)")
    PHOTO = "photo", _("Photo needed")
    OTHER = "other", _("Other")
    SHIP = "ship", _("Ship within 24 h")


class ProblemOrderQuerySet(models.QuerySet):
    def visible_to(self, viewer: Member) -> ProblemOrderQuerySet:
        """Problem orders are the shop's: every member of the team sees them (客服 logs, 仓库 ships, 运营 supervises)."""
        return self.filter(team_id=viewer.team_id)


class ProblemOrder(models.Model):
    """An order that must be settled within 24 h of being logged (T-24H), or shipped within 24 h (T-SHIP)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="problem_orders", verbose_name=_("team"))
    order_no = models.CharField(_("order number"), max_length=64)
    kind = models.CharField(_("kind"), max_length=10, choices=ProblemKind.choices)
    note = models.TextField(_("note"), blank=True)
    logged_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("logged by"))
    logged_at = models.DateTimeField(_("logged at"))
    due_at = models.DateTimeField(_("due at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("closed by"))
    resolution = models.TextField(_("resolution"), blank=True)
    task = models.OneToOneField(Task, on_delete=models.SET_NULL, null=True, blank=True, related_name="problem_order")

    objects = ProblemOrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("problem order")
        verbose_name_plural = _("problem orders")
        ordering = ["-logged_at", "-id"]
        constraints = [
            # A double-submitted form must not log the same open problem twice.
            models.UniqueConstraint(
                fields=["team", "order_no", "kind"], condition=Q(closed_at__isnull=True), name="checklists_problemorder_open_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_no} · {self.get_kind_display()}"

    @property
    def is_on_time(self) -> bool | None:
        return None if self.closed_at is None else self.closed_at <= self.due_at


class CampaignTemplate(PlaybookRow):
    """What a campaign asks of each role, relative to its date (T-CAMPAIGN)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="campaign_templates", verbose_name=_("team"))
    name = models.CharField(_("name"), max_length=100)
    source = models.CharField(_("source"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("campaign template")
        verbose_name_plural = _("campaign templates")
        ordering = ["team", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "playbook_id"], condition=~Q(playbook_id=""), name="checklists_campaigntemplate_playbook_id_once"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignPhase(models.TextChoices):
    BEFORE = "before", _("Before")
    DURING = "during", _("During")
    AFTER = "after", _("After")


class CampaignAnchor(models.TextChoices):
    """What a campaign step's day counts from (PLAYBOOK v2 T-CAMPAIGN-1…11)."""

    SIGNUP = "signup", _("The sign-up date (报名日)")
    DAYS = "days", _("The campaign's days")
    AFTER_END = "after_end", _("After the campaign's last day")
    AFTER_STEP = "after_step", _("After another step is done")


class CampaignStep(PlaybookRow):
    """One task of a campaign template: a role, a title, and its day counted from its anchor (报名日, the campaign's
    days, its last day, or another step done)."""

    template = models.ForeignKey(CampaignTemplate, on_delete=models.CASCADE, related_name="steps", verbose_name=_("template"))
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="+", verbose_name=_("role"))
    phase = models.CharField(_("phase"), max_length=10, choices=CampaignPhase.choices)
    # DAYS: existing steps keep counting from the campaign date as they always did.
    anchor = models.CharField(_("counted from"), max_length=10, choices=CampaignAnchor.choices, default=CampaignAnchor.DAYS)
    offset_days = models.SmallIntegerField(_("days from the anchor"), help_text=_("e.g. -14 for T-14, 7 for T+7"))
    # T-CAMPAIGN-3: the key window 报名日−14…报名日; the duty is due at the window's end and names its start.
    window_days = models.PositiveSmallIntegerField(_("window in days"), default=0)
    after = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="followers", verbose_name=_("after step")
    )
    due_time = models.TimeField(_("due at"), default=time(18, 0))
    title = models.CharField(_("title"), max_length=200)

    class Meta:
        verbose_name = _("campaign step")
        verbose_name_plural = _("campaign steps")
        ordering = ["template", "offset_days", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "playbook_id"], condition=~Q(playbook_id=""), name="checklists_campaignstep_playbook_id_once"
            ),
        ]

    def __str__(self) -> str:
        return f"T{self.offset_days:+d} {self.title}"


class CampaignQuerySet(models.QuerySet):
    def visible_to(self, viewer: Member) -> CampaignQuerySet:
        """Campaigns are the shop's: every member of the team sees them."""
        return self.filter(team_id=viewer.team_id)


class Campaign(models.Model):
    """A shop campaign on a date, e.g. 双11 on 2026-11-11, with its tasks per role."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="campaigns", verbose_name=_("team"))
    template = models.ForeignKey(CampaignTemplate, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("template"))
    name = models.CharField(_("name"), max_length=100)
    date = models.DateField(_("campaign date"))
    # PLAYBOOK v2 T-CAMPAIGN-3: the 14 days before 报名 are the key window, not the 14 days before the campaign.
    # Empty for campaigns created before it existed (their duties stay as they were made).
    signup_date = models.DateField(_("sign-up date (报名日)"), null=True, blank=True)
    created_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"))

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-date", "-id"]
        constraints = [models.UniqueConstraint(fields=["team", "name", "date"], name="checklists_campaign_once_per_name_date")]

    def __str__(self) -> str:
        return f"{self.name} {self.date}"


class PlanStageTemplate(PlaybookRow):
    """A stage of the plan process (T-PLAN): who does it and how many working days it gets."""

    class Who(models.TextChoices):
        DIRECTOR = "director", _("Director")
        LEADS = "leads", _("Every role lead")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="plan_stages", verbose_name=_("team"))
    order = models.PositiveSmallIntegerField(_("stage"))
    name = models.CharField(_("name"), max_length=100)
    who = models.CharField(_("who"), max_length=10, choices=Who.choices)
    days = models.PositiveSmallIntegerField(_("working days"), default=2)

    class Meta:
        verbose_name = _("plan stage")
        verbose_name_plural = _("plan stages")
        ordering = ["team", "order"]
        constraints = [models.UniqueConstraint(fields=["team", "order"], name="checklists_planstagetemplate_order_once")]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"


class PlanStatus(models.TextChoices):
    OPEN = "open", _("In progress")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class PlanQuerySet(models.QuerySet):
    def visible_to(self, viewer: Member) -> PlanQuerySet:
        return self.filter(team_id=viewer.team_id)


class Plan(models.Model):
    """A director's proposal moving through the seven stages of 方案流程, one stage open at a time."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="plans", verbose_name=_("team"))
    title = models.CharField(_("title"), max_length=200)
    proposal = models.TextField(_("proposal"), blank=True)
    stage = models.PositiveSmallIntegerField(_("current stage"), default=1)
    status = models.CharField(_("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.OPEN)
    created_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"))
    idempotency_key = idempotency_key_field()

    objects = PlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(stage__gte=1), name="checklists_plan_stage_positive"),
            idempotency_key_constraint(app_model="checklists_plan"),
        ]

    def __str__(self) -> str:
        return self.title


class TaskEvent(models.Model):
    """Who changed a duty, when, from where and what changed."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="events", verbose_name=_("duty"))
    actor = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("done by"))
    action = models.CharField(_("action"), max_length=20)
    changes = models.JSONField(_("changes"), default=dict)
    at = models.DateTimeField(_("when"))
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("duty record")
        verbose_name_plural = _("duty records")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.task_id} {self.at:%Y-%m-%d %H:%M}"


# Closed after the due time, as for checklist items.
TASK_LATE = Q(done_at__gt=F("due_at"))
