"""Meetings (issue 6): the scheduler, carried-over action items, safe Markdown, publishing, amendments, the API, reflections."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from checklists.duties.services import task_complete
from checklists.meetings.minutes import (
    action_item_create,
    agenda_notes_amend,
    agenda_notes_save,
    attendance_mark,
    decision_record,
    meeting_publish,
    reflection_save,
)
from checklists.meetings.services import meetings_create_due, series_falls_on
from checklists.models import (
    ActionItem,
    AgendaItem,
    AgendaKind,
    Amendment,
    Attendance,
    Meeting,
    MeetingReminder,
    MeetingSeries,
    MeetingStatus,
    Notification,
    Task,
    TaskSource,
    TaskStatus,
    WeeklyReflection,
)
from opsteam.lib.clock import business_tz
from opsteam.lib.text import markdown_render
from tests.conftest import MONDAY
from tests.factories import member_with_role

# Real 2026 dates from the Chinese calendar (chinese_calendar 1.11).
WORKING_FRIDAY = date(2026, 11, 27)
HOLIDAY_SATURDAY = date(2026, 10, 3)  # 国庆节
HOLIDAY_FRIDAY = date(2026, 10, 2)  # 国庆节, a weekday off
TIAOXIU_SATURDAY = date(2026, 10, 10)  # 调休: a Saturday worked in place of the holiday
HOLIDAY_MONDAY = date(2026, 10, 5)  # the weekly meeting of that week moves to the first working day


def at(day: date, hour: int = 8, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=business_tz())


def series(team, playbook_id: str) -> MeetingSeries:
    return MeetingSeries.objects.get(team=team, playbook_id=playbook_id)


def meeting_on(team, playbook_id: str, day: date) -> Meeting | None:
    return Meeting.objects.filter(series__team=team, series__playbook_id=playbook_id, date=day).first()


@pytest.fixture
def operations_lead(team):
    return member_with_role(team, "operations", lead=True, username="opslead", display_name="王运营")


@pytest.fixture
def weekly(team, director, warehouse_member):
    """This Monday's weekly meeting (chaired by the director), created by the scheduler."""
    meetings_create_due(team=team, now=MONDAY)
    return meeting_on(team, "M-WEEKLY", MONDAY.date())


# --- the series and the scheduler ------------------------------------------------------------------------------------


def test_the_playbook_loads_its_meeting_series_with_chair_attendees_and_standing_agenda(team):
    rows = {s.playbook_id: s for s in MeetingSeries.objects.filter(team=team).select_related("chair_role")}
    assert set(rows) == {"M-EVENING", "M-WEEKLY", "M-MONTHLY", "M-ISSUE", "M-1ON1", "M-TECH", "M-CONTENT"}  # v2 §7.4
    assert rows["M-EVENING"].chair_role.code == "operations"
    assert rows["M-EVENING"].starts_at.strftime("%H:%M") == "17:30"
    assert rows["M-WEEKLY"].weekdays == "1"
    assert rows["M-WEEKLY"].starts_at.strftime("%H:%M") == "10:00"
    assert rows["M-WEEKLY"].standing_agenda[:3] == ["工作 - 业绩进展", "工作 - 专业技术", "价值观"]
    assert "warehouse" not in rows["M-WEEKLY"].attendee_roles
    assert rows["M-MONTHLY"].remind_by_day == 20
    assert rows["M-ISSUE"].needs_approval


def test_a_meeting_row_with_an_unknown_key_is_refused(team):
    from checklists.meetings.services import meeting_series_sync_from_playbook
    from opsteam.lib.playbook import SyncReport

    with pytest.raises(ValueError, match="unknown keys"):
        meeting_series_sync_from_playbook(
            team=team, rows=[{"id": "M-X", "name": "x", "cadence": "weekly", "chiar": "director"}], report=SyncReport()
        )


def test_an_evening_meeting_exists_on_a_working_friday(team, operations_lead):
    meetings_create_due(team=team, now=at(WORKING_FRIDAY))
    meeting = meeting_on(team, "M-EVENING", WORKING_FRIDAY)
    assert meeting is not None
    assert meeting.starts_at == at(WORKING_FRIDAY, 17, 30)
    assert meeting.chair == operations_lead
    assert meeting.status == MeetingStatus.DRAFT


def test_no_evening_meeting_on_a_saturday_holiday_nor_on_a_weekday_holiday(team):
    for day in (HOLIDAY_SATURDAY, HOLIDAY_FRIDAY):
        meetings_create_due(team=team, now=at(day))
        assert meeting_on(team, "M-EVENING", day) is None
    assert not Meeting.objects.exists()


