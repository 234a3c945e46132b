"""Concurrent sweeps and a double-submitted problem order on PostgreSQL: each level once, one message per recipient and level."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from checklists.daily.generation import run_generate_for_date
from checklists.duties.services import task_create
from checklists.escalation.raising import escalation_sweep
from checklists.models import Delivery, Escalation, Notification, TaskSource
from roles.models import Role, Team
from tests.conftest import MONDAY
from tests.factories import member_with_role
from tests.integration.test_concurrency import run_at_once

pytestmark = pytest.mark.integration

NOON = MONDAY.replace(hour=12)  # the SC-WH items (due 10:00) have reached all three levels


def _late_day(team: Team) -> dict[str, object]:
    """Two warehouse members and their lead with the day's lists, a duty each, the service role without a lead; all late."""
    people = {
        "wh1": member_with_role(team, "warehouse", username="wh1"),
        "wh2": member_with_role(team, "warehouse", username="wh2"),
        "lead": member_with_role(team, "warehouse", lead=True, username="whlead"),
        "cs1": member_with_role(team, "service", username="cs1"),
        "boss": member_with_role(team, "director", lead=True, username="boss", is_director=True),
    }
    for member in people.values():
        member.user.email = f"{member.user.username}@shop.example"
        member.user.save(update_fields=["email"])
    run_generate_for_date(team=team, day=MONDAY.date(), now=MONDAY)
    for key in ("wh1", "wh2", "cs1"):
        member = people[key]
        task_create(
            team=team,
            title=f"盘点 {key}",
            due_at=MONDAY.replace(hour=10),
            source=TaskSource.ADHOC,
            now=MONDAY,
            owner=member,
            role=member.role_links.get().role,
        )
    task_create(
        team=team,
        title="仓库的共同任务",
        due_at=MONDAY.replace(hour=10),
        source=TaskSource.ADHOC,
        now=MONDAY,
        role=Role.objects.get(team=team, code="warehouse"),
    )
    return people


def _messages_per_recipient_and_level() -> Counter:
    """How many notifications each (recipient, level) pair got."""
    through = Notification.escalations.through
    pairs = set(through.objects.values_list("notification_id", "notification__recipient_id", "escalation__level_order"))
    return Counter((recipient, level) for _notification, recipient, level in pairs)


# Checked by hand (2026-11-23): without the row lock in _notify_pending (`select_for_update(skip_locked=True)`
# replaced by `.all()`) every one of the 8 sweeps notified all 84 escalations (SC-WH then had 8 items due 10:00;
# 672 notified, duplicate messages);
# without the lock and the `repeats_sent` guard in _repeat_due the 28 lead-level repeats were sent 224 times.
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_record_each_level_once_and_one_message_per_recipient_and_level(team):
    people = _late_day(team)

    def sweep(own_team: Team):
        return escalation_sweep(team=own_team, now=NOON)

    results = run_at_once(sweep, prepare=lambda _index: Team.objects.get(pk=team.pk))

    escalations = list(Escalation.objects.filter(team=team))
    subjects = Counter((e.item_id, e.task_id, e.level_order) for e in escalations)
    assert subjects.most_common(1)[0][1] == 1
    # 3 lists x 7 items due 10:00 (SC-WH-1a..f, SC-WH-2: SC-WH-4 is 运营's in PLAYBOOK v2) + 4 duties, three levels
    # each, every one raised by exactly one of the sweeps.
    assert len(escalations) == (3 * 7 + 4) * 3
    assert sum(r.raised for r in results) == len(escalations)
    assert sum(r.notified for r in results) == len(escalations)
    assert sum(r.failed for r in results) == 0
    assert all(e.notified_at == NOON for e in escalations)

    # One message per recipient and level, however many sweeps ran: the warehouse members get their reminders,
    # the lead the warehouse's lead level, the director the service lead level (no lead) and everyone's level 3.
    expected = [("wh1", 1), ("wh2", 1), ("lead", 1), ("cs1", 1), ("lead", 2), ("boss", 2), ("boss", 3)]
    assert _messages_per_recipient_and_level() == {(people[key].pk, level): 1 for key, level in expected}
    assert Notification.objects.count() == len(expected)
    # Every escalation went into exactly one message per member it was for.
    through = Notification.escalations.through
    per_escalation = Counter(through.objects.values_list("escalation_id", "notification__recipient_id"))
    assert max(per_escalation.values()) == 1
    assert Delivery.objects.filter(channel="email").count() == Notification.objects.count()

    # An hour later every sweep finds the lead level's first repeat: it goes out once.
    repeats = run_at_once(
        lambda own_team: escalation_sweep(team=own_team, now=NOON + timedelta(hours=1)), prepare=lambda _i: Team.objects.get(pk=team.pk)
    )

    assert sum(r.repeated for r in repeats) == Escalation.objects.filter(level_order=2).count()
    assert sum(r.raised for r in repeats) == 0
    assert set(Escalation.objects.filter(level_order=2).values_list("repeats_sent", flat=True)) == {1}
    later = Notification.objects.filter(created_at=NOON + timedelta(hours=1))
    assert Counter(later.values_list("recipient_id", flat=True)).most_common(1)[0][1] == 1


