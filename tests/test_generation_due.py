"""Issue 22: the shops with lists still to create are found by one query; a minute with nothing due sends no task."""

from datetime import date, datetime
from unittest import mock

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checklists.daily.generation import run_generate_due
from checklists.daily.generation_due import teams_generation_due
from checklists.models import Checklist, ChecklistTemplate
from opsteam.lib.clock import business_tz
from roles.models import CalendarOverride, Member
from tests.conftest import MONDAY
from tests.factories import member_with_role

HOLIDAY = datetime(2026, 10, 1, 8, 0, tzinfo=business_tz())  # 国庆


def _one_query(now):
    with CaptureQueriesContext(connection) as queries:
        due = teams_generation_due(now=now)
    assert len(queries) == 1, [q["sql"] for q in queries.captured_queries]
    return due


def test_a_shop_whose_members_have_no_list_yet_is_due_and_found_in_one_query(team, warehouse_member, other_team):
    member_with_role(other_team, "warehouse")
    assert _one_query(MONDAY) == sorted([team.pk, other_team.pk])


def test_once_every_list_is_made_no_shop_is_due(team, warehouse_member, service_member, warehouse_lead, other_team):
    member_with_role(other_team, "service")
    for shop in (team, other_team):
        run_generate_due(team=shop, now=MONDAY)
    assert _one_query(MONDAY) == []


def test_the_query_count_is_one_whatever_the_number_of_shops(team, warehouse_member, other_team):
    for _ in range(5):
        member_with_role(other_team, "warehouse")
    assert len(_one_query(MONDAY)) == 2


def test_before_the_generation_time_no_shop_is_due(team, warehouse_member):
    assert _one_query(datetime(2026, 11, 23, 6, 59, tzinfo=business_tz())) == []
    assert _one_query(datetime(2026, 11, 23, 7, 0, tzinfo=business_tz())) == [team.pk]


def test_on_a_national_holiday_no_shop_is_due_unless_its_calendar_says_it_works(team, warehouse_member, other_team):
    member_with_role(other_team, "warehouse")
    assert _one_query(HOLIDAY) == []
    CalendarOverride.objects.create(team=other_team, date=date(2026, 10, 1), is_workday=True, note="店庆加班")
    assert _one_query(HOLIDAY) == [other_team.pk]


def test_a_shop_that_takes_a_normal_workday_off_is_not_due(team, warehouse_member):
    CalendarOverride.objects.create(team=team, date=date(2026, 11, 23), is_workday=False, note="团建")
    assert _one_query(MONDAY) == []


def test_a_schedule_that_does_not_fall_today_makes_nothing_due(team, warehouse_member):
    ChecklistTemplate.objects.filter(team=team).update(schedule="weekly", weekdays="3")  # Wednesdays only
    assert _one_query(MONDAY) == []


def test_an_inactive_member_or_shop_is_not_due(team, warehouse_member):
    Member.objects.filter(pk=warehouse_member.pk).update(is_active=False)
    assert _one_query(MONDAY) == []
    Member.objects.filter(pk=warehouse_member.pk).update(is_active=True)
    warehouse_member.user.is_active = False
    warehouse_member.user.save()
    assert _one_query(MONDAY) == []
    warehouse_member.user.is_active = True
    warehouse_member.user.save()
    team.is_active = False
    team.save()
    assert _one_query(MONDAY) == []


def test_a_lead_only_list_makes_a_shop_due_for_its_lead_alone(team, warehouse_member):
    ChecklistTemplate.objects.filter(team=team).update(is_active=False)
    lead_only = ChecklistTemplate.objects.filter(team=team, lead_only=True).first()
    if lead_only is None:
        pytest.skip("the playbook has no lead-only template")
    lead_only.is_active = True
    lead_only.save()
    staff = member_with_role(team, lead_only.role.code)
    assert _one_query(MONDAY) == []  # a member of the role who is not its lead gets no lead-only list
    lead = member_with_role(team, lead_only.role.code, lead=True)
    assert _one_query(MONDAY) == [team.pk]
    run_generate_due(team=team, now=MONDAY)
    assert Checklist.objects.filter(member=lead).count() == 1
    assert not Checklist.objects.filter(member=staff).exists()
    assert _one_query(MONDAY) == []


def test_a_member_who_joins_after_the_morning_run_makes_the_shop_due_again(team, warehouse_member):
    run_generate_due(team=team, now=MONDAY)
    assert _one_query(MONDAY) == []
    newcomer = member_with_role(team, "warehouse")
    later = datetime(2026, 11, 23, 11, 0, tzinfo=business_tz())
    assert _one_query(later) == [team.pk]
    run_generate_due(team=team, now=later)
    assert Checklist.objects.filter(member=newcomer).exists()


