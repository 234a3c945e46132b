"""Daily generation: working days, 调休, covers, the date boundary, idempotence, template edits."""

from datetime import date, datetime, time

import time_machine
from django.core import mail
from django.core.management import call_command

from checklists.daily.generation import run_generate_due, run_generate_for_date
from checklists.models import Checklist, ChecklistItem, ChecklistTemplate, TemplateItem
from opsteam.lib.clock import business_tz
from roles.models import CalendarGap, CalendarOverride
from roles.services import cover_create
from tests.conftest import MONDAY


def at(y, m, d, hh=8, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=business_tz())


def test_it_generates_one_list_per_template_on_a_normal_weekday(team, warehouse_member, service_member):
    result = run_generate_due(team=team, now=MONDAY)
    assert result.checklists_created == 2
    wh = Checklist.objects.get(member=warehouse_member)
    assert wh.date == date(2026, 11, 23)
    assert wh.assignee == warehouse_member
    ids = list(wh.items.order_by("order", "id").values_list("playbook_id", flat=True))
    assert ids[:7] == ["SC-WH-1", "SC-WH-1a", "SC-WH-1b", "SC-WH-1c", "SC-WH-1d", "SC-WH-1e", "SC-WH-1f"]
    assert set(ids) >= {"SC-WH-2", "SC-WH-3"}
    assert "SC-WH-4" not in ids  # 运营 contacts the warehouse (PLAYBOOK v2)
    group = wh.items.get(playbook_id="SC-WH-1")
    assert group.is_group
    assert group.children.count() == 6
    # SC-WH due 10:00 Shanghai; SC-WH-3 has its own 18:00.
    assert wh.items.get(playbook_id="SC-WH-2").due_at == at(2026, 11, 23, 10)
    assert wh.items.get(playbook_id="SC-WH-3").due_at == at(2026, 11, 23, 18)
    assert wh.items.get(playbook_id="SC-WH-1c").due_at == at(2026, 11, 23, 10)


def test_it_generates_nothing_on_a_national_holiday(team, warehouse_member):
    result = run_generate_due(team=team, now=at(2026, 10, 1))
    assert not result.workday
    assert not Checklist.objects.exists()


def test_it_generates_on_make_up_working_days(team, warehouse_member):
    run_generate_due(team=team, now=at(2026, 10, 10))  # Saturday 调休
    run_generate_due(team=team, now=at(2026, 9, 20))  # Sunday 调休
    assert sorted(Checklist.objects.values_list("date", flat=True)) == [date(2026, 9, 20), date(2026, 10, 10)]


def test_it_skips_an_ordinary_weekend(team, warehouse_member):
    run_generate_due(team=team, now=at(2026, 11, 21))
    assert not Checklist.objects.exists()


def test_a_team_override_wins_over_the_national_calendar(team, warehouse_member):
    CalendarOverride.objects.create(team=team, date=date(2026, 10, 2), is_workday=True, note="大促值班")
    CalendarOverride.objects.create(team=team, date=date(2026, 11, 24), is_workday=False, note="团建")
    run_generate_due(team=team, now=at(2026, 10, 2))
    run_generate_due(team=team, now=at(2026, 11, 24))
    assert list(Checklist.objects.values_list("date", flat=True)) == [date(2026, 10, 2)]


def test_an_unknown_year_falls_back_to_monday_to_friday_and_warns_admins_once(team, warehouse_member, settings):
    settings.ADMINS = [("Admin", "admin@example.com")]
    run_generate_due(team=team, now=at(2031, 3, 3))  # Monday
    run_generate_due(team=team, now=at(2031, 3, 4))
    run_generate_due(team=team, now=at(2031, 3, 8))  # Saturday
    assert Checklist.objects.count() == 2
    assert CalendarGap.objects.filter(year=2031).count() == 1
    assert len([m for m in mail.outbox if "2031" in m.subject]) == 1


def test_running_twice_creates_exactly_one_list(team, warehouse_member):
    first = run_generate_due(team=team, now=MONDAY)
    items = ChecklistItem.objects.count()
    second = run_generate_due(team=team, now=MONDAY.replace(hour=9))
    assert (first.checklists_created, second.checklists_created) == (1, 0)
    assert Checklist.objects.count() == 1
    assert ChecklistItem.objects.count() == items


def test_nothing_is_generated_before_the_generation_time(team, warehouse_member):
    result = run_generate_due(team=team, now=at(2026, 11, 23, 6, 59))
    assert result.checklists_created == 0
    assert run_generate_due(team=team, now=at(2026, 11, 23, 7, 0)).checklists_created == 1