def test_an_evening_meeting_is_held_on_a_tiaoxiu_working_saturday(team):
    meetings_create_due(team=team, now=at(TIAOXIU_SATURDAY))
    assert meeting_on(team, "M-EVENING", TIAOXIU_SATURDAY) is not None


def test_the_weekly_meeting_moves_to_the_first_working_day_when_monday_is_a_holiday(team):
    weekly_series = series(team, "M-WEEKLY")
    week = [HOLIDAY_MONDAY + timedelta(days=n) for n in range(7)]
    assert [day for day in week if series_falls_on(series=weekly_series, day=day)] == [date(2026, 10, 8)]
    assert series_falls_on(series=weekly_series, day=MONDAY.date())


def test_creating_meetings_twice_creates_nothing_new(team, director, warehouse_member):
    first = meetings_create_due(team=team, now=MONDAY)
    assert {m.series.playbook_id for m in first.created} == {"M-EVENING", "M-WEEKLY"}
    counts = (Meeting.objects.count(), AgendaItem.objects.count(), Attendance.objects.count())
    second = meetings_create_due(team=team, now=MONDAY + timedelta(hours=3))
    assert second.created == []
    assert (Meeting.objects.count(), AgendaItem.objects.count(), Attendance.objects.count()) == counts


def test_the_database_refuses_a_second_meeting_of_a_series_on_a_date(team, weekly):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Meeting.objects.create(
            team=team, series=weekly.series, title="dup", date=weekly.date, starts_at=weekly.starts_at, created_at=MONDAY
        )


def test_the_agenda_is_prefilled_with_standing_and_generated_items_and_the_attendees(team, weekly, director, warehouse_member):
    kinds = list(weekly.agenda_items.values_list("kind", "title"))
    assert kinds[0] == (AgendaKind.STANDING, "工作 - 业绩进展")
    assert sum(1 for kind, _title in kinds if kind == AgendaKind.GENERATED) == 3
    # The warehouse does not sit in the weekly meeting (PLAYBOOK M-WEEKLY); the director does.
    assert set(weekly.attendance.values_list("member__display_name", flat=True)) == {director.display_name}


def test_the_evening_agenda_lists_each_roles_unfinished_items_and_open_escalations(team, generate, warehouse_member, settings):
    settings.LANGUAGE_CODE = "en"  # the generated texts are written in the team's language
    from checklists.models import ChecklistItem

    generate()
    ChecklistItem.objects.filter(checklist__member=warehouse_member, playbook_id="SC-WH-2").update(status="done", done_at=MONDAY)
    meetings_create_due(team=team, now=MONDAY)
    evening = meeting_on(team, "M-EVENING", MONDAY.date())
    warehouse = evening.agenda_items.get(title__startswith="仓库")
    assert "检查产品配件" not in warehouse.prepared  # a group: its sub-items are listed instead
    assert "包装盒" in warehouse.prepared
    assert "早上检查今天的下单情况" not in warehouse.prepared  # done
    assert warehouse_member.display_name in warehouse.prepared
    assert evening.agenda_items.get(title__startswith="推广").prepared.startswith("No checklists today")  # nobody holds it


def test_the_evening_agenda_gives_todays_sales_against_the_daily_target(team, director, settings):
    from roles.models import Metric
    from roles.services.kpi import entry_save, target_set

    settings.LANGUAGE_CODE = "en"
    sales = Metric.objects.get(team=team, code="sales")
    target_set(team=team, metric=sales, month=date(2026, 11, 1), value="300000", split="even", actor=director, now=MONDAY)
    entry_save(team=team, day=MONDAY.date(), figures={"sales": "4000"}, actor=director, now=MONDAY)
    meetings_create_due(team=team, now=MONDAY)
    item = meeting_on(team, "M-EVENING", MONDAY.date()).agenda_items.get(title="Today's sales against the target")
    assert item.prepared.startswith("Sales 4,000.00 against a target of 10,000.00: 40% · 不达标")
    assert "Under 50% of the day's target" in item.prepared


def test_the_weekly_agenda_compares_the_whole_of_last_week_with_the_two_before(team, director, settings):
    from roles.services.kpi import entry_save

    settings.LANGUAGE_CODE = "en"
    last_monday = MONDAY.date() - timedelta(weeks=1)  # 2026-11-16
    for n in range(7):  # 1,000 a day last week, 7,000 in all
        entry_save(team=team, day=last_monday + timedelta(days=n), figures={"sales": "1000"}, actor=director, now=MONDAY)
    meetings_create_due(team=team, now=MONDAY)
    item = meeting_on(team, "M-WEEKLY", MONDAY.date()).agenda_items.get(title="Last week's figures against the weeks before")
    assert "11-16–11-22" in item.prepared  # Monday to Sunday, not Monday alone
    assert "7,000.00" in item.prepared


