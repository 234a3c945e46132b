"""The weekly meeting in a browser: the chair marks attendance, writes the minutes in Chinese, adds an action item and
publishes; the owner finds the action item as a duty on their today page."""

from __future__ import annotations

from django.utils import timezone
from playwright.sync_api import expect

from checklists.meetings.services import meeting_create
from checklists.models import ActionItem, MeetingSeries, MeetingStatus
from opsteam.lib.clock import local_date
from tests.browser.conftest import PHONE, login

NOTES = "本周销售额比上周**增长 12%**,主推款转化率偏低。\n\n- 直通车预算不变\n- 详情页下周改版"
ACTION = "下周一前提交补货需求表"


def test_the_chair_publishes_the_weekly_minutes_and_the_owner_sees_the_duty(
    new_page, screenshots, team, director, warehouse_member, service_member
):
    now = timezone.now()
    today = local_date(now)
    weekly, _created = meeting_create(series=MeetingSeries.objects.get(team=team, playbook_id="M-WEEKLY"), day=today, now=now)

    chair = new_page(**PHONE)
    login(chair, "boss")
    chair.goto("/meetings/")
    chair.get_by_test_id("meeting-list").get_by_role("link", name=weekly.title).click()
    chair.wait_for_url(f"**/meetings/{weekly.pk}/")
    expect(chair.locator("h1")).to_contain_text("部门周会")
    expect(chair.locator("#agenda")).to_contain_text("工作 - 业绩进展")
    chair.screenshot(path=screenshots / "meetings-1-weekly-draft-phone.png", full_page=True)

    # Attendance: htmx swaps the row in place.
    chair.get_by_test_id(f"attendance-{director.display_name}").locator("button[value=present]").click()
    expect(chair.get_by_test_id(f"attendance-{director.display_name}").locator("button.on")).to_have_attribute("value", "present")
    chair.get_by_test_id(f"attendance-{service_member.display_name}").locator("button[value=late]").click()
    expect(chair.get_by_test_id(f"attendance-{service_member.display_name}").locator("button.on")).to_have_attribute("value", "late")

    # Minutes in Chinese under the first agenda item (its notes box is open).
    first = weekly.agenda_items.order_by("order").first()
    chair.fill(f"#notes-{first.pk}", NOTES)
    chair.locator(f"#agenda-{first.pk} form button[type=submit]").click()
    expect(chair.get_by_test_id(f"save-status-{first.pk}")).to_have_text("已保存")  # saved in place, the box untouched
    chair.reload()
    notes = chair.get_by_test_id(f"notes-{first.pk}")
    expect(notes.locator("strong")).to_have_text("增长 12%")
    expect(notes.locator("li")).to_have_count(2)

    # An action item for the warehouse member, due today.
    chair.fill("#action-title", ACTION)
    chair.select_option("#action-owner", label=warehouse_member.display_name)
    chair.fill("#action-due", today.isoformat())
    chair.locator("form.action-form button[type=submit]").click()  # htmx: only the action items are redrawn
    expect(chair.get_by_test_id("action-items")).to_contain_text(ACTION)
    expect(chair.get_by_test_id("action-items")).to_contain_text(warehouse_member.display_name)

    chair.get_by_test_id("publish").click()
    with chair.expect_navigation():
        chair.get_by_test_id("publish-now").click()
    expect(chair.get_by_test_id("published-note")).to_be_visible()
    expect(chair.get_by_test_id("publish")).to_have_count(0)
    expect(chair.locator(f"#notes-{first.pk}")).to_have_count(0)  # read-only now: no notes box, only "amend"
    chair.screenshot(path=screenshots / "meetings-2-weekly-published-phone.png", full_page=True)
    weekly.refresh_from_db()
    assert weekly.status == MeetingStatus.PUBLISHED

    chair.goto(f"/meetings/{weekly.pk}/print/")
    expect(chair.locator("body")).to_contain_text(ACTION)
    chair.screenshot(path=screenshots / "meetings-3-print.png", full_page=True)

    owner = new_page(**PHONE)
    login(owner, "wh1")
    task_id = ActionItem.objects.get(meeting=weekly).task_id
    expect(owner.locator(f"#task-{task_id}")).to_contain_text(ACTION)
    owner.screenshot(path=screenshots / "meetings-4-owner-today-phone.png", full_page=True)


def test_the_meetings_list_on_a_desktop(page, screenshots, team, director):
    now = timezone.now()
    for playbook_id in ("M-WEEKLY", "M-EVENING"):
        meeting_create(series=MeetingSeries.objects.get(team=team, playbook_id=playbook_id), day=local_date(now), now=now)
    login(page, "boss")
    page.goto("/meetings/")
    expect(page.get_by_test_id("meeting-list").locator("li")).to_have_count(2)
    page.screenshot(path=screenshots / "meetings-5-list-desktop.png", full_page=True)


def test_a_member_answers_the_weekly_reflection_on_a_phone_and_the_lead_reads_it(
    new_page, screenshots, team, warehouse_member, warehouse_lead
):
    member = new_page(**PHONE)
    login(member, "wh1")
    member.goto("/reflection/")
    member.fill("#Q-THINK-1", "款式和面料基本清楚,配件还要再学")
    member.fill("#Q-THINK-14", "每天都很开心,建议增加周五的分享")
    with member.expect_navigation():
        member.locator("form.reflection-form button[type=submit]").click()
    expect(member.locator("#Q-THINK-14")).to_have_value("每天都很开心,建议增加周五的分享")
    member.screenshot(path=screenshots / "meetings-6-reflection-phone.png", full_page=True)

    lead = new_page(**PHONE)
    login(lead, "whlead")
    lead.goto("/reflection/")
    lead.get_by_text(warehouse_member.display_name).click()
    expect(lead.locator("dl.answers")).to_contain_text("配件还要再学")
