"""Issue 15, part B2: the KPI import reads a bounded amount of any file, control characters stay out of stored titles and
names, and the Excel export writes whatever text it finds."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from rest_framework.test import APIClient

from checklists.board.export import cell
from checklists.duties.campaigns import campaign_create
from checklists.duties.services import plan_create, task_assign, task_create
from checklists.meetings.minutes import action_item_create, agenda_item_add
from checklists.meetings.services import meeting_call, meetings_create_due
from checklists.models import CampaignTemplate, Meeting, MeetingSeries, Plan, Robot, Task, TaskSource
from opsteam.lib.playbook import SyncReport, playbook_row_sync
from opsteam.lib.text import text_clean, text_for_xml, text_line
from roles.models import Member, MetricEntry, Role, Team
from roles.models.kpi import MetricEntryChange
from roles.services import member_create, team_create
from roles.services.kpi_files import IMPORT_MAX_COLUMNS, _rows_from_xlsx
from roles.services.kpi_import import entries_import
from tests.conftest import MONDAY

# --- files built here ----------------------------------------------------------------------------------------------


def _xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _rezip(content: bytes, replace: dict[str, bytes]) -> bytes:
    """The same workbook with some parts replaced (deflated as Excel does)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            target.writestr(name, replace.get(name, source.read(name)))
    return out.getvalue()


def _import(team, content: bytes, filename: str):
    return entries_import(team=team, content=content, filename=filename, actor=None, now=MONDAY)


def _refusal(team, content: bytes, filename: str) -> str:
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        _import(team, content, filename)
    assert not MetricEntry.objects.exists()
    assert not MetricEntryChange.objects.exists()
    return " ".join(caught.value.messages)


def _days(first: date, count: int) -> list[list]:
    return [[(first + timedelta(days=i)).isoformat(), 100 + i] for i in range(count)]


# --- the import: files it cannot or must not read ------------------------------------------------------------------


def test_an_xlsx_without_a_worksheet_is_refused_with_a_clear_message(team):
    content = _xlsx([["日期", "支付金额"], ["2026-11-20", 100]])
    with zipfile.ZipFile(io.BytesIO(content)) as source:
        workbook_xml = source.read("xl/workbook.xml").decode()
    no_sheets = re.sub(r"<sheets>.*</sheets>", "<sheets />", workbook_xml).encode()
    message = _refusal(team, _rezip(content, {"xl/workbook.xml": no_sheets}), "export.xlsx")
    assert "no worksheet" in message


def test_a_csv_with_a_cell_longer_than_the_csv_field_limit_is_refused_naming_the_row(team):
    content = ("日期,支付金额\n2026-11-20,100\n2026-11-21," + "9" * 200_000 + "\n").encode()
    message = _refusal(team, content, "export.csv")
    assert "Row 3 has a cell longer than 131,072 characters" in message


def test_an_xlsx_that_unpacks_past_the_limit_is_refused_before_it_is_read(team, settings):
    settings.OPSTEAM_IMPORT_MAX_UNZIPPED_BYTES = 1024 * 1024
    # Two megabytes of rows that pack to a few kilobytes: the 1.2 MB workbook of 5 million rows, in small.
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>x</t></is></c></row>' for r in range(2, 40_000))
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>日期</t></is></c><c r="B1" t="inlineStr"><is><t>支付金额</t></is></c></row>'
        f"{rows}</sheetData></worksheet>"
    ).encode()
    assert len(sheet) > 2 * 1024 * 1024
    content = _rezip(_xlsx([["日期"]]), {"xl/worksheets/sheet1.xml": sheet})
    assert len(content) < 1024 * 1024  # a small file, under the limit itself
    message = _refusal(team, content, "export.xlsx")
    assert "unpacks to more than 1 MB" in message


def test_an_xlsx_packed_like_a_zip_bomb_is_refused_even_under_the_size_limit(team):
    filler = b" " * (3 * 1024 * 1024)  # whitespace between elements is valid XML and packs about 1000 to 1
    sheet = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + filler + b"<sheetData /></worksheet>"
    message = _refusal(team, _rezip(_xlsx([["日期"]]), {"xl/worksheets/sheet1.xml": sheet}), "export.xlsx")
    assert "packed far tighter than an export" in message


def test_an_xlsx_with_one_row_more_than_the_limit_is_refused_and_one_at_the_limit_imports(team, settings):
    settings.OPSTEAM_IMPORT_MAX_ROWS = 10
    header = [["店铺经营概况"], ["日期", "支付金额"]]  # a title row above the header does not count
    message = _refusal(team, _xlsx(header + _days(date(2026, 11, 1), 11)), "export.xlsx")
    assert "more than 10 rows below its header" in message
    result = _import(team, _xlsx(header + _days(date(2026, 11, 1), 10)), "export.xlsx")
    assert len(result.days) == 10


