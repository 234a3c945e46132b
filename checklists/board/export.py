"""The board and the KPI sheet as an Excel workbook (.xlsx) with Chinese headers.

The headers are Chinese whatever the page language: the file goes to the shop's own spreadsheets and
reports, which are kept in Chinese. Numbers are numbers with a number format (thousands separator, two
decimals, percent for a share), never text, so they can be summed and charted. Every text cell is escaped
so a value such as "=1+1" or "@SUM(...)" typed by a member (a note, a name) is shown as text and never run
as a formula (CSV/formula injection).
"""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from checklists.board.selectors import Board
from opsteam.lib.clock import business_tz
from opsteam.lib.text import text_for_xml
from roles.models import KpiKind, Metric, MetricKind, MetricScope

# What a spreadsheet reads as the start of a formula (OWASP's CSV injection list, tab and carriage return included).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CELL_MAX = 32767  # Excel's limit of characters in one cell
HEADER_FONT = Font(bold=True)
BEHIND_FILL = PatternFill("solid", fgColor="FFE5D0")
# Numbers are written as numbers (so they sum and chart) and shown with these formats.
MONEY = "#,##0.00"
COUNT = "#,##0"
PERCENT = "0.00%"


def cell(value):
    """A value safe for a cell: text loses what a sheet cannot hold, and text Excel would read as a formula gets a leading apostrophe.

    Titles are checked when they are stored (opsteam.lib.text), but rows from before that check, or from the admin,
    must not make the export fail: openpyxl refuses a control character such as \x07 (IllegalCharacterError), and
    writes a lone surrogate or U+FFFE into a file that Excel then cannot open.
    """
    if isinstance(value, str):
        value = text_for_xml(value)[: CELL_MAX - 1]
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if isinstance(value, datetime):
        return value.astimezone(business_tz()).replace(tzinfo=None)  # Excel has no time zones: Shanghai wall time
    return value


def _sheet(workbook: Workbook, title: str, headers: list[str], rows: list[list], *, first: bool = False):
    sheet = workbook.active if first else workbook.create_sheet()
    sheet.title = title
    sheet.append([cell(h) for h in headers])
    for c in sheet[1]:
        c.font = HEADER_FONT
    for row in rows:
        sheet.append([cell(v) for v in row])
    for index, header in enumerate(headers, start=1):
        width = max([len(str(header)) * 2, *(len(str(r[index - 1] or "")) + 2 for r in rows)])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width, 8), 60)
    sheet.freeze_panes = "A2"
    return sheet


