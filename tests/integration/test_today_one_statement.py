"""A member's own day in one statement on PostgreSQL (issue 8), held equal to the ORM way it stands in for.

checklists.selectors.today reads a member's own lists (with the carry-over) in one prepared statement, and
checklists.selectors.tasks their duties in another; a lead's look at a member's day, and SQLite, go the
ORM way with the models' visible_to. These tests build a day with something of every kind on it and read
it both ways: the rows, their related objects and the rendered page must be the same.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checklists.models import ChecklistItem, ItemStatus, TaskSource
from checklists.selectors import today as today_selectors
from checklists.selectors.tasks import task_list_for_today
from checklists.selectors.today import today_for_member
from checklists.services.generation import run_generate_for_date
from checklists.services.tasks import task_complete, task_create
from checklists.services.ticks import tick_record
from roles.models import Cover, Role
from tests.conftest import MONDAY

pytestmark = pytest.mark.integration

FRIDAY = MONDAY - timedelta(days=3)
AT = MONDAY.replace(hour=9, minute=30)  # before the carry-over cut-off


@pytest.fixture
def busy_day(team, warehouse_member, warehouse_teammate, warehouse_lead, service_member, director):
    """Friday left half done, Monday with ticks of every kind, a cover, and duties in and out of the page."""
    run_generate_for_date(team=team, day=FRIDAY.date(), now=FRIDAY)
    friday = list(ChecklistItem.objects.filter(checklist__assignee=warehouse_member, checklist__date=FRIDAY.date(), is_group=False))
    for one in friday[:3]:
        tick_record(item=one, actor=warehouse_member, now=FRIDAY.replace(hour=10))
    Cover.objects.create(team=team, absent=warehouse_teammate, cover=warehouse_member, start_date=MONDAY.date(), end_date=MONDAY.date())
    run_generate_for_date(team=team, day=MONDAY.date(), now=MONDAY)
    monday = ChecklistItem.objects.filter(checklist__assignee=warehouse_member, checklist__date=MONDAY.date(), is_group=False)
    checks = list(monday.filter(kind="check", parent__isnull=True).order_by("id"))
    tick_record(item=checks[0], actor=warehouse_member, now=AT - timedelta(minutes=20))
    tick_record(item=checks[1], actor=warehouse_lead, now=AT - timedelta(minutes=10))  # on the member's behalf
    tick_record(item=checks[2], actor=warehouse_member, now=AT, status=ItemStatus.NOT_DONE, note="缺货，明天补")
    counted = monday.filter(kind="count").first()
    if counted is not None:
        tick_record(item=counted, actor=warehouse_member, now=AT, value=counted.target or 3)
    role = Role.objects.get(team=team, code="warehouse")
    due = MONDAY.replace(hour=16)
    task_create(
        team=team, title="盘点胶带库存", due_at=due, source=TaskSource.ADHOC, now=MONDAY, owner=warehouse_member, created_by=warehouse_lead
    )
    task_create(team=team, title="仓库角色任务", due_at=due + timedelta(days=3), source=TaskSource.ADHOC, now=MONDAY, role=role)
    task_create(team=team, title="下周的事", due_at=due + timedelta(days=10), source=TaskSource.ADHOC, now=MONDAY, owner=warehouse_member)
    task_create(team=team, title="客服的事", due_at=due, source=TaskSource.ADHOC, now=MONDAY, owner=service_member)
    done_today = task_create(team=team, title="今天做完的", due_at=due, source=TaskSource.ADHOC, now=MONDAY, owner=warehouse_member)
    task_complete(task=done_today, member=warehouse_member, now=AT)
    done_friday = task_create(
        team=team, title="上周五做完的", due_at=FRIDAY.replace(hour=16), source=TaskSource.ADHOC, now=FRIDAY, owner=warehouse_member
    )
    task_complete(task=done_friday, member=warehouse_member, now=FRIDAY.replace(hour=11))


@pytest.fixture
def orm_way(monkeypatch):
    """Switch the one-statement reads off: what follows reads the ORM way."""

    def switch():
        monkeypatch.setattr(today_selectors, "own_day_read_applies", lambda **kwargs: False)

    return switch


def day_rows(day) -> dict:
    """Everything the page shows of a Today, with the related objects it reaches."""

    def view_rows(view):
        def row(r):
            item = r.item
            return (
                # Every stored field but updated_at, which the page never shows (the statement leaves it deferred).
                {f.attname: getattr(item, f.attname) for f in ChecklistItem._meta.concrete_fields if f.attname != "updated_at"},
                r.is_overdue,
                item.done_by.display_name if item.done_by else None,
                item.checklist.assignee_id,
                [row(child) for child in r.children],
            )

        c = view.checklist
        return {
            "list": (c.pk, c.date, c.name, c.role.name, c.role.order, c.member.display_name, c.assignee.pk, c.is_covered),
            "figures": (view.total, view.done, view.closed, view.percent, view.is_carryover),
            "rows": [row(r) for r in view.rows],
        }

    return {"day": day.day, "lists": [view_rows(v) for v in day.lists], "carryover": [view_rows(v) for v in day.carryover]}


def duty_rows(duties) -> list:
    names = ("role", "owner", "assignee", "done_by", "created_by")
    return [
        (t.pk, t.title, t.status, t.due_at, t.done_at, t.is_late, *(str(getattr(t, name)) if getattr(t, name) else None for name in names))
        for t in duties
    ]


def test_a_members_own_day_reads_the_same_both_ways(busy_day, warehouse_member, orm_way):
    with CaptureQueriesContext(connection) as queries:
        fast = today_for_member(member=warehouse_member, now=AT)
        fast_duties = task_list_for_today(viewer=warehouse_member, member=warehouse_member, now=AT)
        fast_rows, fast_duty_rows = day_rows(fast), duty_rows(fast_duties)  # reaches every related object
    # The day, the member's roles (a page has them from the login already), the duties.
    assert len(queries.captured_queries) == 3, [q["sql"][:80] for q in queries.captured_queries]
    orm_way()
    slow = today_for_member(member=warehouse_member, now=AT)
    slow_duties = task_list_for_today(viewer=warehouse_member, member=warehouse_member, now=AT)

    assert fast_rows == day_rows(slow)
    assert fast_duty_rows == duty_rows(slow_duties)
    # The day has what the comparison is about: a cover, a carry-over, ticks by others, duties kept and left out.
    assert any(v.checklist.is_covered for v in fast.lists)
    assert fast.carryover
    assert all(v.checklist.date == FRIDAY.date() for v in fast.carryover)
    assert any(r.item.done_by_id not in (None, warehouse_member.pk) for v in fast.lists for r in v.rows)
    assert [t.title for t in fast_duties] == ["今天做完的", "盘点胶带库存", "仓库角色任务"]


def test_after_the_cut_off_there_is_no_carry_over_either_way(busy_day, warehouse_member, orm_way):
    afternoon = MONDAY.replace(hour=15)
    fast = today_for_member(member=warehouse_member, now=afternoon)
    orm_way()
    slow = today_for_member(member=warehouse_member, now=afternoon)
    assert fast.carryover == slow.carryover == []
    assert day_rows(fast) == day_rows(slow)


def test_a_carry_over_day_with_nothing_open_is_not_shown_either_way(busy_day, warehouse_member, orm_way):
    ChecklistItem.objects.filter(checklist__date=FRIDAY.date(), status=ItemStatus.OPEN).update(
        status=ItemStatus.NOT_DONE, done_at=FRIDAY.replace(hour=18)
    )
    fast = today_for_member(member=warehouse_member, now=AT)
    orm_way()
    assert fast.carryover == today_for_member(member=warehouse_member, now=AT).carryover == []


def test_another_shops_lists_of_the_same_member_id_are_not_read(busy_day, warehouse_member, team, other_team):
    """The statement keeps the team condition: a list in another shop is not on the day even if assigned to the id."""
    mine = today_for_member(member=warehouse_member, now=AT)
    moved = mine.lists[0].checklist
    type(moved).objects.filter(pk=moved.pk).update(team=other_team)
    assert moved.pk not in [v.checklist.pk for v in today_for_member(member=warehouse_member, now=AT).lists]


def test_the_today_page_is_the_same_page_both_ways(busy_day, client, warehouse_member, orm_way):
    client.force_login(warehouse_member.user)

    def page() -> str:
        with time_machine.travel(AT, tick=False):
            body = client.get("/today/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        return re.sub(r'(name="csrfmiddlewaretoken" value=|"X-CSRFToken": )"[^"]+"', r"\1-", body)

    fast = page()
    orm_way()
    assert fast == page()
    assert fast.count('data-testid="item"') > 20
    assert "盘点胶带库存" in fast
    assert "缺货，明天补" in fast


def test_the_page_costs_two_queries_fewer_on_postgresql(busy_day, client, warehouse_member, django_assert_num_queries):
    """Session, user (with member, team, roles, covers), the day in one, the duties, the bell's count."""
    client.force_login(warehouse_member.user)
    with time_machine.travel(AT, tick=False), django_assert_num_queries(5):
        assert client.get("/today/").status_code == 200


