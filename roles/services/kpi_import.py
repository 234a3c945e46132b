"""The KPI import (issue 18): a shop's export read through its layout into a plan, shown before anything is written,
then written in one transaction. The plan says what each column becomes, which rows were skipped and why, the
rows summed into each day's figure, and per day what is replaced (before → after) and which recorded figures stay.
"""

from __future__ import annotations

import calendar
import itertools
import re
from collections import defaultdict
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from opsteam.lib.clock import local_date
from roles.models import AgentName, EntrySource, ImportLayout, Member, Metric, MetricEntry, MetricKind, MetricScope, PeriodFigure, Team
from roles.services.kpi import DayWrite, _entries_write, _number
from roles.services.kpi_files import cell_text, rows_read

DATE_HEADERS = {"日期", "统计日期", "date", "Date", "时间", "统计时间", "日期范围", "统计周期"}
AGENT_HEADERS = {"客服", "客服昵称", "旺旺", "客服旺旺", "客服名称", "子账号"}
# A row whose first cells say it adds up or averages the others is not a day's figures (生意参谋 取数, 直通车).
TOTALS_WORDS = ("合计", "总计", "汇总", "平均", "均值", "小计", "total", "average", "sum")
EMPTY = {"", "-", "--", "—", "——", "/", "null", "N/A", "n/a"}
MAX_ERRORS = 20
HEADER_SEARCH_ROWS = 20
TOKEN_SALT = "roles.kpi-import"  # noqa: S105 - a signing salt (namespace), not a secret
TOKEN_MAX_AGE = 3600  # a preview is confirmed within the hour, or the file is chosen again

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


def _without_unit(header: str) -> str:
    """支付金额(元), 支付金额（元） and 总停留时长 (秒) are 支付金额 and 总停留时长: exports add the unit to the header."""
    return re.sub(r"\s*[(（][^()（）]*[)）]\s*$", "", header)


def _is_totals(cells: list[str]) -> str | None:
    for text in cells:
        lowered = text.lower()
        if lowered and any(lowered.startswith(word) for word in TOTALS_WORDS):
            return text
    return None


# --- the plan ----------------------------------------------------------------------------------------------------------


@dataclass
class ColumnUse:
    """One column of the file and what it becomes (a metric, the day, the agent, a label) or why it is not used."""

    header: str
    becomes: str = ""
    reason: str = ""


@dataclass
class FigureChange:
    metric: Metric
    before: Decimal | None
    after: Decimal
    summed: list[Decimal] = field(default_factory=list)  # the rows (or columns) added into `after`, when more than one

    @property
    def sum_text(self) -> str:
        if len(self.summed) < 2:
            return ""
        return " + ".join(f"{v:,.2f}" for v in self.summed) + f" = {self.after:,.2f}"


@dataclass
class DayPlan:
    """One day (of the shop, or of one member): the figures the file writes, and the recorded ones that stay."""

    day: date
    changes: list[FigureChange] = field(default_factory=list)
    kept: list[tuple[Metric, Decimal]] = field(default_factory=list)
    who: str = ""  # a member's name for a 客服 export

    @property
    def replaced(self) -> int:
        return sum(1 for c in self.changes if c.before is not None)

    @property
    def added(self) -> int:
        return sum(1 for c in self.changes if c.before is None)


@dataclass
class PeriodPlan:
    start: date
    end: date
    changes: list[FigureChange] = field(default_factory=list)


