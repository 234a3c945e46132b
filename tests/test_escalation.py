"""The escalation chain with a frozen clock: levels at their minute, acknowledge, tick, quiet hours, days off, covers, links."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from checklists.daily.ticks import tick_record
from checklists.duties.services import task_complete, task_create
from checklists.escalation import notifying as escalation_service
from checklists.escalation.acknowledging import escalation_acknowledge, escalation_acknowledge_by_link
from checklists.escalation.notifying import ack_token_make
from checklists.escalation.policies import policy_default_ensure
from checklists.escalation.raising import escalation_sweep
from checklists.models import (
    ChecklistItem,
    Delivery,
    Escalation,
    EscalationLevel,
    EscalationStatus,
    ItemStatus,
    Notification,
    NotifyWhom,
    TaskSource,
)
from opsteam.lib.clock import business_tz
from roles.models import Role
from roles.services import cover_create
from tests.factories import member_with_role


def at(month: int, day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=business_tz())


def monday(hh: int, mm: int = 0) -> datetime:
    return at(11, 23, hh, mm)


def sweep(team, start: datetime, end: datetime, *, every: int = 5) -> None:
    """Run the sweep from start to end inclusive, every `every` minutes.

    Beat runs it every minute; the default chain's levels fall on :00 and :30, so a sweep every 5 minutes
    meets each of them at its minute and keeps the fast tier fast. The main chain test sweeps every minute.
    """
    now = start
    while now <= end:
        escalation_sweep(team=team, now=now)
        now += timedelta(minutes=every)


def hhmm(moment: datetime) -> str:
    return moment.astimezone(business_tz()).strftime("%m-%d %H:%M")


def sent(**filters) -> list[tuple[str, str, str]]:
    """(when, to whom, kind) of every notification, in order."""
    rows = Notification.objects.filter(**filters).select_related("recipient").order_by("created_at", "id")
    return [(hhmm(n.created_at), n.recipient.display_name, n.kind) for n in rows]


def role(team, code: str) -> Role:
    return Role.objects.get(team=team, code=code)


def duty(team, *, owner=None, role_code="warehouse", due: datetime, now: datetime | None = None, title="提交补货表"):
    return task_create(
        team=team,
        title=title,
        due_at=due,
        source=TaskSource.ADHOC,
        now=now or due - timedelta(hours=3),
        owner=owner,
        role=role(team, role_code) if role_code else None,
    )


@pytest.fixture
def people(team, warehouse_member, warehouse_lead, director):
    """The warehouse member, their lead and the director, each with an email address (so deliveries are written)."""
    for member in (warehouse_member, warehouse_lead, director):
        member.user.email = f"{member.user.username}@shop.example"
        member.user.save(update_fields=["email"])
    return warehouse_member, warehouse_lead, director


# --- the default chain ---------------------------------------------------------------------------------


def test_the_default_policy_is_owner_before_due_then_lead_with_repeats_then_director(team):
    levels = list(policy_default_ensure(team=team).levels.order_by("order"))
    assert [(lv.offset_minutes, lv.notify, lv.repeat_every_minutes, lv.repeat_times, lv.urgent) for lv in levels] == [
        (-30, NotifyWhom.OWNER, 0, 0, False),
        (30, NotifyWhom.LEAD, 60, 2, False),
        (120, NotifyWhom.DIRECTOR, 0, 0, False),
    ]


def test_the_default_chain_fires_each_level_once_at_its_minute(team, people):
    member, lead, director = people
    task = duty(team, owner=member, due=monday(10))

    # Every minute while the chain runs, then every quarter of an hour to the evening: nothing more may come.
    sweep(team, monday(8), monday(13), every=1)
    sweep(team, monday(13, 15), monday(21), every=15)

    assert sent() == [
        ("11-23 09:30", member.display_name, "reminder"),  # owner, 30 min before due
        ("11-23 10:30", lead.display_name, "escalation"),  # lead at due + 30 min
        ("11-23 11:30", lead.display_name, "escalation"),  # repeat 1 (not acknowledged)
        ("11-23 12:00", director.display_name, "escalation"),  # director at due + 2 h
        ("11-23 12:30", lead.display_name, "escalation"),  # repeat 2, the last
    ]
    rows = list(Escalation.objects.filter(task=task).order_by("level_order"))
    assert [(e.level_order, hhmm(e.raised_at), e.recipient_id) for e in rows] == [
        (1, "11-23 09:30", member.pk),
        (2, "11-23 10:30", lead.pk),
        (3, "11-23 12:00", director.pk),
    ]
    assert rows[1].repeats_sent == 2
    assert rows[1].next_repeat_at is None
    # Every message is linked to the task's escalation it reports, and has an email waiting.
    assert all(n.escalations.filter(task=task).exists() for n in Notification.objects.all())
    assert Delivery.objects.filter(channel="email").count() == 5


def test_acknowledging_stops_the_repeats_but_the_next_level_still_comes(team, people):
    member, lead, director = people
    task = duty(team, owner=member, due=monday(10))
    sweep(team, monday(9), monday(10, 45))
    lead_level = Escalation.objects.get(task=task, level_order=2)

    escalation_acknowledge(escalation=lead_level, member=lead, now=monday(10, 45))
    sweep(team, monday(10, 50), monday(14))

    assert sent(created_at__gt=monday(10, 45)) == [("11-23 12:00", director.display_name, "escalation")]
    lead_level.refresh_from_db()
    assert (lead_level.status, lead_level.acknowledged_by, lead_level.repeats_sent) == (EscalationStatus.ACKNOWLEDGED, lead, 0)


def test_acknowledging_twice_changes_nothing(team, people):
    member, lead, _director = people
    task = duty(team, owner=member, due=monday(10))
    escalation_sweep(team=team, now=monday(10, 30))
    level = Escalation.objects.get(task=task, level_order=2)
    escalation_acknowledge(escalation=level, member=lead, now=monday(10, 40))
    again = escalation_acknowledge(escalation=level, member=lead, now=monday(10, 50))
    assert again.acknowledged_at == monday(10, 40)


def test_ticking_an_item_stops_everything(team, people, generate):
    member, lead, director = people
    generate(monday(8))
    item = ChecklistItem.objects.get(checklist__member=member, playbook_id="SC-WH-2")
    sweep(team, monday(9, 25), monday(10, 40))
    assert set(Escalation.objects.filter(item=item).values_list("level_order", flat=True)) == {1, 2}

    tick_record(item=item, actor=member, now=monday(10, 40))
    sweep(team, monday(10, 45), monday(13, 30))

    # No director level and no repeat for the ticked item ...
    assert set(Escalation.objects.filter(item=item).values_list("level_order", flat=True)) == {1, 2}
    assert not Notification.objects.filter(created_at__gt=monday(10, 40), escalations__item=item).exists()
    assert set(Escalation.objects.filter(item=item).values_list("status", flat=True)) == {EscalationStatus.RESOLVED}
    # ... while the items left open went on up the chain.
    assert Notification.objects.filter(recipient=director, created_at=monday(12)).exists()
    assert Notification.objects.filter(recipient=lead, created_at=monday(11, 30)).exists()


def test_marking_an_item_not_done_also_stops_its_chain(team, people, generate):
    member, _lead, _director = people
    generate(monday(8))
    item = ChecklistItem.objects.get(checklist__member=member, playbook_id="SC-WH-3")  # due 18:00
    escalation_sweep(team=team, now=monday(17, 30))
    tick_record(item=item, actor=member, status=ItemStatus.NOT_DONE, note="缺货", now=monday(17, 45))
    sweep(team, monday(17, 50), monday(20, 30))
    assert list(Escalation.objects.filter(item=item).values_list("level_order", flat=True)) == [1]


def test_completing_a_duty_stops_everything(team, people):
    member, _lead, _director = people
    task = duty(team, owner=member, due=monday(10))
    sweep(team, monday(9), monday(10, 35))
    task_complete(task=task, member=member, now=monday(10, 35))
    sweep(team, monday(10, 40), monday(13))
    assert sorted(Escalation.objects.filter(task=task).values_list("level_order", flat=True)) == [1, 2]
    assert sent(created_at__gt=monday(10, 35)) == []


def test_undoing_a_tick_takes_the_chain_up_again(team, people, generate):
    from checklists.daily.ticks import tick_undo

    member, lead, director = people
    generate(monday(8))
    item = ChecklistItem.objects.get(checklist__member=member, playbook_id="SC-WH-2")  # due 10:00
    sweep(team, monday(9, 25), monday(10, 30))
    tick_record(item=item, actor=member, now=monday(10, 32))
    tick_undo(item=item, actor=member, now=monday(10, 34))  # ticked by mistake: still not done, and late
    assert set(Escalation.objects.filter(item=item).values_list("status", flat=True)) == {EscalationStatus.OPEN}
    sweep(team, monday(10, 35), monday(12, 5))
    # The lead's level repeats again an hour after the undo (at the 11:35 sweep), and the director's comes at 12:00.
    assert Notification.objects.filter(recipient=lead, created_at=monday(11, 35), escalations__item=item).exists()
    assert Notification.objects.filter(recipient=director, created_at=monday(12), escalations__item=item).exists()


def test_reopening_a_completed_duty_takes_its_chain_up_again(team, people):
    from checklists.duties.services import task_reopen

    member, _lead, director = people
    task = duty(team, owner=member, due=monday(10))
    sweep(team, monday(9), monday(10, 35))
    task_complete(task=task, member=member, now=monday(10, 35))
    task_reopen(task=task, member=member, now=monday(10, 40))
    sweep(team, monday(10, 45), monday(12, 5))
    assert Notification.objects.filter(recipient=director, created_at=monday(12), escalations__task=task).exists()


# --- quiet hours ---------------------------------------------------------------------------------------


def test_quiet_hours_hold_a_level_raised_at_23_until_8_next_morning(team, people):
    _member, lead, _director = people
    task = duty(team, owner=people[0], due=monday(22, 30))

    sweep(team, monday(22, 55), monday(23, 5))

    notification = Notification.objects.get(escalations__task=task, escalations__level_order=2)
    assert (hhmm(notification.created_at), notification.recipient) == ("11-23 23:00", lead)
    delivery = notification.deliveries.get(channel="email")
    assert delivery.not_before == at(11, 24, 8)
    assert delivery.next_attempt_at == at(11, 24, 8)


def test_an_urgent_level_goes_at_once_in_quiet_hours(team, people):
    EscalationLevel.objects.filter(policy=policy_default_ensure(team=team), order=2).update(urgent=True)
    task = duty(team, owner=people[0], due=monday(22, 30))

    escalation_sweep(team=team, now=monday(23))

    notification = Notification.objects.get(escalations__task=task, escalations__level_order=2)
    assert notification.urgent
    assert notification.deliveries.get(channel="email").not_before == monday(23)


def test_repeats_due_in_quiet_hours_wait_for_the_morning_instead_of_piling_up(team, people):
    member, lead, _director = people
    duty(team, owner=member, due=monday(21, 30))  # lead level at 22:00, in quiet hours

    sweep(team, monday(21, 30), at(11, 24, 10, 30), every=30)

    lead_messages = Notification.objects.filter(recipient=lead).order_by("created_at")
    releases = [hhmm(n.deliveries.get(channel="email").not_before) for n in lead_messages]
    # The level is held until 08:00; its repeats come an interval after the morning release, not in a heap at 08:00.
    assert releases == ["11-24 08:00", "11-24 09:00", "11-24 10:00"]


def test_a_repeat_that_falls_in_quiet_hours_is_sent_in_the_morning(team, people):
    member, lead, _director = people
    duty(team, owner=member, due=monday(21))  # lead level at 21:30, its first repeat would be at 22:30

    sweep(team, monday(21, 30), at(11, 24, 10, 30), every=30)

    lead_messages = Notification.objects.filter(recipient=lead).order_by("created_at")
    assert [(hhmm(n.created_at), hhmm(n.deliveries.get(channel="email").not_before)) for n in lead_messages] == [
        ("11-23 21:30", "11-23 21:30"),
        ("11-24 08:00", "11-24 08:00"),
        ("11-24 09:00", "11-24 09:00"),
    ]


# --- working days --------------------------------------------------------------------------------------


def test_a_sunday_does_not_escalate_and_monday_catches_up_once(team, people):
    member, lead, director = people
    sunday = at(11, 22, 10)
    task = duty(team, owner=member, due=sunday, now=at(11, 20, 17))

    sweep(team, at(11, 22, 8), at(11, 22, 21), every=15)
    assert not Escalation.objects.exists()

    sweep(team, monday(0), monday(0, 10))
    assert sorted((e.level_order, hhmm(e.raised_at)) for e in Escalation.objects.filter(task=task)) == [
        (1, "11-23 00:00"),
        (2, "11-23 00:00"),
        (3, "11-23 00:00"),
    ]
    assert sorted(n.recipient.display_name for n in Notification.objects.all()) == sorted(
        [member.display_name, lead.display_name, director.display_name]
    )
    # Caught up in the night: the messages wait for the morning.
    assert set(Delivery.objects.values_list("not_before", flat=True)) == {monday(8)}


def test_national_day_does_not_escalate_and_the_next_working_day_catches_up_once(team, people):
    member, _lead, _director = people
    # Logged on 30 September, due on 1 October: the holiday runs to 7 October (2026).
    task = duty(team, owner=member, due=at(10, 1, 10), now=at(9, 30, 10))

    for day in range(1, 8):
        sweep(team, at(10, day, 9), at(10, day, 13), every=15)
    assert not Escalation.objects.exists()

    sweep(team, at(10, 8, 0), at(10, 8, 0, 5))
    assert sorted(Escalation.objects.filter(task=task).values_list("level_order", flat=True)) == [1, 2, 3]


def test_a_level_that_falls_on_the_weekend_comes_on_monday(team, people):
    member, _lead, director = people
    task = duty(team, owner=member, due=at(11, 20, 23))  # Friday 23:00: the director level would be Saturday 01:00

    sweep(team, at(11, 20, 22), at(11, 20, 23, 55))
    assert sorted(Escalation.objects.filter(task=task).values_list("level_order", flat=True)) == [1, 2]

    sweep(team, monday(0), monday(0, 10))
    director_level = Escalation.objects.get(task=task, level_order=3)
    assert (director_level.raised_at, director_level.recipient) == (monday(0), director)


def test_items_due_more_than_the_lookback_ago_are_not_escalated(team, people, settings):
    assert settings.OPSTEAM_ESCALATION_LOOKBACK_HOURS == 48
    member, _lead, _director = people
    old = duty(team, owner=member, due=at(11, 17, 10, 59), title="太久以前")  # Tuesday
    recent = duty(team, owner=member, due=at(11, 17, 11, 1), title="还在回看窗口内")

    escalation_sweep(team=team, now=at(11, 19, 11))  # Thursday 11:00: 48 h back is Tuesday 11:00

    assert not Escalation.objects.filter(task=old).exists()
    assert Escalation.objects.filter(task=recent).count() == 3


# --- who is told ---------------------------------------------------------------------------------------


def test_the_owner_level_goes_to_the_member_covering_the_owner(team, people, warehouse_teammate):
    member, _lead, _director = people
    task = duty(team, owner=member, due=monday(10), now=monday(7))
    cover_create(absent=member, cover=warehouse_teammate, start_date=date(2026, 11, 23), end_date=date(2026, 11, 23))

    escalation_sweep(team=team, now=monday(9, 30))

    assert sent() == [("11-23 09:30", warehouse_teammate.display_name, "reminder")]
    assert Escalation.objects.get(task=task, level_order=1).recipient == warehouse_teammate


def test_a_checklist_item_s_reminder_goes_to_a_cover_arranged_after_the_lists_were_made(team, people, warehouse_teammate, generate):
    member, _lead, _director = people
    generate(monday(7))
    cover_create(absent=member, cover=warehouse_teammate, start_date=date(2026, 11, 23), end_date=date(2026, 11, 23))

    escalation_sweep(team=team, now=monday(9, 30))

    item = ChecklistItem.objects.get(checklist__member=member, playbook_id="SC-WH-2")
    assert Escalation.objects.get(item=item, level_order=1).recipient == warehouse_teammate
    assert not Notification.objects.filter(recipient=member).exists()


def test_a_role_without_a_lead_escalates_to_the_director(team, people, service_member):
    _member, _lead, director = people
    task = duty(team, owner=service_member, role_code="service", due=monday(10))

    escalation_sweep(team=team, now=monday(10, 30))

    lead_level = Escalation.objects.get(task=task, level_order=2)
    assert lead_level.recipient == director
    assert Notification.objects.get(escalations=lead_level).recipient == director


def test_a_lead_s_own_late_duty_goes_past_them_to_the_director(team, people):
    _member, lead, director = people
    task = duty(team, owner=lead, due=monday(10))

    escalation_sweep(team=team, now=monday(10, 30))

    assert Escalation.objects.get(task=task, level_order=2).recipient == director


def test_a_role_duty_reminds_every_member_of_the_role_once(team, people, warehouse_teammate):
    member, lead, _director = people
    task = duty(team, owner=None, due=monday(10))

    sweep(team, monday(9, 29), monday(9, 31), every=1)

    assert sorted(r for _when, r, _kind in sent()) == sorted(m.display_name for m in (member, lead, warehouse_teammate))
    assert Escalation.objects.filter(task=task).count() == 1


def test_a_role_duty_nobody_holds_reminds_the_director(team, people):
    _member, _lead, director = people
    task = duty(team, owner=None, role_code="design", due=monday(10))  # nobody holds 美工 yet

    escalation_sweep(team=team, now=monday(9, 30))

    owner_level = Escalation.objects.get(task=task, level_order=1)
    assert (owner_level.recipient, owner_level.error) == (director, "")
    assert sent() == [("11-23 09:30", director.display_name, "reminder")]


def test_one_failing_item_does_not_stop_the_rest_and_is_retried_next_sweep(team, people, warehouse_teammate, monkeypatch):
    member, _lead, _director = people
    broken = duty(team, owner=member, due=monday(10), title="会出错的")
    fine = duty(team, owner=warehouse_teammate, due=monday(10), title="正常的")
    real = escalation_service._recipients

    def recipients(ctx, escalation):
        if escalation.task_id == broken.pk:
            raise RuntimeError("boom")
        return real(ctx, escalation)

    monkeypatch.setattr(escalation_service, "_recipients", recipients)
    result = escalation_sweep(team=team, now=monday(9, 30))

    assert result.failed == 1
    assert sent() == [("11-23 09:30", warehouse_teammate.display_name, "reminder")]
    failed = Escalation.objects.get(task=broken, level_order=1)
    assert failed.notified_at is None
    assert "boom" in failed.error
    assert Escalation.objects.get(task=fine, level_order=1).notified_at == monday(9, 30)

    monkeypatch.setattr(escalation_service, "_recipients", real)
    escalation_sweep(team=team, now=monday(9, 31))

    failed.refresh_from_db()
    assert (failed.notified_at, failed.error, failed.recipient) == (monday(9, 31), "", member)
    assert sent(recipient=member) == [("11-23 09:31", member.display_name, "reminder")]
    assert Escalation.objects.filter(level_order=1).count() == 2


def test_a_failed_level_whose_duty_is_done_meanwhile_is_not_sent_on_the_retry(team, people, monkeypatch):
    member, _lead, _director = people
    task = duty(team, owner=member, due=monday(10))

    def broken(ctx, escalation):
        raise RuntimeError("boom")

    monkeypatch.setattr(escalation_service, "_recipients", broken)
    escalation_sweep(team=team, now=monday(9, 30))
    monkeypatch.undo()
    task_complete(task=task, member=member, now=monday(9, 40))
    escalation_sweep(team=team, now=monday(9, 45))

    assert not Notification.objects.exists()
    level = Escalation.objects.get(task=task)
    assert (level.status, level.notified_at) == (EscalationStatus.RESOLVED, monday(9, 45))


def test_one_message_per_recipient_and_level_groups_several_items(team, people, warehouse_teammate, generate):
    member, lead, _director = people
    generate(monday(8))
    due_at_ten = ChecklistItem.objects.filter(checklist__member=member, is_group=False, due_at=monday(10))
    assert due_at_ten.count() == 7  # SC-WH-1a..f, SC-WH-2 (SC-WH-4 is 运营's in PLAYBOOK v2)

    escalation_sweep(team=team, now=monday(9, 30))

    mine = Notification.objects.get(recipient=member)
    assert set(mine.escalations.values_list("item_id", flat=True)) == set(due_at_ten.values_list("id", flat=True))
    assert mine.deliveries.count() == 1  # one email, not seven
    assert mine.body.count("#item-") == 7  # one line (and link) per item

    escalation_sweep(team=team, now=monday(10, 30))
    lead_messages = Notification.objects.filter(recipient=lead, kind="escalation")
    assert lead_messages.count() == 1  # both members' items in one message (the lead's own go to the director)
    assert set(lead_messages.get().escalations.values_list("item__checklist__member", flat=True)) == {member.pk, warehouse_teammate.pk}
    assert lead_messages.get().escalations.count() == 14  # seven items each


def test_running_the_sweep_twice_at_the_same_minute_notifies_once(team, people):
    member, _lead, _director = people
    duty(team, owner=member, due=monday(10))
    first = escalation_sweep(team=team, now=monday(10, 30))
    second = escalation_sweep(team=team, now=monday(10, 30))
    assert (first.raised, second.raised, second.notified) == (2, 0, 0)
    assert Notification.objects.count() == 2


# --- acknowledging -------------------------------------------------------------------------------------


@pytest.fixture
def lead_message(team, people):
    """The lead's message at Monday 10:30 for the member's duty due at 10:00."""
    member, lead, _director = people
    task = duty(team, owner=member, due=monday(10))
    escalation_sweep(team=team, now=monday(10, 30))
    return Notification.objects.get(recipient=lead, escalations__task=task)


def test_the_one_click_link_acknowledges_the_message_s_escalations(lead_message):
    with time_machine.travel(monday(10, 30), tick=False):
        token = ack_token_make(notification=lead_message)

    with time_machine.travel(monday(10, 40), tick=False):
        notification, count = escalation_acknowledge_by_link(token=token, now=monday(10, 40))

    assert (notification, count) == (lead_message, 1)
    escalation = lead_message.escalations.get()
    assert (escalation.status, escalation.acknowledged_by_id, escalation.next_repeat_at) == (
        EscalationStatus.ACKNOWLEDGED,
        lead_message.recipient_id,
        None,
    )
    lead_message.refresh_from_db()
    assert lead_message.read_at == monday(10, 40)


def test_opening_the_link_asks_first_and_the_button_acknowledges(lead_message, client):
    """A chat app's link preview fetches the page: that GET must not acknowledge for the person."""
    with time_machine.travel(monday(10, 30), tick=False):
        token = ack_token_make(notification=lead_message)
    with time_machine.travel(monday(10, 40), tick=False):
        page = client.get(f"/ack/{token}/", HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200
        assert "Acknowledge this message?" in page.content.decode()
        assert lead_message.title in page.content.decode()
        assert lead_message.escalations.get().status == EscalationStatus.OPEN
        done = client.post(f"/ack/{token}/", HTTP_ACCEPT_LANGUAGE="en")
        again = client.get(f"/ack/{token}/", HTTP_ACCEPT_LANGUAGE="en")
    assert done.status_code == 200
    assert "1 escalation acknowledged" in done.content.decode()
    assert lead_message.escalations.get().status == EscalationStatus.ACKNOWLEDGED
    assert "already used" in again.content.decode()


def test_links_in_a_message_open_where_the_app_runs_whatever_the_base_url(lead_message, settings):
    from checklists.templatetags.notifications import in_app_filter

    settings.OPSTEAM_BASE_URL = "https://ops.example.com"
    body = "已超时\n\n[确认收到：我在处理](https://ops.example.com/ack/abc/) [别处](https://example.org/x)"
    assert in_app_filter(body) == "已超时\n\n[确认收到：我在处理](/ack/abc/) [别处](https://example.org/x)"


def test_the_one_click_link_works_once(lead_message):
    with time_machine.travel(monday(10, 30), tick=False):
        token = ack_token_make(notification=lead_message)
        escalation_acknowledge_by_link(token=token, now=monday(10, 31))
        with translation.override("en"), pytest.raises(ValidationError, match="already used"):
            escalation_acknowledge_by_link(token=token, now=monday(10, 32))


def test_the_one_click_link_expires(lead_message, settings):
    with time_machine.travel(monday(10, 30), tick=False):
        token = ack_token_make(notification=lead_message)
    later = monday(10, 31) + timedelta(hours=settings.OPSTEAM_ACK_LINK_MAX_AGE_HOURS)
    with time_machine.travel(later, tick=False), translation.override("en"), pytest.raises(ValidationError, match="expired"):
        escalation_acknowledge_by_link(token=token, now=later)
    assert lead_message.escalations.get().status == EscalationStatus.OPEN


def test_a_tampered_link_is_refused(lead_message, director):
    with time_machine.travel(monday(10, 30), tick=False):
        token = ack_token_make(notification=lead_message)
        head, _sep, signature = token.rpartition(":")
        forged = f"{head}:{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
        with translation.override("en"), pytest.raises(ValidationError, match="not valid"):
            escalation_acknowledge_by_link(token=forged, now=monday(10, 31))
        with translation.override("en"), pytest.raises(ValidationError, match="not valid"):
            escalation_acknowledge_by_link(token="not-a-token", now=monday(10, 31))
    assert lead_message.escalations.get().status == EscalationStatus.OPEN


def test_a_link_signed_for_another_recipient_is_refused(lead_message, director):
    from django.core import signing

    token = signing.dumps({"n": lead_message.pk, "m": director.pk}, salt=escalation_service.ACK_SALT, compress=True)
    with translation.override("en"), pytest.raises(ValidationError, match="not valid"):
        escalation_acknowledge_by_link(token=token, now=monday(10, 31))


def test_every_member_reminded_of_a_role_duty_may_use_their_link(team, people, warehouse_teammate):
    duty(team, owner=None, due=monday(10))
    escalation_sweep(team=team, now=monday(9, 30))
    # The escalation records one recipient; the others got the same message and their links must work too.
    for notification in Notification.objects.all():
        with time_machine.travel(monday(9, 30), tick=False):
            token = ack_token_make(notification=notification)
            escalation_acknowledge_by_link(token=token, now=monday(9, 35))
    assert Escalation.objects.get().status == EscalationStatus.ACKNOWLEDGED


def test_only_the_recipient_a_lead_of_the_role_or_the_director_may_acknowledge(team, people, warehouse_teammate, outsider):
    member, lead, director = people
    service_lead = member_with_role(team, "service", lead=True, username="cslead")
    task = duty(team, owner=member, due=monday(10))
    escalation_sweep(team=team, now=monday(12))
    owner_level, lead_level, director_level = Escalation.objects.filter(task=task).order_by("level_order")

    for stranger in (warehouse_teammate, service_lead, outsider):
        with pytest.raises(PermissionDenied):
            escalation_acknowledge(escalation=lead_level, member=stranger, now=monday(12, 5))
    lead_level.refresh_from_db()
    assert lead_level.status == EscalationStatus.OPEN

    assert escalation_acknowledge(escalation=owner_level, member=member, now=monday(12, 5)).acknowledged_by == member
    assert escalation_acknowledge(escalation=lead_level, member=lead, now=monday(12, 5)).acknowledged_by == lead
    with pytest.raises(PermissionDenied):  # the role's lead cannot silence the level that tells the director
        escalation_acknowledge(escalation=director_level, member=lead, now=monday(12, 5))
    assert escalation_acknowledge(escalation=director_level, member=director, now=monday(12, 5)).acknowledged_by == director


# --- cost ----------------------------------------------------------------------------------------------


def _sweep_queries(team, now) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    Notification.objects.all().delete()
    Escalation.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        result = escalation_sweep(team=team, now=now)
    assert result.notified > 0
    return [q["sql"] for q in queries.captured_queries]


def test_a_sweep_costs_the_same_queries_however_many_members_the_shop_has(team, people, warehouse_teammate, generate):
    # Issue 8: the sweep read every member of the shop and their roles to find a few recipients.
    generate(monday(8))
    few = _sweep_queries(team, monday(10, 30))  # the owners' reminders and the lead's escalation
    for n in range(20):
        member_with_role(team, "warehouse", username=f"extra{n}")
    many = _sweep_queries(team, monday(10, 30))
    assert len(many) == len(few), "\n".join(many)
    # SQLite takes the ORM path: a query per level and an UPDATE per recipient (PostgreSQL: one statement each).
    # The directors and then whether their logins are active: two small queries, not one that reads every user.
    assert len(few) <= 48, "\n".join(few)
    # Members are read by id (the recipients, the directors), never the whole shop.
    members = [sql.split(" WHERE ", 1) for sql in many if 'FROM "roles_member"' in sql]
    whole_shop = [" WHERE ".join(parts) for parts in members if '"id" IN (' not in parts[-1] and '"is_director"' not in parts[-1]]
    assert members
    assert not whole_shop, "\n".join(whole_shop)


def test_an_escalations_role_is_emptied_when_the_role_is_deleted_without_a_database_key(team, warehouse_member, director, generate):
    """Escalation.role is not a database foreign key (issue 8): deleting a role still empties it, in Python."""
    generate()
    escalation_sweep(team=team, now=at(11, 23, 11))
    raised = Escalation.objects.filter(team=team)
    assert raised.exists()
    spare = Role.objects.create(team=team, code="spare", name="备用")  # no lists of its own to cascade
    one = raised.first()
    Escalation.objects.filter(pk=one.pk).update(role=spare)

    spare.delete()
    one.refresh_from_db()
    assert one.role_id is None


def test_a_level_raised_as_its_item_was_ticked_is_not_chased_afterwards(team, people, generate):
    """The race between a sweep's read and a tick's commit: the tick saw no escalation to resolve, the sweep
    raised one for an item that is done. The next sweeps stop it instead of repeating it."""
    from checklists.models import ChecklistItem

    member, _lead, _director = people
    generate(monday(8))
    item = ChecklistItem.objects.get(checklist__member=member, playbook_id="SC-WH-2")
    sweep(team, monday(10, 30), monday(10, 30))
    raised = Escalation.objects.filter(item=item).exclude(status=EscalationStatus.RESOLVED)
    assert raised.filter(next_repeat_at__isnull=False).exists()
    ChecklistItem.objects.filter(pk=item.pk).update(status="done", done_at=monday(10, 30), done_by=member)  # as the racing tick left it
    Escalation.objects.filter(item=item).update(notified_at=None)  # and one still waiting for its message

    sweep(team, monday(10, 35), monday(12))

    assert not raised.exists()
    assert Notification.objects.filter(created_at__gt=monday(10, 30), escalations__item=item).count() == 0