def test_the_page_sends_its_day_duties_and_bell_at_once(busy_day, client, warehouse_member, monkeypatch):
    """The three reads that do not depend on each other go in one pipeline (one round trip)."""
    from checklists.selectors import today_page
    from opsteam.lib import db

    sent = []

    def counted(*statements):
        sent.append(len(statements))
        return db.fetch_all_together(*statements)

    monkeypatch.setattr(today_page, "fetch_all_together", counted)
    client.force_login(warehouse_member.user)
    with time_machine.travel(AT, tick=False):
        page = client.get("/today/").content.decode()
    assert sent == [3]
    assert "盘点胶带库存" in page  # the duties came back from the pipeline
    assert 'data-testid="bell-count">' in page


def test_statements_sent_together_read_what_they_read_one_by_one(busy_day, warehouse_member):
    from checklists.selectors.notifications import unread_count_statement
    from checklists.selectors.tasks import own_duties_statement
    from opsteam.lib.db import fetch_all_together, prepared_cursor

    statements = [
        today_selectors.own_day_statement(member=warehouse_member, now=AT),
        own_duties_statement(member=warehouse_member, now=AT),
        unread_count_statement(member=warehouse_member),
    ]
    one_by_one = []
    for sql, params in statements:
        with prepared_cursor() as cursor:
            cursor.execute(sql, params)
            one_by_one.append(cursor.fetchall())
    assert fetch_all_together(*statements) == one_by_one
    assert all(one_by_one[:2])  # the day and its duties are not empty


def test_a_failing_statement_sent_together_raises_django_s_error_and_the_connection_goes_on(db):
    from django.db import DatabaseError, transaction

    from opsteam.lib.db import fetch_all_together

    with pytest.raises(DatabaseError), transaction.atomic():
        fetch_all_together(("SELECT 1", []), ("SELECT no_such_column FROM roles_team", []), ("SELECT 2", []))
    assert fetch_all_together(("SELECT 3", [])) == [[(3,)]]
