"""Duties with deadlines: create, complete and reopen them, from every source of PLAYBOOK §3.

Every write goes through one function here; the API, the pages, the meetings and the scheduler call them.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils.translation import gettext as _

from checklists.models import (
    DutyTemplate,
    Plan,
    PlanStageTemplate,
    PlanStatus,
    ProblemOrder,
    ScheduleKind,
    Task,
    TaskEvent,
    TaskSource,
    TaskStatus,
)
from opsteam.lib.clock import local_date, local_datetime, local_time
from opsteam.lib.idempotency import create_once
from opsteam.lib.numbers import decimal_parse
from opsteam.lib.text import text_clean, text_line
from roles.models import Cover, Member, MemberRole, Role, RoleCode, Team
from roles.selectors import cover_map_for_date, member_led_role_ids, member_role_links, workday_is

TITLE_MAX = 200
ORDER_NO = re.compile(r"[A-Za-z0-9_-]{1,64}")  # Taobao, Tmall and JD order numbers, and shops' own
DETAIL_MAX = 5000
# How far ahead an assigned duty may be due: a typo such as 2062 for 2026 is refused.
DUE_AHEAD_MAX = timedelta(days=400)
# T-24H and T-SHIP (001 §3, §9).
ORDER_DEADLINE = timedelta(hours=24)


# --- who may do what ------------------------------------------------------------------------------


def task_can_complete(*, task: Task, member: Member) -> bool:
    """Who does the duty (task_can_do), and who assigned it; a problem order's or an order to ship's duty only the
    former: completing it closes the order, and whoever logged the order does not close it for that (problem_order_close)."""
    assigner = task.source not in (TaskSource.PROBLEM_ORDER, TaskSource.SHIPMENT) and member.pk == task.created_by_id
    if assigner and task.team_id == member.team_id:
        return True
    return task_can_do(task=task, member=member)


def task_can_do(*, task: Task, member: Member) -> bool:
    """The owner or assignee (or their cover); anyone holding the role of a role duty; a lead of the role; the director."""
    if task.team_id != member.team_id:
        return False
    if member.is_director or member.user.is_superuser:
        return True
    if member.pk in (task.owner_id, task.assignee_id):
        return True
    # A cover arranged after the duty was made: the sweep reminds them of it, so they may close it.
    absent = [m for m in (task.owner_id, task.assignee_id) if m is not None]
    if absent and Cover.objects.filter(team_id=task.team_id, cover=member, absent_id__in=absent).on(task.date).exists():
        return True
    if task.role_id is None:
        return False
    if task.role_id in member_led_role_ids(member=member):
        return True
    return task.owner_id is None and any(link.role_id == task.role_id for link in member_role_links(member=member))


def task_can_assign(*, member: Member, owner: Member | None, role: Role | None) -> bool:
    """The director assigns to anyone in the team; a lead to their roles and the members holding them."""
    if member.is_director or member.user.is_superuser:
        return True
    led = member_led_role_ids(member=member)
    if not led:
        return False
    if role is not None and role.pk not in led:
        return False
    if owner is not None:
        return MemberRole.objects.filter(member=owner, role_id__in=led).exists()
    return True


# --- create -------------------------------------------------------------------------------------------


def _assignee_for(*, team: Team, owner: Member | None, day: date) -> Member | None:
    if owner is None:
        return None
    cover_id = cover_map_for_date(team=team, day=day).get(owner.pk)
    return Member.objects.get(pk=cover_id) if cover_id else owner


def _title_clean(title: str) -> str:
    title = text_line(title, field="title")
    if not title:
        raise ValidationError({"title": _("Give the duty a title, e.g. 提交补货表.")})
    if len(title) > TITLE_MAX:
        raise ValidationError({"title": _("The title is too long: at most %(max)d characters.") % {"max": TITLE_MAX}})
    return title


def task_create(
    *,
    team: Team,
    title: str,
    due_at: datetime,
    source: str,
    now: datetime,
    owner: Member | None = None,
    role: Role | None = None,
    created_by: Member | None = None,
    detail: str = "",
    source_key: str = "",
    playbook_id: str = "",
    target: int | None = None,
    unit: str = "",
    ip: str | None = None,
    idempotency_key: str | None = None,
    **links,
) -> Task:
    """Create one duty. With a `source_key`, a second call returns the first duty instead of a copy.

    `links` are the optional source rows: duty_template, campaign, plan, plan_stage.
    """
    title = _title_clean(title)
    detail = text_clean(detail)
    if source not in TaskSource.values:
        raise ValueError(f"task_create: unknown source {source!r}")  # a programming error, not user input
    if len(detail) > DETAIL_MAX:
        raise ValidationError({"detail": _("The description is too long: at most %(max)d characters.") % {"max": DETAIL_MAX}})
    if owner is None and role is None:
        raise ValidationError({"owner": _("Choose who does it: a member or a role.")})
    if owner is not None and owner.team_id != team.pk:
        raise ValidationError({"owner": _("This member is not in your team.")})
    if role is not None and role.team_id != team.pk:
        raise ValidationError({"role": _("This role is not in your team.")})
    if owner is not None and not owner.is_active:
        raise ValidationError({"owner": _("This member is no longer active.")})
    if due_at.tzinfo is None:
        raise ValidationError({"due_at": _("Give the due time with its time zone.")})
    if due_at > now + DUE_AHEAD_MAX:
        raise ValidationError({"due_at": _("The due date is too far ahead: at most 400 days from today.")})
    if source_key:
        existing = Task.objects.filter(team=team, source_key=source_key).first()
        if existing is not None:
            return existing
    if role is None and owner is not None:
        # A member's duty belongs to one of their roles, so its lead sees it and is escalated to.
        link = MemberRole.objects.filter(member=owner).select_related("role").order_by("role__order").first()
        role = link.role if link else None
    day = local_date(due_at)
    task = Task(
        team=team,
        source=source,
        playbook_id=playbook_id,
        title=title,
        detail=detail,
        role=role,
        owner=owner,
        assignee=_assignee_for(team=team, owner=owner, day=day),
        date=day,
        due_at=due_at,
        target=target,
        unit=unit,
        created_by=created_by,
        created_at=now,
        source_key=source_key,
        idempotency_key=idempotency_key,
        **links,
    )
    try:
        with transaction.atomic():
            task.save()
            TaskEvent.objects.create(
                task=task, actor=created_by, action="create", changes={"title": title, "due_at": due_at.isoformat()}, at=now, ip=ip
            )
    except IntegrityError:
        # A concurrent call with the same source key won the insert: return its duty.
        if source_key:
            return Task.objects.get(team=team, source_key=source_key)
        raise
    _assigned_notify(task=task, now=now)
    return task


# Sent with task=, recipients=, now= when a duty is given to a member (checklists.notify.duties receives it).
duty_assigned = Signal()
# Sent with task=, now= when a duty is done (checklists.duties.campaigns opens the steps that follow a campaign's step).
duty_done = Signal()

# Duties someone gives a member (issue 17): the member hears of it at once, not on their next look at the list.
# Recurring and checklist duties come every day at the same time and are not announced.
ANNOUNCED_SOURCES = {TaskSource.ADHOC, TaskSource.CAMPAIGN, TaskSource.PLAN, TaskSource.MEETING, TaskSource.PROBLEM_ORDER}


def _assigned_notify(*, task: Task, now: datetime) -> None:
    """Tell the member a duty was given to them. Duties sit below notify in the house (docs/architecture.md), so
    they announce it (duty_assigned) and notify's receiver writes the notification in this transaction."""
    if task.source not in ANNOUNCED_SOURCES or task.created_by_id is None:
        return  # only a duty someone gave is announced; one the system made on its own comes with the day
    person = task.assignee or task.owner
    if person is not None:
        recipients = [person]
    else:  # a role's duty (a campaign's step): everyone holding the role, as all of them see it on their day
        recipients = [link.member for link in MemberRole.objects.filter(role=task.role, member__is_active=True).select_related("member")]
    recipients = [m for m in recipients if m.pk != task.created_by_id]
    if recipients:
        duty_assigned.send(sender=Task, task=task, recipients=recipients, now=now)


