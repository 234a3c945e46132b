"""The pages: login, today (htmx and plain posts), history, photos, the language switch."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from checklists.daily.ticks import tick_record
from checklists.models import ChecklistItem, TickEvent
from tests.conftest import MONDAY


@pytest.fixture
def logged_in(client, warehouse_member):
    client.force_login(warehouse_member.user)
    return client


def test_the_login_page_is_in_chinese_by_default(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert 'lang="zh-hans"' in response.content.decode()


def test_the_language_switch_is_on_every_page_and_switches_to_english(logged_in, generate, frozen):
    generate()
    page = logged_in.get("/today/").content.decode()
    assert 'action="/i18n/setlang/"' in page
    logged_in.post("/i18n/setlang/", {"language": "en", "next": "/today/"})
    assert 'lang="en"' in logged_in.get("/today/").content.decode()


def test_anonymous_users_are_sent_to_login(client, db):
    response = client.get("/today/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_today_shows_my_lists_grouped_with_progress(logged_in, generate, frozen):
    generate()
    page = logged_in.get("/today/").content.decode()
    assert "仓库每日自查" in page
    assert "包装盒" in page
    assert 'data-testid="day-percent">0%' in page


def test_today_costs_a_fixed_number_of_queries_whatever_the_number_of_items(logged_in, team, generate, frozen, django_assert_num_queries):
    from checklists.models import TemplateItem

    generate()
    # session, user with its member, team, roles and covers (MemberModelBackend), lists, items, carry-over
    # date, the day's duties, the bell's unread count
    # (5 on PostgreSQL, where a member's own day is one statement, sent with the duties and the bell's count
    # at once: tests/integration/test_today_one_statement.py)
    queries = 7 if connection.vendor == "sqlite" else 5
    with django_assert_num_queries(queries):
        assert logged_in.get("/today/").status_code == 200
    ChecklistItem.objects.all().delete()
    ChecklistItem.objects.model.checklist.field.related_model.objects.all().delete()
    template = TemplateItem.objects.filter(template__team=team, template__playbook_id="SC-WH").first().template
    TemplateItem.objects.bulk_create(TemplateItem(template=template, order=100 + n, text=f"检查 {n}") for n in range(40))
    generate()
    with django_assert_num_queries(queries):
        page = logged_in.get("/today/").content.decode()
    assert "检查 39" in page


def test_a_tick_with_htmx_returns_the_card_and_the_total(logged_in, warehouse_member, generate, frozen):
    generate()
    item = ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")
    response = logged_in.post(f"/items/{item.pk}/tick/", {"action": "done"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="list-{item.checklist_id}"' in body
    assert 'id="day-total"' in body
    assert 'hx-swap-oob="true"' in body
    item.refresh_from_db()
    assert item.status == "done"


def test_a_plain_form_post_works_without_javascript(logged_in, warehouse_member, generate, frozen):
    generate()
    item = ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")
    response = logged_in.post(f"/items/{item.pk}/tick/", {"action": "done"})
    assert response.status_code == 302
    assert f"#item-{item.pk}" in response["Location"]
    response = logged_in.post(f"/items/{item.pk}/untick/")
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "open"


def test_a_bad_input_shows_a_clear_message_and_saves_nothing(client, operations_member, generate, frozen):
    client.force_login(operations_member.user)
    generate()
    item = ChecklistItem.objects.get(checklist__member=operations_member, playbook_id="SC-CS-5")
    body = client.post(f"/items/{item.pk}/tick/", {"action": "done", "value": "7.5"}, HTTP_HX_REQUEST="true").content.decode()
    assert "整数" in body
    assert 'class="errors"' in body
    assert 'value="7.5"' in body  # what the worker typed is kept
    follow = client.post(f"/items/{item.pk}/tick/", {"action": "done", "value": "x"}, follow=True).content.decode()
    assert 'role="alert"' in follow
    item.refresh_from_db()
    assert item.status == "open"
    assert not TickEvent.objects.exists()


def test_someone_else_s_item_is_not_found(client, service_member, warehouse_member, generate, frozen):
    generate()
    item = ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")
    client.force_login(service_member.user)
    assert client.post(f"/items/{item.pk}/tick/", {"action": "done"}).status_code == 404
    assert client.get(f"/items/{item.pk}/photo/").status_code == 404


def test_yesterday_s_unfinished_items_stay_until_the_cutoff_and_are_late_when_ticked(client, warehouse_member, generate):
    generate()
    tuesday_morning = MONDAY + timedelta(days=1, hours=1)  # Tue 09:00
    generate(tuesday_morning)
    logged_in = client
    with time_machine.travel(tuesday_morning, tick=False):
        client.force_login(warehouse_member.user)
        page = logged_in.get("/today/").content.decode()
        assert "11-23" in page  # the carried-over card shows its date
        monday_item = ChecklistItem.objects.get(checklist__member=warehouse_member, checklist__date="2026-11-23", playbook_id="SC-WH-2")
        logged_in.post(f"/items/{monday_item.pk}/tick/", {"action": "done"})
        monday_item.refresh_from_db()
        assert monday_item.is_late
    with time_machine.travel(MONDAY + timedelta(days=1, hours=5), tick=False):  # Tue 13:00, after the 12:00 cutoff
        assert "11-23" not in logged_in.get("/today/").content.decode()


def test_history_shows_my_days_and_a_lead_sees_each_member(client, warehouse_member, warehouse_lead, generate):
    generate()
    item = ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")
    tick_record(item=item, actor=warehouse_member, now=MONDAY + timedelta(hours=3))  # 11:00, late
    with time_machine.travel(MONDAY + timedelta(days=1), tick=False):
        client.force_login(warehouse_member.user)
        mine = client.get("/history/")
        assert mine.context["days"][0].late == 1
        assert mine.context["days"][0].done == 1
        assert "team_rows" not in mine.context
        client.force_login(warehouse_lead.user)
        lead = client.get("/history/")
        assert [row.member for row in lead.context["team_rows"]] == [warehouse_member]


def test_a_login_without_a_team_gets_a_friendly_403(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get("/today/")
    assert response.status_code == 403
    assert "director" in response.content.decode() or "总监" in response.content.decode()


def test_a_lead_opens_a_member_s_day_and_ticks_on_their_behalf(client, warehouse_member, warehouse_lead, generate, frozen):
    generate()
    client.force_login(warehouse_lead.user)
    page = client.get(f"/today/?member={warehouse_member.pk}")
    assert page.status_code == 200
    assert page.context["today"].lists[0].checklist.member == warehouse_member
    item = ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")
    back = client.post(f"/items/{item.pk}/tick/", {"action": "done"}, HTTP_REFERER=f"http://testserver/today/?member={warehouse_member.pk}")
    assert back["Location"] == f"http://testserver/today/?member={warehouse_member.pk}#item-{item.pk}"
    event = TickEvent.objects.get()
    assert (event.actor, event.on_behalf_of) == (warehouse_lead, warehouse_member)


def test_staff_and_other_roles_cannot_open_someone_else_s_day(client, warehouse_member, warehouse_teammate, service_member, outsider):
    for viewer in (warehouse_teammate, service_member, outsider):
        client.force_login(viewer.user)
        assert client.get(f"/today/?member={warehouse_member.pk}").status_code == 404


def test_an_offsite_referer_is_not_followed(logged_in, warehouse_member, generate, frozen):
    generate()
    item = ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")
    response = logged_in.post(f"/items/{item.pk}/tick/", {"action": "done"}, HTTP_REFERER="https://evil.example/today/")
    assert response["Location"] == f"/today/#item-{item.pk}"


def test_a_lead_sees_only_the_member_s_lists_they_may_act_on(
    client, team, warehouse_member, warehouse_lead, service_member, generate, frozen
):
    from datetime import date

    from roles.services import cover_create

    cover_create(absent=service_member, cover=warehouse_member, start_date=date(2026, 11, 23), end_date=date(2026, 11, 23))
    generate()
    client.force_login(warehouse_lead.user)
    lists = client.get(f"/today/?member={warehouse_member.pk}").context["today"].lists
    assert [view.checklist.role.code for view in lists] == ["warehouse"]  # not the 客服 list they cover


def test_today_s_open_items_are_not_counted_as_missed_until_the_day_is_over(client, warehouse_member, generate):
    generate()
    with time_machine.travel(MONDAY, tick=False):
        client.force_login(warehouse_member.user)
        [today] = client.get("/history/").context["days"]
        assert (today.missed, today.open) == (0, today.total)
    with time_machine.travel(MONDAY + timedelta(days=1), tick=False):
        client.force_login(warehouse_member.user)
        [monday] = client.get("/history/").context["days"]
        assert monday.missed == monday.total


def test_the_today_page_lists_my_open_duties_and_a_lead_assigns_one_from_the_duties_page(
    client, team, warehouse_member, warehouse_lead, frozen
):
    client.force_login(warehouse_lead.user)
    response = client.post(
        "/tasks/", {"title": "盘点胶带库存", "owner": warehouse_member.pk, "due_date": "2026-11-23", "due_time": "16:00", "detail": ""}
    )
    assert response.status_code == 302
    client.force_login(warehouse_member.user)
    page = client.get("/today/").content.decode()
    assert "盘点胶带库存" in page


def test_assigning_a_duty_with_a_bad_date_says_what_is_wrong_and_keeps_the_title(client, team, warehouse_member, warehouse_lead, frozen):
    client.force_login(warehouse_lead.user)
    response = client.post(
        "/tasks/", {"title": "盘点胶带库存", "owner": warehouse_member.pk, "due_date": "23/11/2026", "due_time": "16:00"},
        HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    assert response.status_code == 400
    body = response.content.decode()
    assert "YYYY-MM-DD" in body
    assert 'value="盘点胶带库存"' in body


def test_a_refused_duty_keeps_the_due_date_that_was_typed(client, team, warehouse_member, warehouse_lead, frozen):
    client.force_login(warehouse_lead.user)
    response = client.post("/tasks/", {"title": "x" * 300, "owner": warehouse_member.pk, "due_date": "2026-11-27", "due_time": "25:99"})
    assert response.status_code == 400
    assert 'name="due_date" required value="2026-11-27"' in response.content.decode()


def test_staff_cannot_assign_duties(client, team, warehouse_member, warehouse_teammate, frozen):
    client.force_login(warehouse_member.user)
    response = client.post("/tasks/", {"title": "x", "owner": warehouse_teammate.pk, "due_date": "2026-11-23", "due_time": "16:00"})
    assert response.status_code == 403


def test_a_problem_order_is_logged_from_the_page_and_closed(client, team, service_member, frozen):
    client.force_login(service_member.user)
    response = client.post("/problems/", {"order_no": "2026112300123", "kind": "refund", "note": "客户要求退款"})
    assert response.status_code == 302
    page = client.get("/problems/").content.decode()
    assert "2026112300123" in page
    from checklists.models import ProblemOrder

    problem = ProblemOrder.objects.get(order_no="2026112300123")
    assert problem.task.role.code == "service"
    client.post(f"/problems/{problem.pk}/close/", {"resolution": "已退款"})
    problem.refresh_from_db()
    assert problem.closed_at is not None
    assert problem.task.status == "done"


def test_the_pages_of_duties_escalations_campaigns_and_plans_open(client, team, director, frozen):
    client.force_login(director.user)
    for url in ("/tasks/", "/tasks/?scope=team", "/problems/", "/campaigns/", "/plans/", "/escalations/", "/escalations/?status=bogus"):
        assert client.get(url).status_code == 200, url


def test_a_director_creates_a_campaign_and_a_plan_from_the_pages(client, team, director, warehouse_lead, frozen):
    client.force_login(director.user)
    response = client.post("/campaigns/", {"name": "双12", "date": "2026-12-12"})
    assert response.status_code == 400  # T-CAMPAIGN-3 counts from the sign-up date (PLAYBOOK v2): asked for, not guessed
    assert "signup_date" in response.context["error_fields"]
    response = client.post("/campaigns/", {"name": "双12", "date": "2026-12-12", "signup_date": "2026-12-01"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "双12" in page
    assert "T-CAMPAIGN-3" in page
    response = client.post("/plans/", {"title": "春节备货方案", "proposal": "提前备货"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "总监提出构想策划书" in page


def test_a_lead_cannot_open_another_teams_duty(client, team, warehouse_lead, outsider, frozen):
    from datetime import datetime

    from checklists.duties.services import task_create
    from opsteam.lib.clock import business_tz

    now = datetime(2026, 11, 23, 8, 0, tzinfo=business_tz())
    foreign = task_create(team=outsider.team, title="x", due_at=now, source="adhoc", now=now, owner=outsider)
    client.force_login(warehouse_lead.user)
    assert client.get(f"/tasks/{foreign.pk}/").status_code == 404


def test_the_today_page_shows_a_duty_due_in_the_coming_week_but_not_one_due_later(client, team, warehouse_member, warehouse_lead, frozen):
    client.force_login(warehouse_lead.user)
    for title, day in (("明天要交的补货表", "2026-11-24"), ("下个月的盘点", "2026-12-21")):
        client.post("/tasks/", {"title": title, "owner": warehouse_member.pk, "due_date": day, "due_time": "16:00"})
        client.get("/tasks/")  # the lead reads the confirmation, so it is not shown to the next login
    client.force_login(warehouse_member.user)
    page = client.get("/today/").content.decode()
    assert "明天要交的补货表" in page
    assert "下个月的盘点" not in page


def test_opening_a_post_only_address_shows_a_page_saying_so(client, warehouse_member):
    client.force_login(warehouse_member.user)

    response = client.get("/items/1/tick/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "这不是可以直接打开的页面" in response.content.decode()
    api = client.get("/api/v1/checklist-items/1/tick/")
    assert api.status_code == 405
    assert api["Content-Type"].startswith("application/json")


def test_a_cover_logged_in_ticks_the_absent_members_item_and_a_lead_opens_their_roles_day(
    client, warehouse_member, warehouse_teammate, warehouse_lead, generate, frozen
):
    """The session's user comes with the member's roles and covers (MemberModelBackend): both rules still hold."""
    from roles.services import cover_create

    generate()
    item = ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")
    client.force_login(warehouse_teammate.user)
    assert client.post(f"/items/{item.pk}/tick/", {"action": "done"}).status_code == 404
    cover_create(absent=warehouse_member, cover=warehouse_teammate, start_date=MONDAY.date(), end_date=MONDAY.date())
    assert client.post(f"/items/{item.pk}/tick/", {"action": "done"}).status_code == 302
    item.refresh_from_db()
    assert item.done_by_id == warehouse_teammate.pk

    client.force_login(warehouse_lead.user)
    assert client.get(f"/today/?member={warehouse_member.pk}").status_code == 200
    client.force_login(warehouse_teammate.user)
    assert client.get(f"/today/?member={warehouse_lead.pk}").status_code == 404