def test_whenever_no_shop_is_named_the_shops_own_run_creates_nothing(team, warehouse_member, service_member, warehouse_lead, other_team):
    """The query is a superset of what generation creates: at each of these moments, a shop left out has nothing to create."""
    member_with_role(other_team, "operations")
    CalendarOverride.objects.create(team=other_team, date=date(2026, 11, 24), is_workday=False, note="团建")
    moments = [datetime(2026, 11, 23, h, m, tzinfo=business_tz()) for h, m in ((6, 0), (7, 0), (9, 0))]
    moments += [datetime(2026, 11, 24, 8, 0, tzinfo=business_tz()), HOLIDAY, datetime(2026, 11, 28, 8, 0, tzinfo=business_tz())]
    for now in moments:
        named = set(teams_generation_due(now=now))
        for shop in (team, other_team):
            result = run_generate_due(team=shop, now=now)
            if shop.pk not in named:
                assert result.checklists_created == 0, (now, shop.slug, str(result))


def test_the_beat_task_sends_no_task_when_nothing_is_due(team, warehouse_member, other_team):
    from checklists.daily.tasks import generate_due, generate_for_teams

    member_with_role(other_team, "warehouse")
    with time_machine.travel(MONDAY, tick=False):
        with mock.patch.object(generate_for_teams, "delay") as sent:
            assert generate_due() == 2
        assert [call.args[0] for call in sent.call_args_list] == [sorted([team.pk, other_team.pk])]
        for shop in (team, other_team):
            run_generate_due(team=shop, now=MONDAY)
        with mock.patch.object(generate_for_teams, "delay") as sent, CaptureQueriesContext(connection) as queries:
            assert generate_due() == 0
        assert sent.call_count == 0
        assert len(queries) == 1


def test_the_due_shops_go_in_batches_one_task_per_batch(team, warehouse_member, other_team, settings):
    from checklists.daily.tasks import generate_due, generate_for_teams
    from checklists.playbook.services import playbook_load
    from tests.factories import TeamFactory

    member_with_role(other_team, "warehouse")
    extra = []
    for n in range(3):
        shop = TeamFactory(slug=f"batch-{n}")
        playbook_load(team=shop)
        member_with_role(shop, "warehouse")
        extra.append(shop.pk)
    settings.OPSTEAM_GENERATION_BATCH = 2
    with time_machine.travel(MONDAY, tick=False), mock.patch.object(generate_for_teams, "delay") as sent:
        assert generate_due() == 5
    batches = [call.args[0] for call in sent.call_args_list]
    assert [len(b) for b in batches] == [2, 2, 1]
    assert sorted(i for b in batches for i in b) == sorted([team.pk, other_team.pk, *extra])


def test_a_batch_makes_every_shops_lists_and_a_failing_shop_is_retried_alone(team, warehouse_member, other_team):
    from checklists.daily import generation
    from checklists.daily.tasks import generate_for_teams

    other = member_with_role(other_team, "warehouse")
    real = generation.run_generate_due

    def failing_for_team(*, team, now):
        if team.slug == "shop":
            raise RuntimeError("database hiccup")
        return real(team=team, now=now)

    with (
        mock.patch("checklists.daily.tasks.run_generate_due", side_effect=failing_for_team),
        mock.patch.object(generate_for_teams, "retry", side_effect=RuntimeError("retried")) as retry,
        pytest.raises(RuntimeError, match="retried"),
    ):
        generate_for_teams.run([team.pk, other_team.pk], MONDAY.isoformat())
    assert retry.call_args.kwargs["args"] == ([team.pk], MONDAY.isoformat())
    assert Checklist.objects.filter(member=other).exists()  # the shop after the failing one was not held up
    assert not Checklist.objects.filter(member=warehouse_member).exists()
    assert generate_for_teams.run([team.pk], MONDAY.isoformat()) == "1 shops"
    assert Checklist.objects.filter(member=warehouse_member).exists()


def test_run_jobs_runs_only_the_shops_with_lists_to_create(team, warehouse_member, other_team, capsys):
    from django.core.management import call_command

    call_command("run_jobs", at="2026-11-23 08:00", job=["generate_checklists"])
    out = capsys.readouterr().out
    assert "shop 2026-11-23: 1 checklists" in out
    assert "other 2026-11-23" not in out  # no member, nothing due: not run
    call_command("run_jobs", at="2026-11-23 08:00", job=["generate_checklists"])
    out = capsys.readouterr().out
    assert "nothing to do" in out
    assert "shop 2026-11-23" not in out
    assert Checklist.objects.filter(date=date(2026, 11, 23)).count() == 1
