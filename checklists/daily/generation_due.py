"""Which shops have lists to generate now: one query for every shop (issue 22).

Beat's `checklists.generate_due` runs every minute. Most minutes, and at every size, nothing is due: every
list of the morning is already there. Dispatching one task per shop to learn that cost 0.7x of a full run
(500 shops); at 10,000 shops it would take longer than the minute. This query names the shops that may have
something to create, and only those get a task.

It is a superset of what `run_generate_for_date` creates, never a subset (a shop it leaves out is a list not
made): a template it names is active, its generation time has come, the shop's calendar (override, else
the Chinese calendar) says today is a working day, the schedule falls on today, and at least one active
member of its role (the lead alone for a lead-only template) has no list from it today. The shop's task
then decides exactly, as it always did; a shop named here may still create nothing (e.g. a cover, or a
Chinese calendar year the package does not know yet, which the task warns about).
"""

from __future__ import annotations

from datetime import date, datetime

import chinese_calendar
from django.db.models import BooleanField, Exists, OuterRef, Q, Subquery

from checklists.models import Checklist, ChecklistTemplate
from opsteam.lib.clock import local_date, local_time
from roles.models import CalendarOverride, MemberRole


def _calendar_workday(day: date) -> bool:
    """The calendar's answer without a team's override (workday_is's rule, without its warning's write)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def teams_generation_due(*, now: datetime) -> list[int]:
    """The active shops with at least one list still to create at `now`, in id order. One query."""
    day = local_date(now)
    without_list = MemberRole.objects.filter(
        role_id=OuterRef("role_id"),
        member__team_id=OuterRef("team_id"),
        member__is_active=True,
        member__user__is_active=True,
    ).filter(
        ~Exists(Checklist.objects.filter(member_id=OuterRef("member_id"), template_id=OuterRef(OuterRef("pk")), date=day)),
    )
    # A lead-only template needs a lead without a list; any other, any member without one.
    without_list = without_list.filter(
        Q(is_lead=True) | Q(Exists(ChecklistTemplate.objects.filter(pk=OuterRef(OuterRef("pk")), lead_only=False)))
    )
    override = CalendarOverride.objects.filter(team_id=OuterRef("team_id"), date=day).values("is_workday")[:1]
    templates = (
        ChecklistTemplate.objects.filter(is_active=True, team__is_active=True, generate_at__lte=local_time(now))
        .annotate(workday_override=Subquery(override, output_field=BooleanField()))
        .filter(Exists(without_list))
        .only("id", "team_id", "schedule", "weekdays", "interval_weeks", "anchor_date", "month_day")
    )
    calendar_workday = _calendar_workday(day)
    due = {
        template.team_id
        for template in templates
        if template.falls_on(day) and (calendar_workday if template.workday_override is None else template.workday_override)
    }
    return sorted(due)
