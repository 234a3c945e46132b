"""Campaigns (T-CAMPAIGN, PLAYBOOK v2 §7.3): each step's duty on the day its row anchors it to.

报名日 (the sign-up date) for T-CAMPAIGN-3's key window, the campaign's days for 活动期间, the day after its last day for
活动结束后, and T-CAMPAIGN-11 once T-CAMPAIGN-10 is done. The 日常 rows (T-CAMPAIGN-1, -2, -4, -5) are standing duties,
not campaign steps.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from checklists.duties.services import _add_workdays, task_create
from checklists.models import Campaign, CampaignAnchor, CampaignStep, CampaignTemplate, Task, TaskSource
from opsteam.lib.clock import local_date, local_datetime
from opsteam.lib.text import text_line
from roles.models import Member, Team
from roles.selectors import member_led_role_ids, workday_is


def _workday_on_or_before(*, team: Team, day: date) -> date:
    for _step in range(14):
        if workday_is(team=team, day=day):
            return day
        day -= timedelta(days=1)
    return day


def _step_label(step: CampaignStep) -> str:
    """T-14 / T / T+7 from the campaign date; 报名日−14…报名日 for a window before the sign-up date."""
    if step.anchor == CampaignAnchor.SIGNUP:
        end = _("sign-up") + (f"{step.offset_days:+d}" if step.offset_days else "")
        return f"{_('sign-up')}{step.offset_days - step.window_days:+d}…{end}" if step.window_days else end
    if step.anchor == CampaignAnchor.AFTER_END:
        return _("after the campaign")
    return f"T{step.offset_days:+d}" if step.offset_days else "T"


def campaign_create(
    *,
    member: Member,
    template: CampaignTemplate,
    name: str,
    day: date,
    now: datetime,
    signup_date: date | None = None,
    ip: str | None = None,
) -> Campaign:
    """A lead or the director plans a campaign: one duty per step of the template, on the day its anchor gives.

    A step that falls on a day off moves to the working day before it. A step that follows another step (T-CAMPAIGN-11)
    gets its duty when that step's duty is done.
    """
    if not (member.is_director or member.user.is_superuser or member_led_role_ids(member=member)):
        raise PermissionDenied(_("Only a lead or the director can create a campaign."))
    if template.team_id != member.team_id:
        raise ValidationError({"template": _("This campaign template is not in your team.")})
    name = text_line(name, field="name") or template.name
    if len(name) > 100:
        raise ValidationError({"name": _("The name is too long: at most 100 characters.")})
    if abs((day - local_date(now)).days) > 366:
        raise ValidationError({"date": _("The campaign date must be within a year of today.")})
    steps = list(template.steps.select_related("role"))
    if signup_date is None and any(step.anchor == CampaignAnchor.SIGNUP for step in steps):
        raise ValidationError({"signup_date": _("Enter the sign-up date (报名日): this campaign has steps counted from it.")})
    if signup_date is not None and signup_date > day:
        raise ValidationError({"signup_date": _("The sign-up date comes before the campaign date.")})
    with transaction.atomic():
        try:
            with transaction.atomic():
                campaign = Campaign.objects.create(
                    team=member.team, template=template, name=name, date=day, signup_date=signup_date, created_by=member, created_at=now
                )
        except IntegrityError:
            raise ValidationError({"name": _("A campaign with this name already exists on this date.")}) from None
        for step in steps:
            if step.anchor == CampaignAnchor.AFTER_STEP:
                continue
            anchor = signup_date if step.anchor == CampaignAnchor.SIGNUP else day
            _step_task_create(campaign=campaign, step=step, day=anchor + timedelta(days=step.offset_days), now=now, ip=ip)
    return campaign


def _step_task_create(*, campaign: Campaign, step: CampaignStep, day: date, now: datetime, ip: str | None = None) -> Task:
    step_day = _workday_on_or_before(team=campaign.team, day=day)
    return task_create(
        team=campaign.team,
        title=f"{campaign.name} {_step_label(step)} {step.title}",
        due_at=local_datetime(step_day, step.due_time),
        source=TaskSource.CAMPAIGN,
        now=now,
        role=step.role,
        created_by=campaign.created_by,
        source_key=f"campaign:{campaign.pk}:step:{step.pk}",
        playbook_id=step.playbook_id or "T-CAMPAIGN",
        campaign=campaign,
        ip=ip,
    )


def campaign_followers_open_on_done(sender, *, task: Task, now: datetime, **kwargs) -> None:
    """Receiver of duties.services.duty_done (connected in ChecklistsConfig.ready)."""
    if task.campaign_id:
        campaign_followers_open(task=task, now=now)


def campaign_followers_open(*, task: Task, now: datetime) -> list[Task]:
    """A campaign duty is done: the steps that follow its step (T-CAMPAIGN-11 after -10) get their duties, due the
    step's offset in working days after today. Once: the source key keeps a reopened and re-closed duty from
    making a second."""
    prefix = f"campaign:{task.campaign_id}:step:"
    if not task.source_key.startswith(prefix):
        return []
    step_id = task.source_key.removeprefix(prefix)
    followers = CampaignStep.objects.filter(after_id=step_id, anchor=CampaignAnchor.AFTER_STEP).select_related("role")
    if not followers:
        return []
    campaign = Campaign.objects.select_related("team", "created_by").get(pk=task.campaign_id)
    today = local_date(now)
    return [
        _step_task_create(campaign=campaign, step=step, day=_add_workdays(team=campaign.team, day=today, days=step.offset_days), now=now)
        for step in followers
    ]