def test_a_csv_of_a_million_empty_lines_stops_at_the_row_limit(team):
    # Before: every row was read into a list first, and the empty ones then skipped one by one.
    message = _refusal(team, ("日期,支付金额\n" + "\n" * 1_000_000).encode(), "export.csv")
    assert "more than 5,000 rows below its header" in message


def test_a_sheet_that_declares_16384_columns_is_read_no_wider_than_the_column_limit(team):
    content = _xlsx([["日期", "支付金额"], ["2026-11-20", 100]])
    with zipfile.ZipFile(io.BytesIO(content)) as source:
        sheet = source.read("xl/worksheets/sheet1.xml").decode()
    wide = re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:XFD1048576" />', sheet)
    assert wide != sheet
    content = _rezip(content, {"xl/worksheets/sheet1.xml": wide.encode()})
    # Read-only mode pads every row to the declared width: 16,384 values a row, 5,000 rows, before the limit.
    assert {len(row) for row in _rows_from_xlsx(content)} == {IMPORT_MAX_COLUMNS}
    assert _import(team, content, "export.xlsx").days == [date(2026, 11, 20)]


def test_a_truncated_sheet_is_refused_as_unreadable_not_a_server_error(team):
    content = _xlsx([["日期", "支付金额"], *_days(date(2026, 11, 1), 5)])
    with zipfile.ZipFile(io.BytesIO(content)) as source:
        sheet = source.read("xl/worksheets/sheet1.xml")
    message = _refusal(team, _rezip(content, {"xl/worksheets/sheet1.xml": sheet[: len(sheet) - 60]}), "export.xlsx")
    assert "not an Excel workbook (.xlsx) that can be read" in message


