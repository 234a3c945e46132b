"""Reading a shop export into a plan, without writing: the figures per day, per 客服 and per period, the 客服 names
mapped to members, and what each day's figures replace, add and keep (the preview). Writing it: kpi_import."""

from __future__ import annotations

import itertools
from collections import defaultdict
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from opsteam.lib.clock import local_date
from roles.models import AgentName, ImportLayout, Member, Metric, MetricEntry, MetricKind, MetricScope, PeriodFigure, Team
from roles.services.kpi_files import cell_text, rows_read
from roles.services.kpi_layouts import (
    EMPTY,
    HEADER_SEARCH_ROWS,
    Columns,
    ColumnUse,
    columns_map,
    header_find,
    layout_pick,
    layouts_active,
    metric_names,
    number_parse,
    totals_row_find,
    when_parse,
)

MAX_ERRORS = 20


# --- the plan ----------------------------------------------------------------------------------------------------------


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


# --- reading the file into a plan ---------------------------------------------------------------------------------------


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
    layouts = layouts_active(team)
    head = list(itertools.islice(rows, HEADER_SEARCH_ROWS))
    names = metric_names([m for m in metrics if m.kind == MetricKind.BASE])
    header_index = header_find(head, layouts, names)
    if header_index is None:
        raise ValidationError(_("No header row with a 日期 (date) or 客服 column and a known figure was found in the first 20 rows."))
    header = [cell_text(c) for c in head[header_index]]
    chosen = layout_pick(layouts, header, layout_code)
    plan = ImportPlan(layout=chosen, filename=filename)
    for index in range(header_index):
        if any(cell_text(c) for c in head[index]):
            plan.skipped.append((index + 1, _("above the header (a title or a note)")))
    cols = columns_map(chosen, header, metrics, plan.columns)
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


def _rows_parse(plan: ImportPlan, *, rows, first: int, cols: Columns, day: date | None, now: datetime) -> None:
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
        totals = totals_row_find(key_cells)
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