def task_assign(
    *,
    member: Member,
    title: str,
    due_at: datetime,
    now: datetime,
    owner: Member | None = None,
    role: Role | None = None,
    detail: str = "",
    ip: str | None = None,
    idempotency_key: str | None = None,
) -> Task:
    """An ad-hoc duty that a lead or the director assigns; a repeat with the same idempotency key returns the first."""
    return create_once(
        model=Task,
        key=idempotency_key,
        scope={"created_by": member},
        create=lambda: _task_assign(
            member=member,
            title=title,
            due_at=due_at,
            now=now,
            owner=owner,
            role=role,
            detail=detail,
            ip=ip,
            idempotency_key=idempotency_key,
        ),
    )


def _task_assign(
    *, member: Member, title: str, due_at: datetime, now: datetime, owner: Member | None, role: Role | None, detail: str,
    ip: str | None, idempotency_key: str | None,
) -> Task:  # fmt: skip
    if not task_can_assign(member=member, owner=owner, role=role):
        raise PermissionDenied(_("Only a lead (for their role) or the director can assign duties."))
    if due_at < now - timedelta(days=1):
        raise ValidationError({"due_at": _("The due time is in the past.")})
    if role is None and owner is not None:
        # The duty belongs to one of the owner's roles, so its lead is escalated to and can see it:
        # a role the assigner leads first, else the owner's first role.
        links = list(MemberRole.objects.filter(member=owner).select_related("role").order_by("role__order"))
        led = member_led_role_ids(member=member)
        role = next((link.role for link in links if link.role_id in led), links[0].role if links else None)
    return task_create(
        team=member.team, title=title, due_at=due_at, source=TaskSource.ADHOC, now=now, owner=owner, role=role,
        created_by=member, detail=detail, ip=ip, idempotency_key=idempotency_key,
    )  # fmt: skip


