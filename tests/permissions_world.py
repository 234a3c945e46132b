"""The people and objects the permission table (docs/permissions.md) is walked against.

Every object belongs to the staff member `wh1` of the team "shop" (or to the team as a whole); `outsider`
is a member of another team with the same playbook, so a foreign id is a real row, just not theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command

from checklists.daily.generation import run_generate_due
from checklists.duties.campaigns import campaign_create
from checklists.duties.models import CampaignTemplate
from checklists.duties.problems import problem_order_log
from checklists.duties.services import plan_create, task_create
from checklists.escalation.notifying import ack_token_make
from checklists.escalation.raising import escalation_sweep
from checklists.meetings.services import meetings_create_due
from checklists.models import ChecklistItem, Escalation, Meeting, Notification, Robot
from checklists.notify.services import notification_create
from checklists.playbook.services import playbook_load
from tests.conftest import MONDAY
from tests.factories import TeamFactory, member_with_role

ROLES = ("anonymous", "staff", "lead", "director", "admin", "other_team")


@dataclass
class World:
    people: dict = field(default_factory=dict)  # role name -> Member (anonymous: None)
    ids: dict = field(default_factory=dict)  # placeholder -> value


def world_build() -> World:
    team = TeamFactory(slug="shop", name="测试旗舰店")
    playbook_load(team=team)
    other = TeamFactory(slug="other", name="别家店铺")
    playbook_load(team=other)
    staff = member_with_role(team, "warehouse", username="wh1", display_name="陈仓库")
    lead = member_with_role(team, "warehouse", lead=True, username="whlead", display_name="冯仓库")
    director = member_with_role(team, "director", lead=True, username="boss", display_name="张总监", is_director=True)
    admin = member_with_role(team, "service", username="root", display_name="管理员")
    get_user_model().objects.filter(pk=admin.user_id).update(is_superuser=True, is_staff=True)
    outsider = member_with_role(other, "warehouse", username="outsider", display_name="外人")
    teammate = member_with_role(team, "warehouse", username="wh2", display_name="林仓库")

    run_generate_due(team=team, now=MONDAY)
    run_generate_due(team=other, now=MONDAY)
    item = ChecklistItem.objects.filter(checklist__member=staff, is_group=False).order_by("id").first()
    escalation_sweep(team=team, now=MONDAY + timedelta(hours=10))  # 18:00: the morning's items are late
    escalation = Escalation.objects.filter(team=team, recipient=staff).order_by("id").first()
    teammate_escalation = Escalation.objects.filter(team=team, recipient=teammate).order_by("id").first()
    notification = (
        Notification.objects.filter(recipient=staff, escalations=escalation).first()
        if escalation
        else notification_create(
            team=team, recipient=staff, kind="reminder", title="提醒", body="x", url="/today/", not_before=MONDAY, now=MONDAY
        )
    )
    robot = Robot.objects.create(team=team, kind="feishu", name="仓库群", webhook_url="http://127.0.0.1:9/hook", rate_per_minute=20)
    notification_create(team=team, recipient=staff, kind="reminder", title="提醒#1", body="x", url="/today/", not_before=MONDAY, now=MONDAY)
    delivery = robot.deliveries.order_by("id").first() if hasattr(robot, "deliveries") else None
    task = task_create(team=team, title="补货表", due_at=MONDAY + timedelta(hours=8), source="recurring", now=MONDAY, owner=staff)
    problem = problem_order_log(member=admin, order_no="3021123456789", kind="refund", now=MONDAY)
    template = CampaignTemplate.objects.filter(team=team).first()
    campaign = (
        campaign_create(member=director, template=template, name="双十二", day=MONDAY.date(), signup_date=MONDAY.date(), now=MONDAY)
        if template
        else None
    )
    plan = plan_create(member=director, title="年货节计划", now=MONDAY)
    meetings_create_due(team=team, now=MONDAY)
    meetings_create_due(team=other, now=MONDAY)
    meeting = Meeting.objects.filter(series__team=team).order_by("id").first()
    agenda = meeting.agenda_items.order_by("id").first() if meeting else None

    world = World()
    world.people = {"anonymous": None, "staff": staff, "lead": lead, "director": director, "admin": admin, "other_team": outsider}
    world.ids = {
        "item": item.pk,
        "checklist": item.checklist_id,
        "notification": notification.pk,
        "robot": robot.pk,
        "delivery": delivery.pk if delivery else 999999,
        "task": task.pk,
        "problem": problem.pk,
        "campaign": campaign.pk if campaign else 999999,
        "plan": plan.pk,
        "escalation": escalation.pk if escalation else 999999,
        "token": ack_token_make(notification=notification),
        "meeting": meeting.pk if meeting else 999999,
        "agenda": agenda.pk if agenda else 999999,
        "other_item": ChecklistItem.objects.filter(checklist__member=outsider).first().pk,
        "teammate_item": ChecklistItem.objects.filter(checklist__member=teammate, is_group=False).order_by("id").first().pk,
        "teammate_escalation": teammate_escalation.pk if teammate_escalation else 999999,
        "other_meeting": Meeting.objects.filter(series__team=other).values_list("pk", flat=True).first() or 999999,
        "staff_member": staff.pk,
        "other_member": outsider.pk,
        "warehouse_role": staff.role_links.get().role_id,
        "missing": 999999,  # an id no row has: a URL's own 404 once the caller passed its door
        "shop": team.slug,
        "act_token": "not-a-signed-token",
    }
    return world


WORLD_NOW = MONDAY + timedelta(hours=10)  # 18:00: the morning's items are late and escalated


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The world, built once per module with the clock at WORLD_NOW; each test's changes roll back (use `db`)."""
    traveller = time_machine.travel(WORLD_NOW, tick=False)
    traveller.start()
    with django_db_blocker.unblock():
        built = world_build()
    yield built
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)  # the next modules start from an empty database
    traveller.stop()