def test_the_evening_agenda_shows_each_escalated_item_once_at_its_highest_level(team, generate, warehouse_member, settings):
    settings.LANGUAGE_CODE = "en"
    import uuid

    from checklists.models import ChecklistItem, Escalation, EscalationLevel

    generate()
    item = ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")
    levels = list(EscalationLevel.objects.filter(policy__team=team, policy__source="").order_by("order"))
    for level in levels[:2]:
        Escalation.objects.create(
            team=team, item=item, level=level, level_order=level.order, notify=level.notify, role=item.checklist.role,
            due_at=item.due_at, raised_at=MONDAY, batch=uuid.uuid4(),
        )  # fmt: skip
    meetings_create_due(team=team, now=MONDAY)
    prepared = meeting_on(team, "M-EVENING", MONDAY.date()).agenda_items.get(title__startswith="仓库").prepared
    assert "Open escalations (1)" in prepared
    assert f"{warehouse_member.display_name} · {item.text}" in prepared
    assert "due 11-23 10:00" in prepared  # SC-WH is due at 10:00 Shanghai time, not in UTC


def test_the_monthly_event_reminds_the_director_once_by_the_20th_when_none_is_booked(team, director):
    meetings_create_due(team=team, now=at(date(2026, 11, 19)))
    assert not MeetingReminder.objects.exists()
    meetings_create_due(team=team, now=at(date(2026, 11, 20)))
    meetings_create_due(team=team, now=at(date(2026, 11, 23)))
    assert MeetingReminder.objects.count() == 1
    assert Notification.objects.filter(recipient=director, kind="meeting_reminder").count() == 1


def test_no_monthly_reminder_when_the_event_is_booked(team, director):
    from checklists.meetings.services import meeting_call

    meeting_call(series=series(team, "M-MONTHLY"), member=director, day=date(2026, 11, 28), now=at(date(2026, 11, 10)))
    meetings_create_due(team=team, now=at(date(2026, 11, 21)))
    assert not MeetingReminder.objects.exists()


def test_a_staff_member_calls_a_problem_meeting_that_a_lead_approves(team, warehouse_member, warehouse_lead):
    from checklists.meetings.services import meeting_approve, meeting_call

    meeting = meeting_call(series=series(team, "M-ISSUE"), member=warehouse_member, day=MONDAY.date(), now=MONDAY, title="退货率升高")
    assert meeting.status == MeetingStatus.REQUESTED
    with pytest.raises(PermissionDenied):
        meeting_approve(meeting=meeting, member=warehouse_member, now=MONDAY)
    assert meeting_approve(meeting=meeting, member=warehouse_lead, now=MONDAY).status == MeetingStatus.DRAFT
    # Problem meetings are not one a day: a second one the same day is fine.
    assert meeting_call(series=series(team, "M-ISSUE"), member=warehouse_lead, day=MONDAY.date(), now=MONDAY).pk != meeting.pk


# --- action items carry over ------------------------------------------------------------------------------------------


def test_an_action_item_becomes_the_owners_duty(team, weekly, director, warehouse_member):
    action = action_item_create(
        meeting=weekly, member=director, title="提交补货表", owner=warehouse_member, due_date=date(2026, 11, 26), now=MONDAY
    )
    task = Task.objects.get(pk=action.task_id)
    assert (task.source, task.owner, task.source_key) == (TaskSource.MEETING, warehouse_member, f"action:{action.pk}")
    assert task.due_at == at(date(2026, 11, 26), 18, 0)
    assert not action.is_done


def test_an_open_action_item_is_carried_over_counting_the_meetings_until_its_duty_is_done(team, director, warehouse_member):
    meetings_create_due(team=team, now=MONDAY)
    first = meeting_on(team, "M-WEEKLY", MONDAY.date())
    action = action_item_create(
        meeting=first, member=director, title="整理差评原因", owner=warehouse_member, due_date=MONDAY.date(), now=MONDAY
    )

    def carried(day):
        meetings_create_due(team=team, now=at(day))
        return list(meeting_on(team, "M-WEEKLY", day).agenda_items.filter(kind=AgendaKind.CARRIED))

    week2, week3, week4 = (MONDAY.date() + timedelta(weeks=n) for n in (1, 2, 3))
    [item] = carried(week2)
    assert (item.action_item, item.carry_count) == (action, 1)
    assert "整理差评原因" in item.title
    [item] = carried(week3)
    assert item.carry_count == 2
    task_complete(task=action.task, member=warehouse_member, now=at(week3, 12))
    action.refresh_from_db()
    assert action.is_done
    assert carried(week4) == []