def test_the_database_refuses_a_second_escalation_for_the_same_duty_and_level(team):
    member = member_with_role(team, "warehouse", username="wh1")
    task = task_create(team=team, title="盘点", due_at=MONDAY.replace(hour=10), source=TaskSource.ADHOC, now=MONDAY, owner=member)
    escalation_sweep(team=team, now=NOON)
    first = Escalation.objects.get(task=task, level_order=2)

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Escalation.objects.create(
            team=team,
            task=task,
            level=first.level,
            level_order=2,
            notify=first.notify,
            due_at=first.due_at,
            raised_at=NOON,
            batch=uuid.uuid4(),
        )

    assert refused.value.__cause__.diag.constraint_name == "checklists_escalation_once_per_task_level"


# --- duties at once ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_problem_order_submitted_from_several_phones_at_once_is_logged_once_and_the_rest_are_told_why(team):
    from django.core.exceptions import ValidationError

    from checklists.duties.problems import problem_order_log
    from checklists.models import ProblemOrder, Task
    from roles.models import Member

    member = member_with_role(team, "service", username="cs1")

    def log(own_member: Member) -> str:
        try:
            problem_order_log(member=own_member, order_no="TB20261123001", kind="refund", now=MONDAY.replace(hour=10))
        except ValidationError as exc:
            return "refused: " + " ".join(exc.messages)
        return "logged"

    outcomes = run_at_once(log, prepare=lambda _index: Member.objects.select_related("team", "user").get(pk=member.pk))

    assert outcomes.count("logged") == 1
    assert all(outcome.startswith("refused: ") for outcome in outcomes if outcome != "logged")
    assert ProblemOrder.objects.count() == 1
    assert Task.objects.filter(source=TaskSource.PROBLEM_ORDER).count() == 1


# Checked by hand (2026-11-23): without select_for_update on the notification every click was accepted
# ("acknowledged 19" once and "acknowledged 0" seven times) instead of one use and seven refusals.
@pytest.mark.django_db(transaction=True)
def test_a_one_click_link_clicked_on_several_devices_at_once_acknowledges_once(team):
    from django.core.exceptions import ValidationError

    from checklists.escalation.acknowledging import escalation_acknowledge_by_link
    from checklists.escalation.notifying import ack_token_make
    from checklists.models import EscalationStatus

    people = _late_day(team)
    escalation_sweep(team=team, now=NOON)
    message = Notification.objects.filter(recipient=people["lead"], escalations__level_order=2).distinct().get()
    token = ack_token_make(notification=message)

    def click(_index) -> str:
        try:
            _notification, count = escalation_acknowledge_by_link(token=token, now=NOON + timedelta(minutes=5))
        except ValidationError as exc:
            return "refused: " + " ".join(exc.messages)
        return f"acknowledged {count}"

    outcomes = run_at_once(click)

    acknowledged = [outcome for outcome in outcomes if outcome.startswith("acknowledged")]
    assert acknowledged == [f"acknowledged {message.escalations.count()}"]
    assert len([outcome for outcome in outcomes if outcome.startswith("refused: ")]) == len(outcomes) - 1
    assert set(message.escalations.values_list("status", flat=True)) == {EscalationStatus.ACKNOWLEDGED}


# Checked by hand (2026-11-23): without the row lock on the plan in plan_advance, every lead saw the others'
# duties still open (not yet committed) and nobody opened stage 3: the plan stayed at stage 2 for ever.
@pytest.mark.django_db(transaction=True)
def test_leads_finishing_a_plan_stage_at_once_open_the_next_stage_once(team, monkeypatch):
    from checklists.duties import services as tasks_service
    from checklists.duties.services import plan_create, task_complete
    from checklists.models import Plan, Task, TaskEvent
    from roles.models import Member

    boss = member_with_role(team, "director", lead=True, username="boss", is_director=True)
    leads = [member_with_role(team, code, lead=True, username=f"lead-{code}") for code in ("operations", "promotion", "design", "service")]
    plan = plan_create(member=boss, title="春季上新方案", now=MONDAY)
    task_complete(task=plan.tasks.get(), member=boss, now=MONDAY.replace(hour=9))
    stage_two = {task.owner_id: task.pk for task in plan.tasks.filter(plan_stage=2)}
    assert sorted(stage_two) == sorted(lead.pk for lead in leads)

    def load(index: int):
        lead = Member.objects.select_related("user", "team").get(pk=leads[index].pk)
        return lead, Task.objects.get(pk=stage_two[lead.pk])

    def complete(loaded) -> None:
        lead, task = loaded
        task_complete(task=task, member=lead, now=MONDAY.replace(hour=10))

    real_advance = tasks_service.plan_advance

    def advance_after_a_pause(**kwargs):
        time.sleep(0.5)  # widen the window: every lead has closed their duty before any of them looks at the stage
        return real_advance(**kwargs)

    monkeypatch.setattr(tasks_service, "plan_advance", advance_after_a_pause)
    run_at_once(complete, prepare=load, threads=len(leads))

    plan = Plan.objects.get(pk=plan.pk)
    assert plan.stage == 3
    assert list(plan.tasks.filter(plan_stage=3).values_list("owner_id", flat=True)) == [boss.pk]
    assert TaskEvent.objects.filter(task__plan=plan, task__plan_stage=2, action="complete").count() == len(leads)
