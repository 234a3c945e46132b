"""Issue 17: the minutes page keeps what is typed (static/js/minutes.js), asks before publishing, and reads Markdown as
CommonMark."""

from __future__ import annotations

from django.utils import timezone
from playwright.sync_api import expect

from checklists.meetings.services import meeting_create
from checklists.models import MeetingSeries, MeetingStatus
from opsteam.lib.clock import local_date
from tests.browser.conftest import PHONE, login

PHONE_390 = {**PHONE, "viewport": {"width": 390, "height": 844}}


def _weekly(team):
    now = timezone.now()
    weekly, _created = meeting_create(series=MeetingSeries.objects.get(team=team, playbook_id="M-WEEKLY"), day=local_date(now), now=now)
    return weekly


def test_typed_notes_survive_a_decision_being_added_and_a_reload_and_a_list_under_a_line_is_a_list(new_page, team, director):
    weekly = _weekly(team)
    first = weekly.agenda_items.order_by("order").first()
    page = new_page(**PHONE_390)
    login(page, "boss")
    page.goto(f"/meetings/{weekly.pk}/")
    page.fill(f"#notes-{first.pk}", "今天要做:\n- 补货\n- 复盘")  # not saved by hand
    page.fill("#decision-text", "每天晚会复盘")
    page.locator("#decisions button[type=submit]").last.click()
    expect(page.locator("#decisions")).to_contain_text("每天晚会复盘")
    expect(page.locator(f"#notes-{first.pk}")).to_have_value("今天要做:\n- 补货\n- 复盘")  # the decision did not wipe it
    expect(page.get_by_test_id(f"save-status-{first.pk}")).to_have_text("已保存")
    page.reload()
    expect(page.locator(f"#notes-{first.pk}")).to_have_value("今天要做:\n- 补货\n- 复盘")
    expect(page.get_by_test_id(f"notes-{first.pk}").locator("ul > li")).to_have_count(2)  # CommonMark: a list under a line
    first.refresh_from_db()
    assert first.notes == "今天要做:\n- 补货\n- 复盘"


def test_a_second_writer_sees_both_texts_instead_of_overwriting(new_page, team, director):
    weekly = _weekly(team)
    first = weekly.agenda_items.order_by("order").first()
    one, two = new_page(**PHONE_390), new_page()
    for page in (one, two):
        login(page, "boss")
        page.goto(f"/meetings/{weekly.pk}/")
    one.fill(f"#notes-{first.pk}", "甲的记录")
    expect(one.get_by_test_id(f"save-status-{first.pk}")).to_have_text("已保存")
    two.fill(f"#notes-{first.pk}", "乙的记录")
    expect(two.get_by_test_id(f"theirs-{first.pk}")).to_have_text("甲的记录")
    expect(two.get_by_test_id(f"save-status-{first.pk}")).to_contain_text("未保存")
    first.refresh_from_db()
    assert first.notes == "甲的记录"


def test_publishing_asks_first_and_names_who_is_not_marked(new_page, team, director):
    weekly = _weekly(team)
    page = new_page(**PHONE_390)
    login(page, "boss")
    page.goto(f"/meetings/{weekly.pk}/")
    page.get_by_test_id("publish").click()
    expect(page.get_by_test_id("unmarked")).to_contain_text(director.display_name)
    weekly.refresh_from_db()
    assert weekly.status == MeetingStatus.DRAFT  # opening the confirmation publishes nothing
    with page.expect_navigation():
        page.get_by_test_id("publish-now").click()
    expect(page.get_by_test_id("published-note")).to_be_visible()