def test_an_action_item_of_another_series_is_not_carried_into_this_one(team, director, warehouse_member):
    meetings_create_due(team=team, now=MONDAY)
    evening = meeting_on(team, "M-EVENING", MONDAY.date())
    action_item_create(meeting=evening, member=director, title="晚会的事", owner=warehouse_member, due_date=MONDAY.date(), now=MONDAY)
    meetings_create_due(team=team, now=MONDAY + timedelta(weeks=1))
    assert not meeting_on(team, "M-WEEKLY", MONDAY.date() + timedelta(weeks=1)).agenda_items.filter(kind=AgendaKind.CARRIED).exists()
    assert meeting_on(team, "M-EVENING", MONDAY.date() + timedelta(days=1)) is None  # the job ran on the next Monday only


def test_an_action_item_for_a_member_of_another_team_is_refused(team, weekly, director, outsider):
    with pytest.raises(ValidationError):
        action_item_create(meeting=weekly, member=director, title="x", owner=outsider, due_date=MONDAY.date(), now=MONDAY)


# --- Markdown is rendered, then sanitised -----------------------------------------------------------------------------

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<img src=x onerror=alert(1)>",
    '<p onmouseover="alert(1)">hover</p>',
    "<svg onload=alert(1)>",
    "[![img](javascript:alert(1))](javascript:alert(2))",
    "![x](javascript:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<iframe src="https://evil.example"></iframe>',
    '<a href="https://ok.example" style="position:fixed" onclick="alert(1)">ok</a>',
]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_markdown_xss_payloads_come_out_inert(payload):
    html = str(markdown_render(payload)).lower()
    for bad in ("<script", "javascript:", "onerror", "onload", "onmouseover", "onclick", "<img", "<svg", "<iframe", "data:", "style="):
        assert bad not in html, (payload, html)


def test_markdown_keeps_formatting_and_safe_links_with_noopener():
    html = str(markdown_render("**重点** 见 [报表](https://example.com/r) 或 <mailto:a@b.cn>\n\n- 一\n- 二"))
    assert "<strong>重点</strong>" in html
    assert '<a href="https://example.com/r" rel="noopener noreferrer">报表</a>' in html
    assert 'href="mailto:a@b.cn"' in html
    assert "<li>一</li>" in html


def test_notes_with_a_script_are_shown_inert_on_the_minutes_page(client, team, weekly, director):
    item = weekly.agenda_items.first()
    agenda_notes_save(item=item, member=director, notes="会议纪要 <script>alert('x')</script> [a](javascript:alert(1))", now=MONDAY)
    client.force_login(director.user)
    page = client.get(f"/meetings/{weekly.pk}/").content.decode()
    assert "会议纪要" in page
    assert "<script>alert" not in page
    assert "javascript:alert" not in page.split("<textarea")[0]  # the raw text is only inside the (escaped) editing box


# --- publishing and amendments ----------------------------------------------------------------------------------------


def test_only_the_chair_leads_and_the_director_can_publish(team, director, warehouse_member, warehouse_lead, operations_lead):
    meetings_create_due(team=team, now=MONDAY)
    evening = meeting_on(team, "M-EVENING", MONDAY.date())
    with pytest.raises(PermissionDenied):
        meeting_publish(meeting=evening, member=warehouse_member, now=MONDAY)
    assert meeting_publish(meeting=evening, member=operations_lead, now=MONDAY).is_published  # the chair
    weekly = meeting_on(team, "M-WEEKLY", MONDAY.date())
    assert meeting_publish(meeting=weekly, member=warehouse_lead, now=MONDAY).is_published  # a lead, not the chair


def test_publishing_twice_is_refused_and_notifies_the_attendees_once(team, weekly, director, operations_lead):
    Attendance.objects.create(meeting=weekly, member=operations_lead)
    meeting_publish(meeting=weekly, member=director, now=MONDAY)
    with pytest.raises(ValidationError):
        meeting_publish(meeting=weekly, member=director, now=MONDAY)
    assert list(Notification.objects.filter(kind="meeting_published").values_list("recipient", flat=True)) == [operations_lead.pk]


