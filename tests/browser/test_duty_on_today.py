"""A duty ticked from the today page like an item (issue 17): one tap, the row answers in place, undo brings it back."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from checklists.duties.services import task_assign
from checklists.models import Task, TaskStatus
from tests.browser.conftest import PHONE, login


def test_a_duty_is_ticked_from_the_today_page(new_page, warehouse_member, warehouse_lead, today_lists):
    now = timezone.now()
    duty = task_assign(member=warehouse_lead, title="提交补货表", due_at=now + timedelta(hours=2), now=now, owner=warehouse_member)
    page = new_page(**PHONE)
    login(page, "wh1")
    page.goto("/today/")
    row = page.locator(f"#task-{duty.pk}")
    expect(row).to_contain_text("提交补货表")
    row.locator("[data-testid=duty-tick]").tap()
    expect(page.locator(f"#task-{duty.pk} [data-testid=duty-undo]")).to_be_visible()
    assert page.url.endswith("/today/")  # in place, no page change
    assert Task.objects.get(pk=duty.pk).status == TaskStatus.DONE

    page.locator(f"#task-{duty.pk} [data-testid=duty-undo]").tap()
    expect(page.locator(f"#task-{duty.pk} [data-testid=duty-tick]")).to_be_visible()
    assert Task.objects.get(pk=duty.pk).status == TaskStatus.OPEN
