"""Issue 17 (3): the minutes page keeps what is typed: notes saved as typed, a second writer's save shown as a
conflict with both texts, decisions and action items edited and removed until publishing (as page parts), publishing
confirmed with who is not yet marked, and Markdown as CommonMark."""

from __future__ import annotations

import pytest

from checklists.meetings.editing import notes_version
from checklists.models import MeetingStatus, Task, TaskStatus
from opsteam.lib.text import markdown_render
from tests.test_meetings import weekly  # noqa: F401 (the fixture)


@pytest.fixture
def chair(client, director, weekly):  # noqa: F811
    client.force_login(director.user)
    return client


def _notes(client, weekly, item, text, base, **headers):  # noqa: F811
    return client.post(f"/meetings/{weekly.pk}/agenda/{item.pk}/notes/", {"notes": text, "base": base}, HTTP_X_AUTOSAVE="1", **headers)


def test_autosave_answers_the_new_version_and_keeps_the_notes(chair, weekly, frozen):  # noqa: F811
    item = weekly.agenda_items.first()
    response = _notes(chair, weekly, item, "第一稿", notes_version(item.notes))
    assert response.status_code == 200
    assert response.json() == {"status": "saved", "version": notes_version("第一稿")}
    item.refresh_from_db()
    assert item.notes == "第一稿"


def test_a_second_writer_from_an_old_version_gets_a_conflict_with_the_stored_text(chair, weekly, frozen):  # noqa: F811
    item = weekly.agenda_items.first()
    start = notes_version(item.notes)
    assert _notes(chair, weekly, item, "甲写的", start).status_code == 200
    response = _notes(chair, weekly, item, "乙写的", start)
    assert response.status_code == 409
    assert response.json()["theirs"] == "甲写的"
    item.refresh_from_db()
    assert item.notes == "甲写的"
    # Merged and saved from the other's version: accepted.
    assert _notes(chair, weekly, item, "甲写的\n乙写的", response.json()["version"]).status_code == 200


def test_the_page_form_without_script_also_shows_both_texts_on_a_conflict(chair, weekly, frozen):  # noqa: F811
    item = weekly.agenda_items.first()
    start = notes_version(item.notes)
    _notes(chair, weekly, item, "甲写的", start)
    body = chair.post(f"/meetings/{weekly.pk}/agenda/{item.pk}/notes/", {"notes": "乙写的", "base": start}, HTTP_HX_REQUEST="true")
    html = body.content.decode()
    assert "甲写的" in html
    assert "乙写的" in html
    assert "data-conflict hidden" not in html


def test_adding_a_decision_with_htmx_redraws_only_the_decisions(chair, weekly, frozen):  # noqa: F811
    response = chair.post(f"/meetings/{weekly.pk}/decisions/", {"text": "每天晚会复盘"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith("<section") or 'id="decisions"' in html.split("\n", 2)[1]
    assert "每天晚会复盘" in html
    assert 'id="agenda"' not in html


def test_a_decision_is_edited_and_removed_until_the_minutes_are_published(chair, weekly, frozen):  # noqa: F811
    chair.post(f"/meetings/{weekly.pk}/decisions/", {"text": "旧的决定"})
    decision = weekly.decisions.get()
    chair.post(f"/meetings/{weekly.pk}/decisions/{decision.pk}/edit/", {"text": "新的决定"}, HTTP_HX_REQUEST="true")
    decision.refresh_from_db()
    assert decision.text == "新的决定"
    assert chair.post(f"/meetings/{weekly.pk}/decisions/{decision.pk}/remove/", HTTP_HX_REQUEST="true").status_code == 200
    assert not weekly.decisions.exists()


def test_a_removed_action_item_cancels_its_duty(chair, weekly, warehouse_member, frozen):  # noqa: F811
    chair.post(f"/meetings/{weekly.pk}/actions/", {"title": "提交补货表", "owner": warehouse_member.pk, "due_date": "2026-11-26"})
    action = weekly.action_items.get()
    assert chair.post(f"/meetings/{weekly.pk}/actions/{action.pk}/remove/").status_code == 302
    assert not weekly.action_items.exists()
    assert Task.objects.get(pk=action.task_id).status == TaskStatus.CANCELLED


def test_publishing_needs_the_confirmation_which_names_who_is_not_marked(chair, weekly, director, frozen):  # noqa: F811
    page = chair.get(f"/meetings/{weekly.pk}/").content.decode()
    confirm = page[page.index('data-testid="publish-confirm"') :]
    unmarked = confirm[confirm.index('data-testid="unmarked"') : confirm.index("</p>", confirm.index('data-testid="unmarked"'))]
    assert director.display_name in unmarked
    chair.post(f"/meetings/{weekly.pk}/attendance/", {"member": director.pk, "status": "present"})
    assert 'data-testid="unmarked"' not in chair.get(f"/meetings/{weekly.pk}/").content.decode()
    chair.post(f"/meetings/{weekly.pk}/publish/")
    weekly.refresh_from_db()
    assert weekly.status == MeetingStatus.DRAFT
    chair.post(f"/meetings/{weekly.pk}/publish/", {"confirm": "1"})
    weekly.refresh_from_db()
    assert weekly.status == MeetingStatus.PUBLISHED


def test_a_list_directly_under_a_line_is_a_list_and_html_stays_out():
    html = str(markdown_render("今天要做:\n- 补货\n- 复盘\n<script>alert(1)</script>[x](javascript:alert(1))"))
    assert "<ul>\n<li>补货</li>\n<li>复盘" in html
    assert "<script" not in html
    assert "javascript:" not in html.replace("[x](javascript:alert(1))", "")
    assert 'href="javascript' not in html