def test_published_minutes_cannot_be_edited_except_by_an_amendment_which_is_recorded(team, weekly, director, warehouse_member):
    item = weekly.agenda_items.first()
    agenda_notes_save(item=item, member=director, notes="原来的纪要", now=MONDAY)
    meeting_publish(meeting=weekly, member=director, now=MONDAY)
    weekly.refresh_from_db()
    later = MONDAY + timedelta(hours=2)
    for write in (
        lambda: agenda_notes_save(item=item, member=director, notes="偷偷改", now=later),
        lambda: attendance_mark(meeting=weekly, member=director, attendee=director, status="absent", now=later),
        lambda: decision_record(meeting=weekly, member=director, text="没有理由的决定", now=later),
        lambda: action_item_create(meeting=weekly, member=director, title="x", owner=warehouse_member, due_date=MONDAY.date(), now=later),
    ):
        with pytest.raises(ValidationError):
            write()
    with pytest.raises(ValidationError):
        agenda_notes_amend(item=item, member=director, notes="改正", reason="", now=later)
    with pytest.raises(PermissionDenied):
        agenda_notes_amend(item=item, member=warehouse_member, notes="改正", reason="我想改", now=later)
    agenda_notes_amend(item=item, member=director, notes="改正后的纪要", reason="补充遗漏", now=later)
    decision_record(meeting=weekly, member=director, text="补一个决定", reason="会后补充", now=later)
    item.refresh_from_db()
    assert item.notes == "改正后的纪要"
    amendments = list(
        Amendment.objects.filter(meeting=weekly).order_by("id").values_list("member", "at", "field", "before", "after", "reason")
    )
    assert amendments == [
        (director.pk, later, "notes", "原来的纪要", "改正后的纪要", "补充遗漏"),
        (director.pk, later, "decision", "", "补一个决定", "会后补充"),
    ]


def test_a_staff_member_who_did_not_attend_cannot_write_the_minutes(team, weekly, service_member):
    with pytest.raises(PermissionDenied):
        agenda_notes_save(item=weekly.agenda_items.first(), member=service_member, notes="x", now=MONDAY)


# --- the pages --------------------------------------------------------------------------------------------------------


def test_members_see_their_teams_meetings_and_another_team_gets_404(client, team, weekly, director, outsider):
    client.force_login(outsider.user)
    for url in (f"/meetings/{weekly.pk}/", f"/meetings/{weekly.pk}/print/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/meetings/{weekly.pk}/publish/").status_code == 404
    assert weekly.title not in client.get("/meetings/").content.decode()


def test_publishing_on_the_page_is_403_for_a_staff_member(client, team, weekly, warehouse_member):
    client.force_login(warehouse_member.user)
    assert client.post(f"/meetings/{weekly.pk}/publish/").status_code == 403
    weekly.refresh_from_db()
    assert weekly.status == MeetingStatus.DRAFT


def test_the_chair_writes_and_publishes_the_minutes_on_the_page(client, team, weekly, director, warehouse_member, frozen):
    client.force_login(director.user)
    item = weekly.agenda_items.first()
    client.post(f"/meetings/{weekly.pk}/attendance/", {"member": director.pk, "status": "present"})
    client.post(f"/meetings/{weekly.pk}/agenda/{item.pk}/notes/", {"notes": "本周销售**增长** 12%"})
    client.post(f"/meetings/{weekly.pk}/decisions/", {"text": "下周起每天晚会复盘"})
    response = client.post(
        f"/meetings/{weekly.pk}/actions/", {"title": "提交补货表", "owner": warehouse_member.pk, "due_date": "2026-11-26"}
    )
    assert response.status_code == 302
    assert client.post(f"/meetings/{weekly.pk}/publish/", {"confirm": "1"}).status_code == 302
    page = client.get(f"/meetings/{weekly.pk}/").content.decode()
    assert "<strong>增长</strong>" in page
    assert "下周起每天晚会复盘" in page
    assert 'data-testid="publish"' not in page
    assert weekly.attendance.get(member=director).status == "present"
    assert ActionItem.objects.get(meeting=weekly).task.owner == warehouse_member