# --- complete and reopen --------------------------------------------------------------------------


@transaction.atomic
def task_complete(
    *, task: Task, member: Member, now: datetime, note: str = "", value=None, ip: str | None = None, status: str = TaskStatus.DONE
) -> Task:
    """Mark a duty done (or not done, with a note saying why). Idempotent: closing a closed duty changes nothing.
    Closing stops its escalation chain. A count short of its target (8 of 10) is recorded as it is, shown short of
    the target (Task.shortfall), never refused (issue 17)."""
    # of=("self",): lock the duty only; with the joined team row locked too, every completion in the team waited for this one.
    task = Task.objects.select_for_update(of=("self",)).select_related("team").get(pk=task.pk)
    if not task_can_complete(task=task, member=member):
        raise PermissionDenied(_("You cannot close this duty: it belongs to someone else."))
    if status not in (TaskStatus.DONE, TaskStatus.NOT_DONE):
        raise ValueError(f"task_complete: cannot close as {status!r}")  # a programming error, not user input
    if task.status in (TaskStatus.DONE, TaskStatus.NOT_DONE):
        return task
    if task.status == TaskStatus.CANCELLED:
        raise ValidationError(_("This duty was cancelled."))
    number = decimal_parse(value, column=Task._meta.get_field("value"))
    if status == TaskStatus.DONE and task.target and number is None:
        raise ValidationError({"value": _("Enter how many you did: the target is %(target)d.") % {"target": task.target}})
    if task.target and number is not None and (number < 0 or number != number.to_integral_value()):
        raise ValidationError({"value": _("A count is a whole number, 0 or more.")})
    if len(note) > DETAIL_MAX:
        raise ValidationError({"note": _("The note is too long: at most %(max)d characters.") % {"max": DETAIL_MAX}})
    if status == TaskStatus.NOT_DONE and not note.strip():
        raise ValidationError({"note": _("Say why this duty is not done: a note is required.")})
    task.status = status
    task.done_at = now
    task.done_by = member
    task.value = number
    task.note = text_clean(note)
    task.save(update_fields=["status", "done_at", "done_by", "value", "note"])
    changes = {"status": status, "note": task.note} | ({"value": str(number)} if number is not None else {})
    TaskEvent.objects.create(task=task, actor=member, action="complete", changes=changes, at=now, ip=ip)
    from checklists.escalation.models import escalation_resolve

    escalation_resolve(task=task, now=now)
    if task.plan_id and status == TaskStatus.DONE:
        plan_advance(plan_id=task.plan_id, now=now)
    if status == TaskStatus.DONE:
        duty_done.send(sender=Task, task=task, now=now)  # checklists.duties.campaigns: T-CAMPAIGN-11 after T-CAMPAIGN-10
    if hasattr(task, "problem_order") and task.problem_order.closed_at is None:
        ProblemOrder.objects.filter(pk=task.problem_order.pk).update(closed_at=now, closed_by=member, resolution=task.note)
    return task