def board_workbook(*, board: Board) -> bytes:
    workbook = Workbook()
    people = []
    for role in board.roles:
        for person in role.people:
            c = person.completion
            people.append([role.name, person.name, c.total, c.done, c.late, c.not_done, c.missed, c.percent / 100])
    sheet = _sheet(workbook, "完成情况", ["岗位", "成员", "应完成", "已完成", "迟交", "未完成", "漏做", "完成率"], people, first=True)
    for row_cells, person in zip(sheet.iter_rows(min_row=2), people, strict=False):
        row_cells[7].number_format = "0%"
        if person[4] or person[5] or person[6]:
            for c in row_cells:
                c.fill = BEHIND_FILL
    sheet.insert_rows(1)
    sheet["A1"] = cell(f"{board.day.isoformat()} 团队看板(导出于 {board.now.astimezone(business_tz()):%Y-%m-%d %H:%M})")
    sheet.freeze_panes = "A3"

    card = board.scorecard
    kpi_rows, kpi_formats = [], []
    for row in card.rows:
        ratio = row.metric.kind == MetricKind.RATIO
        kpi_rows.append(
            [
                row.metric.name,
                _plain(row.value),
                _plain(row.target),
                (row.grade or {}).get("label", ""),
                row.metric.numerator.name if ratio else "",
                _plain(row.numerator),
                row.metric.denominator.name if ratio else "",
                _plain(row.denominator),
                row.metric.unit,
            ]
        )
        own = number_format(row.metric)
        kpi_formats.append(
            {
                1: own,
                2: own,
                5: number_format(row.metric.numerator) if ratio else own,
                7: number_format(row.metric.denominator) if ratio else "",
            }
        )
    sheet = _sheet(
        workbook,
        "KPI",
        [f"指标({card.start}至{card.end})", "数值", "目标", "评级", "分子", "分子数值", "分母", "分母数值", "单位"],
        kpi_rows,
    )
    _formats(sheet, kpi_formats)

    targets, target_formats = [], []
    for result in card.kpis:
        targets.append(
            [
                result.kpi.playbook_id,
                result.kpi.name,
                _plain(result.value),
                (result.grade or {}).get("label", ""),
                result.detail,
                result.kpi.rule,
            ]
        )
        # K-DAILY-SALES is the share of days that met the target and K-24H the share closed on time; 说明 has the counts.
        share = result.kpi.kind in (KpiKind.DAILY_TARGET, KpiKind.ON_TIME)
        target_formats.append({2: "0%" if share else number_format(result.kpi.metric) if result.kpi.metric else MONEY})
    _formats(_sheet(workbook, "考核目标", ["编号", "目标", "结果", "评级", "说明", "规则"], targets), target_formats)

    sales = next((k for k in card.kpis if k.kpi.playbook_id == "K-DAILY-SALES"), None)
    sales_rows = [
        [d.day, _plain(d.sales), _plain(d.target), float(d.share) if d.share is not None else None, d.verdict, "是" if d.flagged else ""]
        for d in (sales.days if sales else [])
    ]
    sheet = _sheet(workbook, "日销售达标", ["日期", "销售额", "日目标", "达成率", "判定", "低于下限"], sales_rows)
    _formats(sheet, [{0: "yyyy-mm-dd", 1: MONEY, 2: MONEY, 3: "0%"}] * len(sales_rows))

    base = [m for m in card.metrics if m.kind == MetricKind.BASE and m.scope == MetricScope.SHOP]
    daily = [[day, *[_plain(card.by_day[day].get(m.code)) for m in base]] for day in sorted(card.by_day)]
    sheet = _sheet(workbook, "每日数据", ["日期", *[m.name for m in base]], daily)
    _formats(sheet, [{0: "yyyy-mm-dd", **{i: number_format(m) for i, m in enumerate(base, start=1)}}] * len(daily))

    escalations = [
        [
            e.raised_at,
            _subject(e),
            e.level_order,
            e.recipient.display_name if e.recipient else "",
            e.get_status_display(),
            e.acknowledged_by.display_name if e.acknowledged_by else "",
            e.acknowledged_at,
        ]
        for e in board.escalations
    ]
    _stamp(_sheet(workbook, "未解决升级", ["发出时间", "事项", "级别", "通知", "状态", "确认人", "确认时间"], escalations), (0, 6))
    overdue = [
        [t.title, (t.assignee or t.owner).display_name if (t.assignee or t.owner) else "", t.role.name if t.role else "", t.due_at]
        for t in board.overdue
    ]
    _stamp(_sheet(workbook, "逾期任务", ["任务", "负责人", "岗位", "截止时间"], overdue), (3,))

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _stamp(sheet, columns: tuple[int, ...]) -> None:
    for row_cells in sheet.iter_rows(min_row=2):
        for index in columns:
            row_cells[index].number_format = "yyyy-mm-dd hh:mm"


def _subject(escalation) -> str:
    if escalation.item_id and escalation.item:
        return f"{escalation.item.checklist.member.display_name}: {escalation.item.text}"
    return escalation.task.title if escalation.task_id and escalation.task else ""


def number_format(metric: Metric) -> str:
    """The Excel format that shows a number as the board does: 87.37% for a share, 2 decimals for money and other ratios."""
    if metric.is_share:
        return PERCENT
    if metric.is_ratio or metric.unit == "元":
        return MONEY
    return COUNT


def _formats(sheet, formats: list[dict[int, str]]) -> None:
    """Per data row, the number format of each column given (row i of formats is the sheet's row i + 2)."""
    for row_cells, row_formats in zip(sheet.iter_rows(min_row=2), formats, strict=False):
        for index, number_format_ in row_formats.items():
            if number_format_:
                row_cells[index].number_format = number_format_


def _plain(value):
    """Decimals as floats so Excel sums them; None stays empty."""
    return float(value) if value is not None else None
