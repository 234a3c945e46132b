"""A shop export's columns: the cells (dates, periods, numbers as exports write them), the file layouts (生意参谋,
千牛 客服 …) and the mapping of a header row to metrics; the director's own layouts."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from opsteam.lib.text import text_line
from roles.models import ImportLayout, Metric, MetricKind, MetricScope, Team
from roles.services.kpi import _number
from roles.services.kpi_files import cell_text

DATE_HEADERS = {"日期", "统计日期", "date", "Date", "时间", "统计时间", "日期范围", "统计周期"}
AGENT_HEADERS = {"客服", "客服昵称", "旺旺", "客服旺旺", "客服名称", "子账号"}
# A row whose first cells say it adds up or averages the others is not a day's figures (生意参谋 取数, 直通车).
TOTALS_WORDS = ("合计", "总计", "汇总", "平均", "均值", "小计", "total", "average", "sum")
EMPTY = {"", "-", "--", "—", "——", "/", "null", "N/A", "n/a"}
HEADER_SEARCH_ROWS = 20

_DAY = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
DAY_RE = re.compile(rf"{_DAY}(?:\s+[\d:]+)?")
COMPACT_DAY_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")
RANGE_RE = re.compile(rf"{_DAY}\s*(?:~|～|至|到|—|--|\s-\s)\s*{_DAY}")
COMPACT_RANGE_RE = re.compile(r"(\d{4})(\d{2})(\d{2})\s*(?:~|～|至|到|-)\s*(\d{4})(\d{2})(\d{2})")
MONTH_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?")


# --- cells -----------------------------------------------------------------------------------------------------------


def when_parse(raw) -> tuple[date, date] | None:
    """A day or a period: 2026-11-16, 2026/11/16, 20261116, 2026年11月16日, a range 2026-11-09~2026-11-15, a month 2026-11."""
    if isinstance(raw, datetime):
        day = raw.date()  # a naive spreadsheet date-time: its own calendar day, no time zone involved
        return day, day
    if isinstance(raw, date):
        return raw, raw
    text = cell_text(raw)
    if text in EMPTY:
        return None
    for pattern in (RANGE_RE, COMPACT_RANGE_RE):
        match = pattern.fullmatch(text)
        if match:
            numbers = [int(n) for n in match.groups()]
            return date(*numbers[:3]), date(*numbers[3:])
    match = DAY_RE.fullmatch(text) or COMPACT_DAY_RE.fullmatch(text)
    if match:
        day = date(int(match[1]), int(match[2]), int(match[3]))
        return day, day
    match = MONTH_RE.fullmatch(text)
    if match:
        year, month = int(match[1]), int(match[2])
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    raise ValueError(text)


def number_parse(raw, *, label: str) -> Decimal | None:
    """A figure as exports write it: 1,234 · 2.51% · 12.3万 · ¥1,234.50 · - / -- / empty for none."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int | float | Decimal):
        return _number(Decimal(str(raw)), label=label)
    text = cell_text(raw).replace("\u00a0", "").replace(" ", "")
    if text in EMPTY:
        return None
    scale = Decimal(1)
    if text.endswith("%"):
        text, scale = text[:-1], Decimal("0.01")
    elif text.endswith("万"):
        text, scale = text[:-1], Decimal(10000)
    elif text.endswith("亿"):
        text, scale = text[:-1], Decimal(100_000_000)
    if scale == 1:
        return _number(text, label=label)
    try:
        value = _number(text, label=label)
    except ValidationError:
        raise ValidationError(_("%(label)s: “%(value)s” is not a number.") % {"label": label, "value": cell_text(raw)[:40]}) from None
    return None if value is None else _number(value * scale, label=label)


def header_without_unit(header: str) -> str:
    """支付金额(元), 支付金额（元） and 总停留时长 (秒) are 支付金额 and 总停留时长: exports add the unit to the header."""
    return re.sub(r"\s*[(（][^()（）]*[)）]\s*$", "", header)


def totals_row_find(cells: list[str]) -> str | None:
    for text in cells:
        lowered = text.lower()
        if lowered and any(lowered.startswith(word) for word in TOTALS_WORDS):
            return text
    return None


@dataclass
class ColumnUse:
    """One column of the file and what it becomes (a metric, the day, the agent, a label) or why it is not used."""

    header: str
    becomes: str = ""
    reason: str = ""


# --- layouts and the mapping of headers to metrics ----------------------------------------------------------------------------------------


def layouts_active(team: Team) -> list[ImportLayout]:
    return list(ImportLayout.objects.filter(team=team, is_active=True).order_by("order", "id"))


def metric_names(metrics: list[Metric]) -> dict[str, Metric]:
    names: dict[str, Metric] = {}
    for metric in metrics:
        for label in (metric.name, metric.code, *metric.alias_list):
            names.setdefault(label, metric)
    return names


def header_find(head: list, layouts: list[ImportLayout], names: dict[str, Metric]) -> int | None:
    """Exports start with a title and notes: the header is the first row with a day or 客服 column and another known one."""
    keys = set(DATE_HEADERS) | AGENT_HEADERS
    known = set(names) | keys
    for layout in layouts:
        known |= set(layout.columns)
        keys |= {h for h, code in layout.columns.items() if code in ("@date", "@agent")}
    for index, row in enumerate(head):
        texts = [cell_text(c) for c in row]
        texts += [header_without_unit(t) for t in texts]
        if any(t in keys for t in texts) and sum(1 for t in set(texts) if t in known) >= 2:
            return index
    return None