def test_the_business_date_is_shanghai_not_utc(team, warehouse_member):
    # 23:59 Sunday in Shanghai is 15:59 UTC Sunday; 00:01 Monday Shanghai is still Sunday in UTC.
    ChecklistTemplate.objects.filter(team=team).update(generate_at=time(0, 0))
    assert run_generate_due(team=team, now=at(2026, 11, 22, 23, 59)).workday is False
    result = run_generate_due(team=team, now=at(2026, 11, 23, 0, 1))
    assert result.day == date(2026, 11, 23)
    assert result.checklists_created == 1


def test_a_covered_member_s_lists_go_to_the_cover(team, warehouse_member, service_member):
    cover_create(absent=warehouse_member, cover=service_member, start_date=date(2026, 11, 23), end_date=date(2026, 11, 24))
    run_generate_due(team=team, now=MONDAY)
    covered = Checklist.objects.get(member=warehouse_member)
    assert covered.assignee == service_member
    assert covered.is_covered
    assert Checklist.objects.filter(assignee=service_member).count() == 2
    run_generate_due(team=team, now=at(2026, 11, 25))
    assert Checklist.objects.get(member=warehouse_member, date=date(2026, 11, 25)).assignee == warehouse_member


def test_editing_a_template_changes_later_days_only(team, warehouse_member):
    run_generate_due(team=team, now=MONDAY)
    item = TemplateItem.objects.get(template__team=team, playbook_id="SC-WH-2")
    item.text = "早上检查今天的下单情况(已修改)"
    item.save()
    TemplateItem.objects.create(template=item.template, order=99, text="新加的检查项")
    today = Checklist.objects.get(date=date(2026, 11, 23))
    assert today.items.get(playbook_id="SC-WH-2").text.startswith("早上检查今天的下单情况并分析")
    assert not today.items.filter(text="新加的检查项").exists()
    run_generate_due(team=team, now=at(2026, 11, 24))
    tomorrow = Checklist.objects.get(date=date(2026, 11, 24))
    assert tomorrow.items.get(playbook_id="SC-WH-2").text == "早上检查今天的下单情况(已修改)"
    assert tomorrow.items.filter(text="新加的检查项").exists()


def test_inactive_members_get_no_lists(team, warehouse_member):
    warehouse_member.is_active = False
    warehouse_member.save()
    assert run_generate_due(team=team, now=MONDAY).checklists_created == 0


def test_schedules_other_than_every_working_day(team, warehouse_member):
    template = ChecklistTemplate.objects.get(team=team, playbook_id="SC-WH")
    template.schedule, template.weekdays = "weekdays", "24"  # Tuesday, Thursday
    template.save()
    assert run_generate_for_date(team=team, day=date(2026, 11, 23), now=at(2026, 11, 27)).checklists_created == 0
    assert run_generate_for_date(team=team, day=date(2026, 11, 24), now=at(2026, 11, 27)).checklists_created == 1
    template.schedule, template.month_day = "monthly", 26
    template.save()
    assert run_generate_for_date(team=team, day=date(2026, 11, 26), now=at(2026, 11, 27)).checklists_created == 1
    template.schedule, template.weekdays, template.interval_weeks, template.anchor_date = "every_n_weeks", "1", 2, date(2026, 11, 2)
    template.save()
    assert template.falls_on(date(2026, 11, 16))
    assert not template.falls_on(date(2026, 11, 9))


def test_run_jobs_command_generates_and_is_safe_to_repeat(team, warehouse_member, capsys):
    call_command("run_jobs", at="2026-11-23 08:00")
    call_command("run_jobs", at="2026-11-23 08:00")
    out = capsys.readouterr().out
    assert "shop 2026-11-23: 1 checklists" in out
    assert "nothing to do" in out  # the second run finds no shop with a list to create (issue 22)
    assert Checklist.objects.count() == 1


def test_beat_entry_point_generates_through_celery(team, warehouse_member):
    from checklists.daily.tasks import generate_due

    with time_machine.travel(MONDAY, tick=False):
        assert generate_due.delay().get() == 1
    assert Checklist.objects.filter(member=warehouse_member).count() == 1


def test_a_range_of_working_days_follows_the_overrides_then_the_national_calendar(team):
    from datetime import date, timedelta

    import chinese_calendar

    from roles.selectors import workdays_in

    overrides = {date(2026, 10, 3): True, date(2026, 10, 12): False}  # 店庆加班, 团建
    for day, is_workday in overrides.items():
        CalendarOverride.objects.create(team=team, date=day, is_workday=is_workday, note="test")
    start, end = date(2026, 9, 25), date(2026, 10, 15)  # 国庆 with its 调休
    days = workdays_in(team=team, start=start, end=end)
    expected = {start + timedelta(days=n): chinese_calendar.is_workday(start + timedelta(days=n)) for n in range((end - start).days + 1)}
    assert days == expected | overrides
    assert (days[date(2026, 10, 1)], days[date(2026, 10, 3)], days[date(2026, 10, 12)]) == (False, True, False)