def test_an_action_item_form_with_a_bad_date_says_so(client, team, weekly, director, warehouse_member, frozen):
    client.force_login(director.user)
    response = client.post(
        f"/meetings/{weekly.pk}/actions/",
        {"title": "x", "owner": warehouse_member.pk, "due_date": "next week"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400  # the minutes page drawn again with the message (issue 15: refused forms are 400)
    assert "Enter a date as YYYY-MM-DD" in response.content.decode()
    assert not ActionItem.objects.exists()


def test_the_attendance_buttons_answer_htmx_with_the_row(client, team, weekly, director):
    client.force_login(director.user)
    response = client.post(f"/meetings/{weekly.pk}/attendance/", {"member": director.pk, "status": "late"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'aria-pressed="true"' in response.content.decode()
    assert weekly.attendance.get(member=director).status == "late"
    # The heading's count comes along out of band: the director, late, is there.
    assert 'id="attendance-count" hx-swap-oob="true">应到 1 人，实到 1 人' in response.content.decode()


def test_notes_saved_with_htmx_answer_the_item_alone_and_a_refusal_keeps_what_was_typed(client, team, weekly, director):
    client.force_login(director.user)
    item = weekly.agenda_items.first()
    url = f"/meetings/{weekly.pk}/agenda/{item.pk}/notes/"
    response = client.post(url, {"notes": "**已定**"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<li class="card agenda-item')
    assert "<strong>已定</strong>" in body
    assert f'data-testid="saved-{item.pk}"' in body
    too_long = "长" * 20001
    body = client.post(url, {"notes": too_long}, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The notes are too long" in body
    assert too_long in body
    item.refresh_from_db()
    assert item.notes == "**已定**"


def test_the_list_searches_the_minutes_and_filters_by_series(client, team, weekly, director):
    agenda_notes_save(item=weekly.agenda_items.first(), member=director, notes="讨论**双十一**备货", now=MONDAY)
    client.force_login(director.user)
    assert f"/meetings/{weekly.pk}/" in client.get("/meetings/", {"q": "双十一"}).content.decode()
    assert f"/meetings/{weekly.pk}/" not in client.get("/meetings/", {"q": "不存在的词"}).content.decode()
    evening = meeting_on(team, "M-EVENING", MONDAY.date())
    page = client.get("/meetings/", {"series": evening.series_id}).content.decode()
    assert f"/meetings/{evening.pk}/" in page
    assert f"/meetings/{weekly.pk}/" not in page


def test_the_meeting_list_costs_a_fixed_number_of_queries(client, team, director, django_assert_max_num_queries):
    for week in range(6):
        meetings_create_due(team=team, now=MONDAY + timedelta(weeks=week))
    client.force_login(director.user)
    with django_assert_max_num_queries(10):
        assert client.get("/meetings/").status_code == 200


def test_the_minutes_page_costs_a_fixed_number_of_queries_whatever_the_number_of_rows(
    client, team, weekly, director, warehouse_member, django_assert_max_num_queries
):
    client.force_login(director.user)
    action_item_create(meeting=weekly, member=director, title="一", owner=warehouse_member, due_date=MONDAY.date(), now=MONDAY)
    decision_record(meeting=weekly, member=director, text="一", now=MONDAY, agenda_item=weekly.agenda_items.first())
    # session, user, member, roles; meeting, minutes (agenda, decisions, actions, attendance, amendments), the owners
    with django_assert_max_num_queries(14) as few:
        assert client.get(f"/meetings/{weekly.pk}/").status_code == 200
    for n in range(8):
        action_item_create(meeting=weekly, member=director, title=f"事 {n}", owner=warehouse_member, due_date=MONDAY.date(), now=MONDAY)
        decision_record(meeting=weekly, member=director, text=f"决定 {n}", now=MONDAY, agenda_item=weekly.agenda_items.first())
        Attendance.objects.create(meeting=weekly, member=member_with_role(team, "service", username=f"cs-q{n}"))
    meetings_create_due(team=team, now=MONDAY + timedelta(weeks=1))
    later = meeting_on(team, "M-WEEKLY", MONDAY.date() + timedelta(weeks=1))
    assert later.agenda_items.filter(kind=AgendaKind.CARRIED).count() == 9
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(f"/meetings/{weekly.pk}/").status_code == 200
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(f"/meetings/{later.pk}/").status_code == 200


def test_the_print_view_shows_the_minutes_without_the_forms(client, team, weekly, director):
    client.force_login(director.user)
    page = client.get(f"/meetings/{weekly.pk}/print/").content.decode()
    assert "工作 - 业绩进展" in page
    assert "<form" not in page


# --- the API ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def api(client):
    def login(member):
        client.force_login(member.user)
        return client

    return login


def test_the_api_lists_reads_and_patches_minutes(api, team, weekly, director, frozen):
    client = api(director)
    listing = client.get("/api/v1/meetings/").json()["results"]
    assert weekly.pk in [row["id"] for row in listing]
    item = weekly.agenda_items.first()
    response = client.patch(
        f"/api/v1/meetings/{weekly.pk}/",
        {
            "agenda_items": [{"id": item.pk, "notes": "**好**<script>x</script>"}],
            "attendance": [{"member": director.pk, "status": "present"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    row = next(a for a in body["agenda_items"] if a["id"] == item.pk)
    assert row["notes_html"] == "<p><strong>好</strong></p>"
    assert body["attendance"][0]["status"] == "present"


def test_the_api_creates_action_items_and_publishes(api, team, weekly, director, warehouse_member, frozen):
    client = api(director)
    response = client.post(
        f"/api/v1/meetings/{weekly.pk}/action-items/",
        {"title": "更新主图", "owner": warehouse_member.pk, "due_date": "2026-11-25"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["is_done"] is False
    assert [a["title"] for a in client.get(f"/api/v1/meetings/{weekly.pk}/action-items/").json()["results"]] == ["更新主图"]
    response = client.post(f"/api/v1/meetings/{weekly.pk}/publish/")
    assert response.status_code == 200
    assert response.json()["status"] == "published"


def test_the_api_refuses_edits_to_published_minutes_without_a_reason(api, team, weekly, director, frozen):
    meeting_publish(meeting=weekly, member=director, now=MONDAY)
    client = api(director)
    item = weekly.agenda_items.first()
    response = client.patch(
        f"/api/v1/meetings/{weekly.pk}/",
        {"agenda_items": [{"id": item.pk, "notes": "改"}]},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "Say why" in str(response.json())
    response = client.patch(
        f"/api/v1/meetings/{weekly.pk}/",
        {"agenda_items": [{"id": item.pk, "notes": "改"}], "reason": "更正"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["amendments"][0]["reason"] == "更正"
    response = client.patch(
        f"/api/v1/meetings/{weekly.pk}/", {"title": "新标题"}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert "change them with an amendment" in str(response.json())


def test_the_api_answers_403_to_a_staff_member_publishing_and_404_to_another_team(api, team, weekly, warehouse_member, outsider, frozen):
    assert api(warehouse_member).post(f"/api/v1/meetings/{weekly.pk}/publish/").status_code == 403
    assert api(outsider).get(f"/api/v1/meetings/{weekly.pk}/").status_code == 404
    assert api(outsider).post(f"/api/v1/meetings/{weekly.pk}/publish/").status_code == 404


def test_the_api_books_a_monthly_event_and_refuses_a_second_weekly_meeting_on_the_same_date(api, team, weekly, director, frozen):
    client = api(director)
    monthly = series(team, "M-MONTHLY")
    response = client.post(
        "/api/v1/meetings/", {"series": monthly.pk, "date": "2026-11-27", "title": "团建聚餐"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["series_id"] == "M-MONTHLY"
    response = client.post("/api/v1/meetings/", {"series": weekly.series_id, "date": str(weekly.date)}, content_type="application/json")
    assert response.status_code == 400


def test_the_api_refuses_bad_input_with_400_not_500(api, team, weekly, director, frozen):
    client = api(director)
    assert client.post("/api/v1/meetings/", {"series": "x", "date": "soon"}, content_type="application/json").status_code == 400
    assert (
        client.post(
            f"/api/v1/meetings/{weekly.pk}/action-items/",
            {"title": "", "owner": 999999, "due_date": "2026-13-01"},
            content_type="application/json",
        ).status_code
        == 400
    )
    assert (
        client.patch(
            f"/api/v1/meetings/{weekly.pk}/", {"agenda_items": [{"id": 999999, "notes": "x"}]}, content_type="application/json"
        ).status_code
        == 400  # an id in the body, not the URL: the field's error (issue 15)
    )


# --- weekly reflection ------------------------------------------------------------------------------------------------


def test_a_reflection_is_one_per_member_per_week_and_visible_to_the_member_their_lead_and_the_director(
    team, warehouse_member, warehouse_lead, service_member, director
):
    reflection_save(
        member=warehouse_member,
        week=MONDAY.date() + timedelta(days=2),
        answers={"Q-THINK-1": "款式认知还不够", "Q-THINK-9": ""},
        now=MONDAY,
    )
    row = reflection_save(member=warehouse_member, week=MONDAY.date(), answers={"Q-THINK-1": "好一些了"}, now=MONDAY)
    assert WeeklyReflection.objects.count() == 1
    assert (row.week, row.answers) == (MONDAY.date(), {"Q-THINK-1": "好一些了"})
    visible = {
        m.username: WeeklyReflection.objects.visible_to(m.member).exists()
        for m in (warehouse_member.user, warehouse_lead.user, director.user, service_member.user)
    }
    assert visible == {"wh1": True, "whlead": True, "boss": True, "cs1": False}


def test_a_reflection_for_an_unknown_question_or_a_future_week_is_refused(team, warehouse_member):
    with pytest.raises(ValidationError):
        reflection_save(member=warehouse_member, week=MONDAY.date(), answers={"Q-99": "x"}, now=MONDAY)
    with pytest.raises(ValidationError):
        reflection_save(member=warehouse_member, week=MONDAY.date() + timedelta(weeks=1), answers={"Q-THINK-1": "x"}, now=MONDAY)


def test_the_reflection_page_saves_my_answers_and_shows_the_lead_their_members(client, team, warehouse_member, warehouse_lead, frozen):
    client.force_login(warehouse_member.user)
    assert client.post("/reflection/", {"week": "2026-11-23", "Q-THINK-1": "面料认知清楚了"}).status_code == 302
    assert "面料认知清楚了" in client.get("/reflection/").content.decode()
    client.force_login(warehouse_lead.user)
    page = client.get("/reflection/").content.decode()
    assert warehouse_member.display_name in page
    assert "面料认知清楚了" in page


def test_the_weekly_meetings_prep_shows_last_weeks_reflections_to_the_lead(client, team, director, warehouse_member, warehouse_lead):
    reflection_save(member=warehouse_member, week=MONDAY.date() - timedelta(weeks=1), answers={"Q-THINK-14": "每天都很开心"}, now=MONDAY)
    meetings_create_due(team=team, now=MONDAY)
    weekly = meeting_on(team, "M-WEEKLY", MONDAY.date())
    client.force_login(warehouse_lead.user)
    with translation.override("en"):
        page = client.get(f"/meetings/{weekly.pk}/").content.decode()
    assert "每天都很开心" in page


def test_a_meeting_action_item_that_is_done_shows_as_done(team, weekly, director, warehouse_member):
    action = action_item_create(meeting=weekly, member=director, title="x", owner=warehouse_member, due_date=MONDAY.date(), now=MONDAY)
    task_complete(task=action.task, member=warehouse_member, now=MONDAY + timedelta(hours=1))
    assert ActionItem.objects.open().count() == 0
    assert Task.objects.get(pk=action.task_id).status == TaskStatus.DONE


def test_the_job_runs_with_run_jobs(team, director):
    from django.core.management import call_command

    with time_machine.travel(MONDAY, tick=False):
        call_command("run_jobs", "--at", "2026-11-23 08:00", "--job", "create_meetings")
    assert meeting_on(team, "M-WEEKLY", MONDAY.date()) is not None


def test_the_admin_shows_series_questions_meetings_and_reflections(admin_client, team, weekly):
    for url in (
        "/admin/checklists/meetingseries/",
        "/admin/checklists/reflectionquestion/",
        "/admin/checklists/meeting/",
        f"/admin/checklists/meeting/{weekly.pk}/change/",
        "/admin/checklists/weeklyreflection/",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_the_generated_items_are_refreshed_once_before_the_meeting_but_never_over_written_notes(team, generate, warehouse_member, director):
    from checklists.models import ChecklistItem

    generate()
    meetings_create_due(team=team, now=MONDAY)
    evening = meeting_on(team, "M-EVENING", MONDAY.date())
    warehouse = evening.agenda_items.get(title__startswith="仓库")
    service = evening.agenda_items.get(title__startswith="客服")
    agenda_notes_save(item=service, member=director, notes="客服已口头汇报", now=MONDAY)
    before = (warehouse.prepared, service.prepared)
    ChecklistItem.objects.filter(checklist__team=team, is_group=False).update(status="done", done_at=MONDAY)

    assert meetings_create_due(team=team, now=at(MONDAY.date(), 16, 50)).refreshed == 0  # too early
    assert meetings_create_due(team=team, now=at(MONDAY.date(), 17, 10)).refreshed == 1
    warehouse.refresh_from_db()
    service.refresh_from_db()
    assert warehouse.prepared != before[0]
    assert "包装盒" not in warehouse.prepared
    assert service.prepared == before[1]
    assert meetings_create_due(team=team, now=at(MONDAY.date(), 17, 15)).refreshed == 0  # nothing new


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/meetings/"),
        ("post", "/api/v1/meetings/"),
        ("get", "/api/v1/meetings/{id}/"),
        ("patch", "/api/v1/meetings/{id}/"),
        ("post", "/api/v1/meetings/{id}/publish/"),
        ("get", "/api/v1/meetings/{id}/action-items/"),
        ("post", "/api/v1/meetings/{id}/action-items/"),
    ],
)
def test_every_meetings_endpoint_refuses_anonymous_callers(client, weekly, method, path):
    response = getattr(client, method)(path.format(id=weekly.pk), {}, content_type="application/json")
    assert response.status_code in (401, 403)
    weekly.refresh_from_db()
    assert weekly.status == MeetingStatus.DRAFT


def test_a_called_problem_meeting_is_approved_on_its_page_before_anyone_writes_minutes(
    client, team, warehouse_member, warehouse_lead, frozen
):
    from checklists.meetings.services import meeting_call

    meeting = meeting_call(series=series(team, "M-ISSUE"), member=warehouse_member, day=MONDAY.date(), now=MONDAY, title="发货延误")
    first = meeting.agenda_items.first()
    client.force_login(warehouse_lead.user)
    page = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert f'action="/meetings/{meeting.pk}/approve/"' in page
    assert f'id="notes-{first.pk}"' not in page
    client.force_login(warehouse_member.user)
    assert client.post(f"/meetings/{meeting.pk}/approve/").status_code == 403
    client.force_login(warehouse_lead.user)
    client.post(f"/meetings/{meeting.pk}/approve/")
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.DRAFT
    assert meeting.approved_by == warehouse_lead
    assert f'id="notes-{first.pk}"' in client.get(f"/meetings/{meeting.pk}/").content.decode()