@dataclass
class ImportPlan:
    """Everything the import would do, computed without writing (the preview, and the API's dry run)."""

    layout: ImportLayout
    columns: list[ColumnUse] = field(default_factory=list)
    shop: dict[date, dict[Metric, Decimal]] = field(default_factory=dict)
    summed: dict[tuple, list[Decimal]] = field(default_factory=dict)
    periods: dict[tuple[date, date], dict[Metric, Decimal]] = field(default_factory=dict)
    agents: dict[str, dict[date, dict[Metric, Decimal]]] = field(default_factory=dict)
    agent_members: dict[str, Member | None] = field(default_factory=dict)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    per_day: list[DayPlan] = field(default_factory=list)
    per_period: list[PeriodPlan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    filename: str = ""

    @property
    def days(self) -> list[date]:
        return sorted(set(self.shop) | {d for by_day in self.agents.values() for d in by_day})

    @property
    def unmapped_agents(self) -> list[str]:
        return sorted(name for name, member in self.agent_members.items() if member is None)

    @property
    def figures(self) -> int:
        return (
            sum(len(v) for v in self.shop.values())
            + sum(len(v) for v in self.periods.values())
            + sum(len(v) for by_day in self.agents.values() for v in by_day.values())
        )


# --- reading the file into a plan ----------------------------------------------------------------------------------------


def _layouts(team: Team) -> list[ImportLayout]:
    return list(ImportLayout.objects.filter(team=team, is_active=True).order_by("order", "id"))


def _metric_names(metrics: list[Metric]) -> dict[str, Metric]:
    names: dict[str, Metric] = {}
    for metric in metrics:
        for label in (metric.name, metric.code, *metric.alias_list):
            names.setdefault(label, metric)
    return names


def _header_find(head: list, layouts: list[ImportLayout], names: dict[str, Metric]) -> int | None:
    """Exports start with a title and notes: the header is the first row with a day or 客服 column and another known one."""
    keys = set(DATE_HEADERS) | AGENT_HEADERS
    known = set(names) | keys
    for layout in layouts:
        known |= set(layout.columns)
        keys |= {h for h, code in layout.columns.items() if code in ("@date", "@agent")}
    for index, row in enumerate(head):
        texts = [cell_text(c) for c in row]
        texts += [_without_unit(t) for t in texts]
        if any(t in keys for t in texts) and sum(1 for t in set(texts) if t in known) >= 2:
            return index
    return None


def _layout_pick(layouts: list[ImportLayout], header: list[str], code: str | None) -> ImportLayout:
    if code:
        chosen = next((layout for layout in layouts if layout.code == code), None)
        if chosen is None:
            raise ValidationError(_("There is no file layout “%(code)s”: choose one of the list.") % {"code": code})
        return chosen
    present = set(header) | {_without_unit(h) for h in header}
    matching = [layout for layout in layouts if layout.signature_list and set(layout.signature_list) <= present]
    if matching:
        return max(matching, key=lambda layout: (len(layout.signature_list), -layout.order))
    generic = next((layout for layout in layouts if not layout.columns), None)
    if generic is None:
        raise ValidationError(_("None of the file layouts fits these columns: choose the layout, or add one on the import page."))
    return generic


@dataclass
class _Columns:
    date: int | None
    agent: int | None
    labels: list[int]
    metrics: dict[int, Metric]
    date_header: str = "日期"


def _columns_map(layout: ImportLayout, header: list[str], metrics: list[Metric], plan: ImportPlan) -> _Columns:
    scope = MetricScope.MEMBER if layout.per_member else MetricScope.SHOP
    recorded = [m for m in metrics if m.kind == MetricKind.BASE and m.scope == scope]
    by_code = {m.code: m for m in metrics}
    names = _metric_names(recorded)
    computed = _metric_names([m for m in metrics if m.kind != MetricKind.BASE])
    result = _Columns(date=None, agent=None, labels=[], metrics={})
    for index, raw in enumerate(header):
        if not raw:
            continue
        bare = _without_unit(raw)
        use = ColumnUse(header=raw)
        plan.columns.append(use)
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


def import_plan_read(
    *, team: Team, content: bytes, filename: str, now: datetime, layout: str | None = None, day: date | None = None
) -> ImportPlan:
    """Read the file into a plan (writes nothing). All rows or none: any bad row refuses the file, naming the row,
    the column and what was expected."""
    rows = rows_read(content, filename)
    # closing: a refusal half-way through leaves the workbook open otherwise, until the generator is collected.
    with closing(rows):
        return _plan_parse(team=team, rows=rows, filename=filename, now=now, layout_code=layout, day=day)


def _plan_parse(*, team: Team, rows, filename: str, now: datetime, layout_code: str | None, day: date | None) -> ImportPlan:
    metrics = list(Metric.objects.filter(team=team, is_active=True).select_related("numerator", "denominator"))
    layouts = _layouts(team)
    head = list(itertools.islice(rows, HEADER_SEARCH_ROWS))
    names = _metric_names([m for m in metrics if m.kind == MetricKind.BASE])
    header_index = _header_find(head, layouts, names)
    if header_index is None:
        raise ValidationError(_("No header row with a 日期 (date) or 客服 column and a known figure was found in the first 20 rows."))
    header = [cell_text(c) for c in head[header_index]]
    chosen = _layout_pick(layouts, header, layout_code)
    plan = ImportPlan(layout=chosen, filename=filename)
    for index in range(header_index):
        if any(cell_text(c) for c in head[index]):
            plan.skipped.append((index + 1, _("above the header (a title or a note)")))
    cols = _columns_map(chosen, header, metrics, plan)
    if not cols.metrics:
        raise ValidationError(
            _("None of the columns is a known figure for the layout “%(layout)s” (for example 访客数, 支付金额, 支付买家数).")
            % {"layout": chosen.name}
        )
    if chosen.per_member and cols.agent is None:
        raise ValidationError(_("This 客服 export has no 客服 column (客服, 客服昵称 or 旺旺): the figures cannot go to a member."))
    if cols.date is None and day is None:
        raise ValidationError(_("This file has no 日期 column: choose the day its figures are for."))
    _rows_parse(plan, rows=itertools.chain(head[header_index + 1 :], rows), first=header_index + 2, cols=cols, day=day, now=now)
    if plan.agents:
        plan.agent_members = agents_resolve(team=team, names=list(plan.agents))
    return plan


def _rows_parse(plan: ImportPlan, *, rows, first: int, cols: _Columns, day: date | None, now: datetime) -> None:
    errors: list[str] = []
    today = local_date(now)
    max_rows = settings.OPSTEAM_IMPORT_MAX_ROWS
    shop: dict[date, dict[Metric, Decimal]] = defaultdict(dict)
    agents: dict[str, dict[date, dict[Metric, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    period_unused: set[str] = set()
    for index, row in enumerate(rows, start=first):
        if index - first + 1 > max_rows:
            # Counted with the empty rows: reading a million empty rows is what this limit is for.
            raise ValidationError(
                _("The file has more than %(max)s rows below its header: import at most %(max)s days at a time. Nothing was imported.")
                % {"max": f"{max_rows:,}"}
            )
        texts = [cell_text(c) for c in row]
        if not any(t not in EMPTY for t in texts):
            continue
        line = _("Row %(row)d") % {"row": index}
        key_cells = [texts[i] for i in (cols.date, cols.agent, *cols.labels) if i is not None and i < len(texts)] + texts[:2]
        totals = _is_totals(key_cells)
        if totals:
            plan.skipped.append((index, _("a totals or averages row (“%(text)s”): the days are added up here") % {"text": totals[:20]}))
            continue
        raw_when = row[cols.date] if cols.date is not None and cols.date < len(row) else None
        try:
            when = when_parse(raw_when)
        except (ValueError, TypeError):
            errors.append(
                _("%(line)s, column %(column)s: “%(value)s” is not a date (write 2026-11-16, 20261116 or 2026年11月16日).")
                % {"line": line, "column": cols.date_header, "value": cell_text(raw_when)[:40]}
            )
            continue
        if when is None and cols.date is None and day is not None:
            when = (day, day)
        if when is None:
            errors.append(_("%(line)s: the date is empty.") % {"line": line})
            continue
        start, end = when
        if end < start:
            errors.append(_("%(line)s: the period ends before it starts.") % {"line": line})
            continue
        if end > today:
            errors.append(_("%(line)s: %(day)s has not happened yet.") % {"line": line, "day": end.isoformat()})
            continue
        agent = texts[cols.agent] if cols.agent is not None and cols.agent < len(texts) else None
        if cols.agent is not None and not agent:
            errors.append(_("%(line)s: the 客服 name is empty.") % {"line": line})
            continue
        if start != end and agent is not None:
            errors.append(_("%(line)s: a 客服 export is imported one day at a time (this row is %(start)s–%(end)s).") % {
                "line": line, "start": start.isoformat(), "end": end.isoformat()})  # fmt: skip
            continue
        values: dict[Metric, list[Decimal]] = defaultdict(list)
        for col, metric in cols.metrics.items():
            try:
                value = number_parse(row[col] if col < len(row) else None, label=metric.name)
            except ValidationError as exc:
                # Translated as a whole so Chinese gets its full-width colon here too (第 3 行：访客数：…).
                errors.extend(_("%(line)s: %(message)s") % {"line": line, "message": message} for message in exc.messages)
                continue
            if value is not None:
                values[metric].append(value)
        if start != end:  # a week's or a month's row: only figures that count people once are the period's own
            target = plan.periods.setdefault((start, end), {})
            for metric, found in values.items():
                if metric.distinct:
                    target[metric] = target.get(metric, Decimal(0)) + sum(found, Decimal(0))
                else:
                    period_unused.add(metric.name)
            continue
        target = agents[agent][start] if agent is not None else shop[start]
        for metric, found in values.items():
            key = (agent, start, metric.code)
            plan.summed.setdefault(key, []).extend(found)
            target[metric] = target.get(metric, Decimal(0)) + sum(found, Decimal(0))
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise ValidationError([*errors[:MAX_ERRORS], _("Nothing was imported. Correct the rows above and import the file again.")])
    plan.shop = dict(shop)
    plan.agents = {name: dict(by_day) for name, by_day in agents.items()}
    plan.periods = {k: v for k, v in plan.periods.items() if v}
    if period_unused:
        plan.notes.append(
            _(
                "A week's or month's row gives only the figures that count each person once (访客数, 支付买家数); "
                "its %(names)s are the days' sum and are not used."
            )
            % {"names": "、".join(sorted(period_unused))}
        )
    if not plan.figures:
        raise ValidationError(_("The file has a header but no rows of figures."))


# --- 客服 names --------------------------------------------------------------------------------------------------------


def agents_resolve(*, team: Team, names: list[str]) -> dict[str, Member | None]:
    """Each exported 客服 name: the member mapped to it once, or the member whose name it is (千牛's "店铺:小美" too)."""
    mapped = {a.name: a.member for a in AgentName.objects.filter(team=team, name__in=names).select_related("member")}
    members = {m.display_name: m for m in Member.objects.filter(team=team).active()}
    result = {}
    for name in names:
        nick = name.split(":")[-1].split("：")[-1].strip()
        result[name] = mapped.get(name) or members.get(name) or members.get(nick)
    return result


def agents_choose(*, team: Team, plan: ImportPlan, choices: dict[str, object]) -> None:
    """Apply the importer's choices (name → member id) to the plan's unmapped names; saved with the import."""
    members = {str(m.pk): m for m in Member.objects.filter(team=team).active()}
    for name, member_id in choices.items():
        if name not in plan.agent_members or member_id in (None, ""):
            continue
        member = members.get(str(member_id))
        if member is None:
            raise ValidationError(_("“%(name)s”: choose an active member of your team.") % {"name": name})
        plan.agent_members[name] = member


# --- before → after -----------------------------------------------------------------------------------------------------


def plan_compare(*, team: Team, plan: ImportPlan) -> ImportPlan:
    """Fill in, per day, what the file replaces (before → after), adds, and which recorded figures stay; and warn
    where a ratio would divide a figure from this file by one kept from before (人均成交笔数 read 2.27, not 1.08)."""
    days = plan.days
    stored: dict[tuple[int | None, date], dict[int, tuple[Metric, Decimal]]] = defaultdict(dict)
    if days:
        for entry in MetricEntry.objects.filter(team=team, date__in=days).select_related("metric"):
            stored[(entry.member_id, entry.date)][entry.metric_id] = (entry.metric, entry.value)
    plan.per_day = []
    for day, values in sorted(plan.shop.items()):
        plan.per_day.append(_day_plan(day, values, stored[(None, day)], summed=plan.summed, agent=None))
    for name, by_day in sorted(plan.agents.items()):
        member = plan.agent_members.get(name)
        for day, values in sorted(by_day.items()):
            recorded = stored[(member.pk, day)] if member is not None else {}
            day_plan = _day_plan(day, values, recorded, summed=plan.summed, agent=name)
            day_plan.who = f"{name} → {member.display_name}" if member is not None else name
            plan.per_day.append(day_plan)
    plan.per_period = []
    if plan.periods:
        existing = {
            (p.start, p.end, p.metric_id): p.value
            for p in PeriodFigure.objects.filter(team=team, start__in={s for s, _e in plan.periods}, end__in={e for _s, e in plan.periods})
        }
        for (start, end), values in sorted(plan.periods.items()):
            plan.per_period.append(
                PeriodPlan(
                    start=start,
                    end=end,
                    changes=[FigureChange(metric=m, before=existing.get((start, end, m.pk)), after=v) for m, v in values.items()],
                )
            )
    plan.warnings = _mixing_warnings(team=team, plan=plan, stored=stored)
    return plan


def _day_plan(day: date, values: dict[Metric, Decimal], recorded: dict, *, summed: dict, agent: str | None) -> DayPlan:
    day_plan = DayPlan(day=day)
    for metric, value in sorted(values.items(), key=lambda item: item[0].order):
        before = recorded.get(metric.pk, (None, None))[1]
        parts = summed.get((agent, day, metric.code), [])
        day_plan.changes.append(FigureChange(metric=metric, before=before, after=value, summed=parts if len(parts) > 1 else []))
    day_plan.kept = sorted(
        ((metric, value) for metric_id, (metric, value) in recorded.items() if metric not in values), key=lambda item: item[0].order
    )
    return day_plan


def _mixing_warnings(*, team: Team, plan: ImportPlan, stored: dict) -> list[str]:
    ratios = Metric.objects.filter(team=team, is_active=True, kind=MetricKind.RATIO, scope=MetricScope.SHOP).select_related(
        "numerator", "denominator"
    )
    warnings = []
    for ratio in ratios:
        parts = (ratio.numerator, ratio.denominator)
        if any(p.kind != MetricKind.BASE for p in parts):
            continue  # 运营成本's lines are entered apart from the sales export: that is not mixing
        days = []
        for day, values in plan.shop.items():
            carried = [p for p in parts if p in values]
            kept = [p for p in parts if p not in values and p.pk in stored[(None, day)]]
            if len(carried) == 1 and len(kept) == 1:
                days.append(day)
        if days:
            carried_name = next(p.name for p in parts if p in plan.shop[days[0]])
            kept_name = next(p.name for p in parts if p not in plan.shop[days[0]])
            warnings.append(
                _(
                    "%(ratio)s would divide %(a)s and %(b)s from different sources on %(days)s: %(carried)s comes from this file, "
                    "%(kept)s stays from before. Import a file with both, or correct %(kept)s for those days."
                )
                % {
                    "ratio": ratio.name,
                    "a": ratio.numerator.name,
                    "b": ratio.denominator.name,
                    "days": "、".join(d.strftime("%m-%d") for d in sorted(days)),
                    "carried": carried_name,
                    "kept": kept_name,
                }
            )
    return warnings


# --- writing ---------------------------------------------------------------------------------------------------------------


@dataclass
class ImportDay:
    """One imported day: figures of the file that replaced recorded ones, new ones, and recorded ones kept."""

    day: date
    replaced: int
    added: int
    kept: int
    who: str = ""

    @property
    def summary(self) -> str:
        text = _("%(day)s: %(replaced)d replaced, %(added)d added, %(kept)d kept (not in the file).") % {
            "day": self.day.isoformat(),
            "replaced": self.replaced,
            "added": self.added,
            "kept": self.kept,
        }
        return f"{self.who}: {text}" if self.who else text


@dataclass
class ImportResult:
    """What an import saved (or, for a dry run, would save): the days, each day's counts, unused columns, the plan."""

    days: list[date] = field(default_factory=list)
    replaced: list[date] = field(default_factory=list)
    figures: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    per_day: list[ImportDay] = field(default_factory=list)
    plan: ImportPlan | None = None
    written: bool = False


def entries_import(
    *,
    team: Team,
    content: bytes,
    filename: str,
    actor: Member | None,
    now: datetime,
    layout: str | None = None,
    day: date | None = None,
    agents: dict[str, object] | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import a shop's export: all rows or none. The file's figures replace recorded ones, others are kept and said.

    dry_run: the plan only (the preview), nothing written.
    """
    plan = import_plan_read(team=team, content=content, filename=filename, now=now, layout=layout, day=day)
    agents_choose(team=team, plan=plan, choices=agents or {})
    plan_compare(team=team, plan=plan)
    if dry_run:
        return _result(plan, written=False)
    return plan_write(team=team, plan=plan, actor=actor, now=now, choices=agents or {})


def plan_write(*, team: Team, plan: ImportPlan, actor: Member | None, now: datetime, choices: dict[str, object]) -> ImportResult:
    """Write the plan in one transaction: the shop's days, each 客服's days, the period figures, the names mapped."""
    if plan.unmapped_agents:
        raise ValidationError(
            _("These 客服 names are not mapped to a member: %(names)s. Choose the member for each, once; the import remembers it.")
            % {"names": "、".join(plan.unmapped_agents)}
        )
    with transaction.atomic():
        _entries_write(
            team=team,
            values={(day, metric): value for day, values in plan.shop.items() for metric, value in values.items()},
            member=None,
            source=EntrySource.IMPORT,
            actor=actor,
            now=now,
        )
        by_member: dict[Member, dict] = defaultdict(dict)
        for name, by_day in plan.agents.items():
            member = plan.agent_members[name]
            for day, values in by_day.items():
                for metric, value in values.items():
                    key = (day, metric)
                    by_member[member][key] = by_member[member].get(key, Decimal(0)) + value
        for member, values in by_member.items():
            _entries_write(team=team, values=values, member=member, source=EntrySource.IMPORT, actor=actor, now=now)
        for (start, end), values in plan.periods.items():
            for metric, value in values.items():
                PeriodFigure.objects.update_or_create(
                    team=team,
                    metric=metric,
                    start=start,
                    end=end,
                    defaults={"value": value, "source": EntrySource.IMPORT, "entered_by": actor, "entered_at": now},
                )
        for name, member_id in choices.items():
            member = plan.agent_members.get(name)
            if member is not None and member_id not in (None, ""):
                AgentName.objects.update_or_create(team=team, name=name[:100], defaults={"member": member})
    return _result(plan, written=True)


def _result(plan: ImportPlan, *, written: bool) -> ImportResult:
    result = ImportResult(plan=plan, written=written)
    result.ignored_columns = [c.header for c in plan.columns if c.reason]
    result.per_day = [
        ImportDay(day=d.day, replaced=d.replaced, added=d.added, kept=len(d.kept), who=d.who.split(" → ")[-1] if d.who else "")
        for d in plan.per_day
    ]
    result.days = plan.days
    result.replaced = sorted({d.day for d in plan.per_day if d.replaced})
    result.figures = plan.figures
    return result


# --- the preview's token: what was read, confirmed later without reading the file again ------------------------------------


def plan_token(*, team: Team, actor: Member | None, plan: ImportPlan) -> str:
    """The plan's figures, signed: the confirm step writes exactly what the preview showed (the file is not kept)."""
    data = {
        "t": team.pk,
        "a": actor.pk if actor else None,
        "l": plan.layout.code,
        "f": plan.filename[:200],
        "s": {d.isoformat(): {m.code: str(v) for m, v in values.items()} for d, values in plan.shop.items()},
        "p": [[s.isoformat(), e.isoformat(), {m.code: str(v) for m, v in values.items()}] for (s, e), values in plan.periods.items()],
        "g": {n: {d.isoformat(): {m.code: str(v) for m, v in vs.items()} for d, vs in by_day.items()} for n, by_day in plan.agents.items()},
        "k": [
            [agent or "", d.isoformat(), code, [str(v) for v in values]]
            for (agent, d, code), values in plan.summed.items()
            if len(values) > 1
        ],
    }
    return signing.dumps(data, salt=TOKEN_SALT, compress=True)


def entries_import_confirm(
    *, team: Team, token: str, actor: Member | None, now: datetime, agents: dict[str, object] | None = None
) -> ImportResult:
    """Write what a preview showed (its signed token), with the 客服 names the importer mapped on it."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise ValidationError(_("This preview is more than an hour old: choose the file again.")) from None
    except signing.BadSignature:
        raise ValidationError(_("This preview cannot be read: choose the file again.")) from None
    if data.get("t") != team.pk or data.get("a") != (actor.pk if actor else None):
        raise ValidationError(_("This preview was made by someone else: choose the file again."))
    metrics = {m.code: m for m in Metric.objects.filter(team=team, is_active=True, kind=MetricKind.BASE)}
    layout = ImportLayout.objects.filter(team=team, code=data["l"]).first() or ImportLayout(team=team, code=data["l"], name=data["l"])
    plan = ImportPlan(layout=layout, filename=data.get("f", ""))

    def figures(raw: dict) -> dict[Metric, Decimal]:
        try:
            return {metrics[code]: Decimal(value) for code, value in raw.items()}
        except KeyError:
            raise ValidationError(_("A figure of this preview has been switched off since: choose the file again.")) from None

    plan.shop = {date.fromisoformat(d): figures(v) for d, v in data["s"].items()}
    plan.periods = {(date.fromisoformat(s), date.fromisoformat(e)): figures(v) for s, e, v in data["p"]}
    plan.agents = {n: {date.fromisoformat(d): figures(v) for d, v in by_day.items()} for n, by_day in data["g"].items()}
    plan.summed = {(a or None, date.fromisoformat(d), code): [Decimal(v) for v in values] for a, d, code, values in data["k"]}
    if plan.agents:
        plan.agent_members = agents_resolve(team=team, names=list(plan.agents))
    agents_choose(team=team, plan=plan, choices=agents or {})
    with transaction.atomic():
        plan_compare(team=team, plan=plan)
        return plan_write(team=team, plan=plan, actor=actor, now=now, choices=agents or {})


__all__ = ["DayWrite", "ImportDay", "ImportPlan", "ImportResult", "entries_import", "entries_import_confirm", "plan_token"]


# --- the director's own layouts ------------------------------------------------------------------------------------------

LAYOUT_SPECIALS = {"@date", "@agent", "@label"}


def import_layout_save(*, team: Team, code: str, name: str, columns: str, signature: str, per_member: bool) -> ImportLayout:
    """Save a layout from the page's text: one "header = metric code" per line (@date, @agent, @label for the others).

    A layout loaded from the playbook and edited here is the team's from then on (the loader keeps edited rows).
    """
    from opsteam.lib.text import text_line

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