def test_the_import_page_answers_an_xlsx_without_a_worksheet_with_the_message(client, team, director):
    content = _xlsx([["日期", "支付金额"]])
    with zipfile.ZipFile(io.BytesIO(content)) as source:
        workbook_xml = source.read("xl/workbook.xml").decode()
    upload = io.BytesIO(_rezip(content, {"xl/workbook.xml": re.sub(r"<sheets>.*</sheets>", "<sheets />", workbook_xml).encode()}))
    upload.name = "export.xlsx"
    client.force_login(director.user)
    response = client.post("/api/v1/kpi/import/", {"file": upload}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "no worksheet" in str(response.json())


# --- control characters: the text functions ------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["a\x07b", "a\tb", "a\nb", "a\x1bb", "a\x85b", "a\x7fb", "a\ud800b", "a\ufffeb"])
def test_a_title_with_a_control_character_is_refused_naming_the_field(typed):
    with pytest.raises(ValidationError) as caught:
        text_line(typed, field="title")
    assert list(caught.value.message_dict) == ["title"]


def test_a_title_keeps_everything_else_and_loses_the_spaces_around_it():
    assert text_line("  双11 活动复盘 — 第①期 😀 ", field="title") == "双11 活动复盘 — 第①期 😀"


def test_multi_line_text_keeps_line_breaks_and_tabs_and_loses_other_control_characters():
    assert text_clean(" 第一行\r\n\t第二行\x07\x1b\x85\ud800\ufffe ") == "第一行\r\n\t第二行"
    assert text_clean(" a\n", strip=False) == " a\n"


# --- control characters: every stored title and name ---------------------------------------------------------------

DUE = MONDAY + timedelta(hours=8)


def _refused(create, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        create()
    assert field in caught.value.message_dict


def test_a_duty_title_with_a_control_character_is_refused_and_nothing_is_written(team, warehouse_lead, warehouse_member):
    _refused(lambda: task_assign(member=warehouse_lead, owner=warehouse_member, title="盘点\x07", due_at=DUE, now=MONDAY), "title")
    _refused(lambda: task_create(team=team, title="a\x1bb", due_at=DUE, source=TaskSource.ADHOC, now=MONDAY), "title")
    assert not Task.objects.exists()


def test_a_plan_title_and_a_campaign_name_with_a_control_character_are_refused(team, director):
    _refused(lambda: plan_create(member=director, title="春季\x07上新", now=MONDAY), "title")
    template = CampaignTemplate.objects.get(team=team, playbook_id="T-CAMPAIGN")
    _refused(lambda: campaign_create(member=director, template=template, name="双\x0711", day=date(2026, 12, 12), now=MONDAY), "name")
    assert not Plan.objects.exists()
    assert not Task.objects.exists()


def test_meeting_agenda_and_action_item_titles_with_a_control_character_are_refused(team, director, warehouse_member):
    issue = MeetingSeries.objects.get(team=team, playbook_id="M-ISSUE")
    _refused(lambda: meeting_call(series=issue, member=director, day=MONDAY.date(), now=MONDAY, title="退货\x07"), "title")
    assert not Meeting.objects.filter(series=issue).exists()
    meetings_create_due(team=team, now=MONDAY)
    weekly = Meeting.objects.get(series__team=team, series__playbook_id="M-WEEKLY")
    _refused(lambda: agenda_item_add(meeting=weekly, member=director, title="\x1b[31m", now=MONDAY), "title")
    _refused(
        lambda: action_item_create(
            meeting=weekly, member=director, title="补货\x07", owner=warehouse_member, due_date=date(2026, 11, 26), now=MONDAY
        ),
        "title",
    )
    assert not weekly.action_items.exists()


def test_a_team_name_and_a_member_display_name_with_a_control_character_are_refused(team):
    _refused(lambda: team_create(name="店\x07", slug="bell"), "name")
    _refused(lambda: member_create(team=team, username="bell", password="x-Long-enough-9", display_name="王\x07"), "display_name")
    assert not Team.objects.filter(slug="bell").exists()
    assert not Member.objects.filter(user__username="bell").exists()


def test_the_robot_page_refuses_a_name_with_a_control_character_on_the_name_field(client, team, director):
    client.force_login(director.user)
    response = client.post(
        "/robots/",
        {
            "kind": "dingtalk",
            "name": "群\x07机器人",
            "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=abc",
            "is_active": "on",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code in (200, 400)  # the form drawn again with its errors
    assert "control character" in response.context["form"].errors["name"][0]
    assert not Robot.objects.exists()


def test_the_api_answers_a_duty_title_with_a_bell_with_400_naming_the_title(team, warehouse_lead, warehouse_member, frozen):
    api = APIClient()
    api.force_authenticate(warehouse_lead.user)
    response = api.post("/api/v1/tasks/", {"title": "盘点\x07", "owner": warehouse_member.pk, "due_at": DUE.isoformat()}, format="json")
    assert response.status_code == 400
    assert "title" in response.json()
    assert not Task.objects.exists()


def test_a_duty_note_keeps_its_lines_and_loses_a_bell(team, warehouse_lead, warehouse_member):
    from checklists.duties.services import task_complete

    task = task_assign(member=warehouse_lead, owner=warehouse_member, title="盘点", due_at=DUE, now=MONDAY)
    task_complete(task=task, member=warehouse_member, now=MONDAY, note="胶带 3 箱\x07\n纸箱 5 个")
    task.refresh_from_db()
    assert task.note == "胶带 3 箱\n纸箱 5 个"


def test_a_playbook_row_with_a_control_character_is_refused(team):
    with pytest.raises(ValueError, match="control character"):
        playbook_row_sync(Role, lookup={"team": team, "code": "bell"}, values={"name": "铃\x07", "order": 1}, report=SyncReport())
    assert not Role.objects.filter(code="bell").exists()


# --- the Excel export ----------------------------------------------------------------------------------------------


def test_the_export_writes_a_duty_title_stored_with_a_bell_and_other_characters_a_sheet_cannot_hold(client, team, director):
    task = task_create(team=team, title="补货", due_at=MONDAY - timedelta(hours=1), source=TaskSource.ADHOC, now=MONDAY, owner=director)
    # Stored before titles were checked (the API took 418 such titles): the export must still work.
    Task.objects.filter(pk=task.pk).update(title="补货\x07表\ufffe")
    other = task_create(team=team, title="x", due_at=MONDAY - timedelta(hours=1), source=TaskSource.ADHOC, now=MONDAY, owner=director)
    Task.objects.filter(pk=other.pk).update(title="\x07=HYPERLINK(1)")
    client.force_login(director.user)
    response = client.get("/board/export.xlsx", {"date": "2026-11-23"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content))["逾期任务"]
    titles = {row[0].value for row in sheet.iter_rows(min_row=2)}
    assert titles == {"补货表", "'=HYPERLINK(1)"}
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_a_cell_loses_every_character_openpyxl_refuses_and_keeps_tabs_and_line_breaks():
    refused = "".join(chr(c) for c in range(0x20) if ILLEGAL_CHARACTERS_RE.match(chr(c)))
    assert cell("a" + refused + "b") == "ab"
    assert cell("第一行\n第二行\t完") == "第一行\n第二行\t完"
    assert cell("补货\ud800\ufffe\uffff表") == "补货表"  # openpyxl writes these into a file Excel cannot open
    assert text_for_xml("\U0001f600") == "\U0001f600"


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1+1", "\r=1+1", "\x07=1+1"])
def test_a_cell_that_a_spreadsheet_could_read_as_a_formula_is_written_as_text(text):
    value = cell(text)
    assert value.startswith("'")
    workbook = Workbook()
    workbook.active.append([value])
    assert workbook.active["A1"].data_type == "s"