@transaction.atomic
def task_reopen(*, task: Task, member: Member, now: datetime, ip: str | None = None) -> Task:
    task = Task.objects.select_for_update().get(pk=task.pk)
    if not task_can_complete(task=task, member=member):
        raise PermissionDenied(_("You cannot reopen this duty: it belongs to someone else."))
    if task.status not in (TaskStatus.DONE, TaskStatus.NOT_DONE):
        return task
    # The value stays (issue 17): undoing a count of 8 by mistake does not lose the 8; the form shows it again.
    task.status, task.done_at, task.done_by = TaskStatus.OPEN, None, None
    task.save(update_fields=["status", "done_at", "done_by"])
    from checklists.escalation.models import escalation_reopen

    escalation_reopen(task=task, now=now)  # completing it had stopped its chain
    TaskEvent.objects.create(task=task, actor=member, action="reopen", changes={"status": "open"}, at=now, ip=ip)
    return task


# --- recurring duties (T-RESTOCK, T-WEEKLY-PROMO, T-CONTENT, T-TITLE, T-SUMMARY) ----------------


@dataclass
class DutyResult:
    team: str
    day: date
    workday: bool = True
    created: int = 0
    templates: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.workday:
            return f"{self.team} {self.day}: not a working day, no duties"
        return f"{self.team} {self.day}: {self.created} duties created ({', '.join(self.templates) or 'none due yet'})"


def _duty_falls_on(*, team: Team, template: DutyTemplate, day: date) -> bool:
    """The template's schedule, except that a monthly duty whose day is off comes on the next working day.

    Otherwise T-SUMMARY on the 1st would be skipped in every month whose 1st is a holiday or a weekend
    (half of 2026). `day` is a working day (the caller checks).
    """
    if template.schedule != ScheduleKind.MONTHLY or not template.month_day or day.day <= template.month_day:
        return template.falls_on(day)
    probe = day.replace(day=template.month_day)
    while probe < day:
        if workday_is(team=team, day=probe):
            return False  # the duty had a working day this month already
        probe += timedelta(days=1)
    return True


def duties_generate_for_date(*, team: Team, day: date, now: datetime) -> DutyResult:
    """One duty per recurring template and day, owned by the role (anyone holding it may close it).

    Set-based and idempotent like the checklists: the source key's unique constraint decides.
    """
    result = DutyResult(team=team.slug, day=day)
    if not workday_is(team=team, day=day):
        result.workday = False
        return result
    today = local_date(now)
    if day > today:
        return result
    templates = [
        t
        for t in DutyTemplate.objects.filter(team=team, is_active=True).select_related("role")
        if _duty_falls_on(team=team, template=t, day=day) and (day < today or t.generate_at <= local_time(now))
    ]
    result.templates = [t.playbook_id or t.name for t in templates]
    batch = uuid.uuid4()
    rows = [
        Task(
            team=team,
            source=TaskSource.RECURRING,
            playbook_id=t.playbook_id,
            title=t.title_on(day),
            detail=t.note,
            role=t.role,
            date=day,
            due_at=local_datetime(day, t.due_at),
            target=t.target,
            unit=t.unit,
            created_at=now,
            source_key=f"duty:{t.pk}:{day.isoformat()}",
            duty_template=t,
            escalation_policy=t.escalation_policy,
            batch=batch,
        )
        for t in templates
    ]
    with transaction.atomic():
        Task.objects.bulk_create(rows, ignore_conflicts=True)
        result.created = Task.objects.filter(batch=batch).count()
    return result


# --- problem orders (T-24H) and orders to ship (T-SHIP) ---------------------------------------------


# --- campaigns (T-CAMPAIGN) -------------------------------------------------------------------------


# --- plans (T-PLAN) ---------------------------------------------------------------------------------