def layout_pick(layouts: list[ImportLayout], header: list[str], code: str | None) -> ImportLayout:
    if code:
        chosen = next((layout for layout in layouts if layout.code == code), None)
        if chosen is None:
            raise ValidationError(_("There is no file layout “%(code)s”: choose one of the list.") % {"code": code})
        return chosen
    present = set(header) | {header_without_unit(h) for h in header}
    matching = [layout for layout in layouts if layout.signature_list and set(layout.signature_list) <= present]
    if matching:
        return max(matching, key=lambda layout: (len(layout.signature_list), -layout.order))
    generic = next((layout for layout in layouts if not layout.columns), None)
    if generic is None:
        raise ValidationError(_("None of the file layouts fits these columns: choose the layout, or add one on the import page."))
    return generic


@dataclass
class Columns:
    date: int | None
    agent: int | None
    labels: list[int]
    metrics: dict[int, Metric]
    date_header: str = "日期"


def columns_map(layout: ImportLayout, header: list[str], metrics: list[Metric], uses: list[ColumnUse]) -> Columns:
    """Each header's metric (or the day, the agent, a label) under the layout; every column's use appended to `uses`."""
    scope = MetricScope.MEMBER if layout.per_member else MetricScope.SHOP
    recorded = [m for m in metrics if m.kind == MetricKind.BASE and m.scope == scope]
    by_code = {m.code: m for m in metrics}
    names = metric_names(recorded)
    computed = metric_names([m for m in metrics if m.kind != MetricKind.BASE])
    result = Columns(date=None, agent=None, labels=[], metrics={})
    for index, raw in enumerate(header):
        if not raw:
            continue
        bare = header_without_unit(raw)
        use = ColumnUse(header=raw)
        uses.append(use)
        code = layout.columns.get(raw) or layout.columns.get(bare) if layout.columns else None
        if layout.columns and code is None and (raw in DATE_HEADERS or bare in DATE_HEADERS) and result.date is None:
            code = "@date"
        if not layout.columns:
            if raw in DATE_HEADERS or bare in DATE_HEADERS:
                code = "@date"
            elif raw in AGENT_HEADERS:
                code = "@agent"
            else:
                metric = names.get(raw) or names.get(bare)
                code = metric.code if metric else None
        if code == "@date" and result.date is None:
            result.date, result.date_header, use.becomes = index, raw, _("the day or period")
        elif code == "@agent" and result.agent is None:
            result.agent, use.becomes = index, _("the 客服 (name or nickname)")
        elif code == "@label":
            result.labels.append(index)
            use.becomes = _("a label: its rows are added up by day")
        elif code and code in by_code and by_code[code] in recorded and by_code[code].is_active:
            result.metrics[index] = by_code[code]
            use.becomes = by_code[code].name
        elif code and code in by_code:
            use.reason = _("%(name)s is not a figure recorded here (switched off, or another scope).") % {"name": by_code[code].name}
        elif (computed.get(raw) or computed.get(bare)) is not None:
            metric = computed.get(raw) or computed.get(bare)
            use.reason = _("computed here from its parts (%(name)s), not taken from the file") % {"name": metric.name}
        else:
            use.reason = _("not in the layout “%(layout)s”") % {"layout": layout.name}
    if not layout.columns:
        taken = list(result.metrics.values())
        duplicated = {m.name for m in taken if taken.count(m) > 1}
        if duplicated:
            raise ValidationError(_("These figures appear in two columns: %(names)s.") % {"names": "、".join(sorted(duplicated))})
    return result


# --- the director's own layouts ------------------------------------------------------------------------------------------

LAYOUT_SPECIALS = {"@date", "@agent", "@label"}


def import_layout_save(*, team: Team, code: str, name: str, columns: str, signature: str, per_member: bool) -> ImportLayout:
    """Save a layout from the page's text: one "header = metric code" per line (@date, @agent, @label for the others).

    A layout loaded from the playbook and edited here is the team's from then on (the loader keeps edited rows).
    """
    code = re.sub(r"[^a-z0-9_-]", "", code.strip().lower())[:40]
    if not code:
        raise ValidationError(_("Give the layout a code (letters, digits, - or _)."))
    name = text_line(name, field="name")[:60]
    if not name:
        raise ValidationError(_("Give the layout a name."))
    scope = MetricScope.MEMBER if per_member else MetricScope.SHOP
    codes = set(Metric.objects.filter(team=team, kind=MetricKind.BASE, scope=scope).values_list("code", flat=True))
    mapped, errors = {}, []
    for number, line in enumerate(columns.splitlines(), start=1):
        if not line.strip():
            continue
        header, sep, target = line.partition("=")
        header, target = text_line(header, field="columns"), target.strip()
        if not sep or not header or not target:
            errors.append(_("Line %(line)d: write “header = metric code”, e.g. 支付金额 = sales.") % {"line": number})
        elif target not in codes and target not in LAYOUT_SPECIALS:
            errors.append(
                _("Line %(line)d: “%(code)s” is not a recorded figure's code (see the list) nor @date, @agent or @label.")
                % {"line": number, "code": target}
            )
        else:
            mapped[header[:100]] = target
    if errors:
        raise ValidationError(errors)
    if "@date" not in mapped.values() and "@agent" not in mapped.values():
        raise ValidationError(_("Map the date column (@date), or the 客服 column (@agent) for a 客服 export."))
    signature_text = "|".join(s.strip() for s in re.split(r"[|,，\n]", signature) if s.strip())[:200]
    layout, _created = ImportLayout.objects.update_or_create(
        team=team,
        code=code,
        defaults={"name": name, "columns": mapped, "signature": signature_text, "per_member": per_member, "is_active": True},
    )
    return layout
