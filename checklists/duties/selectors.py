"""Reads for duties, problem orders, campaigns, plans and escalations, each through its model's `visible_to`."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from checklists.models import (
    Campaign,
    Plan,
    PlanStageTemplate,
    ProblemOrder,
    Task,
    TaskStatus,
)
from opsteam.lib.clock import local_date
from roles.models import Member
from roles.selectors import member_role_links

# How far ahead the today page lists open duties, and how many at most.
TODAY_AHEAD_DAYS = 7
TODAY_DUTIES_LIMIT = 100
TASK_RELATED = ("role", "owner", "assignee", "done_by", "created_by")


def task_list(
    *, viewer: Member, status: str | None = None, mine: bool = False, day: date | None = None, source: str | None = None
) -> QuerySet[Task]:
    """Duties the viewer may see. `mine`: the ones the viewer does (own, covering, or their role's unowned duties)."""
    rows = Task.objects.visible_to(viewer).select_related(*TASK_RELATED)
    if mine:
        own_roles = {link.role_id for link in member_role_links(member=viewer)}
        rows = rows.filter(Q(assignee=viewer) | Q(owner=viewer) | Q(owner__isnull=True, role_id__in=own_roles))
    if status:
        rows = rows.filter(status=status)
    if day:
        rows = rows.filter(date=day)
    if source:
        rows = rows.filter(source=source)
    return rows.order_by("status", "due_at", "id")


def task_list_for_today(*, viewer: Member, member: Member, now: datetime) -> list[Task]:
    """The duties on a member's today page: open ones due within the coming week (overdue first), and today's done.

    A week ahead, not only today: an action item from yesterday's meeting due tomorrow, or a campaign's
    T-3 step, must be seen before the day it is due.
    """
    today = local_date(now)
    horizon = today + timedelta(days=TODAY_AHEAD_DAYS)
    own_roles = {link.role_id for link in member_role_links(member=member)}
    rows = (
        Task.objects.visible_to(viewer)
        .filter(Q(assignee=member) | Q(owner=member) | Q(owner__isnull=True, role_id__in=own_roles))
        .filter(
            Q(status=TaskStatus.OPEN, date__lte=horizon) | Q(status__in=[TaskStatus.DONE, TaskStatus.NOT_DONE], done_at__date__gte=today)
        )
        .select_related(*TASK_RELATED)
        .order_by("status", "due_at", "id")
    )
    return list(rows[:TODAY_DUTIES_LIMIT])


def task_access_by_id(*, viewer: Member, task_id) -> Task:
    try:
        return Task.objects.visible_to(viewer).select_related(*TASK_RELATED, "team").get(pk=int(task_id))
    except (Task.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def problem_order_list(*, viewer: Member, open_only: bool = False) -> QuerySet[ProblemOrder]:
    rows = ProblemOrder.objects.visible_to(viewer).select_related("logged_by", "closed_by", "task")
    if open_only:
        rows = rows.filter(closed_at__isnull=True)
    return rows.order_by("closed_at", "due_at", "-id") if open_only else rows.order_by("-logged_at", "-id")


def problem_order_access_by_id(*, viewer: Member, problem_id) -> ProblemOrder:
    try:
        return problem_order_list(viewer=viewer).get(pk=int(problem_id))
    except (ProblemOrder.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def campaign_list(*, viewer: Member) -> QuerySet[Campaign]:
    return (
        Campaign.objects.visible_to(viewer)
        .select_related("template", "created_by")
        .annotate(
            tasks_total=Count("tasks"),
            tasks_done=Count("tasks", filter=Q(tasks__status=TaskStatus.DONE)),
        )
        .order_by("-date", "-id")
    )


def campaign_access_by_id(*, viewer: Member, campaign_id) -> Campaign:
    try:
        return campaign_list(viewer=viewer).get(pk=int(campaign_id))
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def plan_list(*, viewer: Member) -> QuerySet[Plan]:
    return Plan.objects.visible_to(viewer).select_related("created_by").order_by("-created_at", "-id")


def plan_access_by_id(*, viewer: Member, plan_id) -> Plan:
    try:
        return plan_list(viewer=viewer).get(pk=int(plan_id))
    except (Plan.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def plan_stages(*, plan: Plan) -> list[dict]:
    """The seven stages with their duties, for the plan page."""
    tasks = list(plan.tasks.select_related(*TASK_RELATED).order_by("plan_stage", "role__order"))
    return [
        {"stage": stage, "tasks": [t for t in tasks if t.plan_stage == stage.order], "current": stage.order == plan.stage}
        for stage in PlanStageTemplate.objects.filter(team_id=plan.team_id).order_by("order")
    ]