def _stage_roles(*, team: Team, stage: PlanStageTemplate) -> list[tuple[Role | None, Member | None]]:
    """Who works on a stage: the director, or each role with a lead (one duty per role, owned by its lead)."""
    director = Member.objects.filter(team=team, is_director=True).active().order_by("pk").first()
    director_role = Role.objects.filter(team=team, code=RoleCode.DIRECTOR).first()
    if stage.who == PlanStageTemplate.Who.DIRECTOR:
        return [(director_role, director)]
    links = MemberRole.objects.filter(role__team=team, is_lead=True).exclude(role__code=RoleCode.DIRECTOR).select_related("role", "member")
    # No role has a lead yet (a small shop): the director does the stage; with no duty open the plan would wait for ever.
    return [(link.role, link.member) for link in links.order_by("role__order")] or [(director_role, director)]


def _add_workdays(*, team: Team, day: date, days: int) -> date:
    added = 0
    while added < days:
        day += timedelta(days=1)
        if workday_is(team=team, day=day):
            added += 1
    return day


def _plan_stage_open(*, plan: Plan, order: int, now: datetime) -> None:
    stage = PlanStageTemplate.objects.filter(team=plan.team, order=order).first()
    if stage is None:
        return
    due_day = _add_workdays(team=plan.team, day=local_date(now), days=stage.days)
    due = local_datetime(due_day, local_time(now).replace(second=0, microsecond=0))
    for role, owner in _stage_roles(team=plan.team, stage=stage):
        task_create(
            team=plan.team,
            title=f"{plan.title}:{stage.order}. {stage.name}",
            detail=plan.proposal,
            due_at=due,
            source=TaskSource.PLAN,
            now=now,
            role=role,
            owner=owner,
            created_by=plan.created_by,
            source_key=f"plan:{plan.pk}:stage:{order}:role:{role.pk if role else 0}",
            playbook_id="T-PLAN",
            plan=plan,
            plan_stage=order,
        )


def plan_create(*, member: Member, title: str, proposal: str = "", now: datetime, idempotency_key: str | None = None) -> Plan:
    """The director's proposal (方案流程): stage 1 opens at once. A repeat with the same idempotency key returns the first."""
    return create_once(
        model=Plan,
        key=idempotency_key,
        scope={"created_by": member},
        create=lambda: _plan_create(member=member, title=title, proposal=proposal, now=now, idempotency_key=idempotency_key),
    )


def _plan_create(*, member: Member, title: str, proposal: str, now: datetime, idempotency_key: str | None) -> Plan:
    if not (member.is_director or member.user.is_superuser):
        raise PermissionDenied(_("Only the director starts a plan."))
    title = _title_clean(title)
    if len(proposal) > DETAIL_MAX:
        raise ValidationError({"proposal": _("The proposal is too long: at most %(max)d characters.") % {"max": DETAIL_MAX}})
    if not PlanStageTemplate.objects.filter(team=member.team).exists():
        raise ValidationError(_("The plan stages are not loaded: run load_playbook."))
    with transaction.atomic():
        plan = Plan.objects.create(
            team=member.team, title=title, proposal=text_clean(proposal), created_by=member, created_at=now, idempotency_key=idempotency_key
        )
        _plan_stage_open(plan=plan, order=1, now=now)
    return plan


def plan_advance(*, plan_id: int, now: datetime) -> Plan:
    """When every duty of the current stage is done, open the next one (or finish the plan)."""
    plan = Plan.objects.select_for_update().get(pk=plan_id)
    if plan.status != PlanStatus.OPEN:
        return plan
    if Task.objects.filter(plan=plan, plan_stage=plan.stage).exclude(status__in=[TaskStatus.DONE, TaskStatus.CANCELLED]).exists():
        return plan
    last = PlanStageTemplate.objects.filter(team=plan.team).order_by("-order").values_list("order", flat=True).first() or 0
    if plan.stage >= last:
        plan.status = PlanStatus.DONE
        plan.save(update_fields=["status"])
        return plan
    plan.stage += 1
    plan.save(update_fields=["stage"])
    _plan_stage_open(plan=plan, order=plan.stage, now=now)
    return plan
