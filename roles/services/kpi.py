"""Writes for KPIs: the playbook's metrics and targets, the day's figures (form, API, import) and monthly targets."""

from __future__ import annotations

import csv
import io
import itertools
import re
import zipfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from opsteam.lib.clock import local_date
from opsteam.lib.numbers import decimal_parse, weights_parse
from opsteam.lib.playbook import SyncReport, playbook_row_sync
from roles.models import (
    Aggregation,
    Direction,
    EntrySource,
    Kpi,
    KpiKind,
    Member,
    Metric,
    MetricEntry,
    MetricKind,
    MetricScope,
    Role,
    SplitKind,
    Target,
    Team,
)
from roles.models.kpi import MetricEntryChange

FIGURE_KEYS = {"id", "code", "name", "unit", "direction", "periods", "aliases", "scope", "aggregation", "source"}
RATIO_KEYS = FIGURE_KEYS | {"numerator", "denominator"}
KPI_KEYS = {"id", "name", "kind", "metric", "rule", "bands", "min_share", "tracked", "source"}
SHARE_PLACES = Decimal("0.0001")


def _keys_check(row: dict, allowed: set[str]) -> None:
    """A stray key is a typo or an unquoted comma that cut a text short: refuse it rather than load half a row."""
    unknown = set(row) - allowed
    if unknown:
        raise ValueError(
            f"Playbook row {row.get('id', '?')} has unknown keys {sorted(map(str, unknown))}; quote texts that contain commas."
        )


def _metric_values(row: dict, *, order: int, kind: str, parts: dict[str, Metric | None]) -> dict:
    return {
        "playbook_id": row["id"],
        "name": str(row["name"]),
        "kind": kind,
        "unit": str(row.get("unit", "")),
        "direction": Direction(row.get("direction", Direction.HIGHER)),
        "periods": ",".join(row.get("periods", [])),
        "aliases": "|".join(str(a) for a in row.get("aliases", [])),
        "scope": MetricScope(row.get("scope", MetricScope.SHOP)),
        "aggregation": Aggregation(row.get("aggregation", Aggregation.SUM)),
        "source": str(row.get("source", "")),
        "order": order,
        **parts,
    }


def metric_sync_from_playbook(*, team: Team, data: dict, report: SyncReport) -> dict[str, Metric]:
    """Load PLAYBOOK §6 (figures first, then the ratios over them) into the team; returns them by code."""
    metrics: dict[str, Metric] = {}
    order = 0
    for row in data.get("figures", []):
        _keys_check(row, FIGURE_KEYS)
        order += 10
        values = _metric_values(row, order=order, kind=MetricKind.BASE, parts={"numerator": None, "denominator": None})
        metrics[row["code"]] = playbook_row_sync(Metric, lookup={"team": team, "code": row["code"]}, values=values, report=report)
    for row in data.get("ratios", []):
        _keys_check(row, RATIO_KEYS)
        order += 10
        parts = {}
        for part in ("numerator", "denominator"):
            code = row[part]
            parts[part] = metrics.get(code) or Metric.objects.filter(team=team, code=code, kind=MetricKind.BASE).first()
            if parts[part] is None:
                raise ValueError(f"Playbook row {row['id']}: {part} {code!r} is not a recorded figure.")
        values = _metric_values(row, order=order, kind=MetricKind.RATIO, parts=parts)
        metrics[row["code"]] = playbook_row_sync(Metric, lookup={"team": team, "code": row["code"]}, values=values, report=report)
    return metrics


def kpi_sync_from_playbook(*, team: Team, rows: list[dict], metrics: dict[str, Metric], report: SyncReport) -> None:
    """Load PLAYBOOK §5 (targets and their grading) into the team."""
    for order, row in enumerate(rows, start=1):
        _keys_check(row, KPI_KEYS)
        metric = metrics.get(row["metric"]) if row.get("metric") else None
        if row.get("metric") and metric is None:
            raise ValueError(f"Playbook row {row['id']}: metric {row['metric']!r} is not defined under metrics.")
        min_share = row.get("min_share")
        playbook_row_sync(
            Kpi,
            lookup={"team": team, "playbook_id": row["id"]},
            values={
                "name": str(row["name"]),
                "kind": KpiKind(row.get("kind", KpiKind.TRACKED)),
                "metric": metric,
                "rule": str(row.get("rule", "")),
                "bands": [{"from": band[0], "label": str(band[1]), "tone": str(band[2])} for band in row.get("bands", [])],
                # Quantized as the column stores it, so the checksum of the saved row matches the loaded one.
                "min_share": Decimal(str(min_share)).quantize(SHARE_PLACES) if min_share is not None else None,
                "tracked": ",".join(row.get("tracked", [])),
                "source": str(row.get("source", "")),
                "order": order,
            },
            report=report,
        )


# --- the day's figures -----------------------------------------------------------------------------------------


def _number(raw, *, label: str, column=None) -> Decimal | None:
    """A figure as a shop worker types or exports it: 1,234.50, ¥1234, 1234; empty or "-" means none.

    opsteam.lib.numbers.decimal_parse (the one parser), checked against the column the value is written to.
    """
    return decimal_parse(raw, field=None, label=label, column=column or MetricEntry._meta.get_field("value"), allow_negative=False)


def _day_check(*, day: date, now: datetime) -> None:
    if day > local_date(now):
        raise ValidationError(_("%(day)s has not happened yet: figures can be entered for today or earlier.") % {"day": day.isoformat()})


@transaction.atomic
def entry_save(
    *,
    team: Team,
    day: date,
    figures: dict[str, object],
    actor: Member | None,
    now: datetime,
    member: Member | None = None,
    source: str = EntrySource.FORM,
) -> dict[str, Decimal | None]:
    """Record the day's figures by metric code; an empty value removes that figure. Returns what was saved."""
    _day_check(day=day, now=now)
    if member is not None and member.team_id != team.pk:
        raise ValidationError(_("That member is not in this team."))
    scope = MetricScope.MEMBER if member is not None else MetricScope.SHOP
    metrics = {m.code: m for m in Metric.objects.filter(team=team, kind=MetricKind.BASE, is_active=True, scope=scope)}
    errors, parsed = [], {}
    for code, raw in figures.items():
        metric = metrics.get(code)
        if metric is None:
            errors.append(_("“%(code)s” is not a figure recorded here.") % {"code": code})
            continue
        try:
            parsed[metric] = _number(raw, label=metric.name)
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    _entries_write(
        team=team, values={(day, metric): value for metric, value in parsed.items()}, member=member, source=source, actor=actor, now=now
    )
    return {metric.code: value for metric, value in parsed.items()}


@dataclass
class DayWrite:
    """What a write did to one day's figures: values overwritten, figures added, figures removed."""

    replaced: int = 0
    added: int = 0
    removed: int = 0


def _entries_write(
    *,
    team: Team,
    values: dict[tuple[date, Metric], Decimal | None],
    member: Member | None,
    source: str,
    actor: Member | None,
    now: datetime,
) -> dict[date, DayWrite]:
    """Write the given figures (None removes one) and record every change with its before and after value.

    Only the (day, metric) pairs given are touched. A value equal to the stored one is counted as replaced but not
    rewritten, so the audit trail shows who last changed the number, not who last sent it again.
    """
    counts: dict[date, DayWrite] = {day: DayWrite() for day, _metric in values}
    # Locked: two people saving the same day read the same before-values otherwise.
    stored = {
        (e.date, e.metric_id): e
        for e in MetricEntry.objects.select_for_update().filter(
            team=team, member=member, date__in=counts.keys(), metric__in={metric for _day, metric in values}
        )
    }
    new, changed, removed, changes = [], [], [], []
    for (day, metric), value in values.items():
        entry = stored.get((day, metric.pk))
        if entry is None and value is None:
            continue
        if entry is None:
            new.append(
                MetricEntry(team=team, metric=metric, member=member, date=day, value=value, source=source, entered_by=actor, entered_at=now)
            )
            counts[day].added += 1
        elif value is None:
            removed.append(entry.pk)
            counts[day].removed += 1
        else:
            counts[day].replaced += 1
            if entry.value == value:
                continue
            changed.append(entry)
        changes.append(
            MetricEntryChange(
                team=team,
                metric=metric,
                member=member,
                date=day,
                before=entry.value if entry is not None else None,
                after=value,
                source=source,
                actor=actor,
                at=now,
            )
        )
        if entry is not None and value is not None:
            entry.value, entry.source, entry.entered_by, entry.entered_at = value, source, actor, now
    if removed:
        MetricEntry.objects.filter(pk__in=removed).delete()
    if changed:
        MetricEntry.objects.bulk_update(changed, ["value", "source", "entered_by", "entered_at"])
    MetricEntry.objects.bulk_create(new)
    MetricEntryChange.objects.bulk_create(changes)
    return counts


# --- import ------------------------------------------------------------------------------------------------------

DATE_HEADERS = {"日期", "统计日期", "date", "Date", "时间"}
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_ERRORS = 20
# The rows below the header and the unpacked size of a workbook are settings (OPSTEAM_IMPORT_MAX_ROWS,
# OPSTEAM_IMPORT_MAX_UNZIPPED_BYTES). Columns past these are not read: an export has a few dozen.
IMPORT_MAX_COLUMNS = 256
# A zip entry this large that unpacks to more than ZIP_MAX_RATIO times its packed size is a bomb, not an export:
# a sheet of figures packs about 5-20 to 1, and a small entry cannot do harm whatever its ratio.
ZIP_RATIO_FROM = 1024 * 1024
ZIP_MAX_RATIO = 100
ZIP_MAX_ENTRIES = 1000


@dataclass
class ImportDay:
    """One imported day: figures of the file that replaced recorded ones, new ones, and recorded ones kept."""

    day: date
    replaced: int
    added: int
    kept: int

    @property
    def summary(self) -> str:
        return _("%(day)s: %(replaced)d replaced, %(added)d added, %(kept)d kept (not in the file).") % {
            "day": self.day.isoformat(),
            "replaced": self.replaced,
            "added": self.added,
            "kept": self.kept,
        }


@dataclass
class ImportResult:
    """What an import saved: the days, the days whose recorded figures it replaced, each day's counts, unknown columns."""

    days: list[date] = field(default_factory=list)
    replaced: list[date] = field(default_factory=list)
    figures: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    per_day: list[ImportDay] = field(default_factory=list)


def _rows_from_csv(content: bytes) -> Iterator[list]:
    """The rows one by one; a cell past csv's field limit (131,072 characters) or a broken line is a clear error."""
    # Shop back-ends export UTF-8 (with or without a BOM) or GBK; GB18030 reads GBK and more.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError(_("The file is neither UTF-8 nor GBK text: save it again as CSV (UTF-8) or as .xlsx."))
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise ValidationError(
                    _("Row %(row)d has a cell longer than %(max)s characters: this is not an export of daily figures.")
                    % {"row": reader.line_num, "max": f"{csv.field_size_limit():,}"}
                ) from None
            raise ValidationError(
                _("Row %(row)d cannot be read as CSV: save the file again as CSV (UTF-8) or as .xlsx.") % {"row": reader.line_num}
            ) from None
        yield row[:IMPORT_MAX_COLUMNS]


def _xlsx_unreadable() -> ValidationError:
    return ValidationError(_("This is not an Excel workbook (.xlsx) that can be read: open it in Excel and save it again."))


def _zip_check(content: bytes) -> None:
    """Refuse a workbook that would unpack to far more than an export of daily figures, before anything reads it.

    An .xlsx is a zip of XML parts. The sizes checked are the ones the zip declares, and Python's zipfile never
    unpacks more than an entry declares, so openpyxl cannot be made to read more than this allows.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise _xlsx_unreadable() from None
    limit = settings.OPSTEAM_IMPORT_MAX_UNZIPPED_BYTES
    if len(entries) > ZIP_MAX_ENTRIES or sum(entry.file_size for entry in entries) > limit:
        raise ValidationError(
            _("This workbook unpacks to more than %(max)d MB: export fewer days at a time, or save it as CSV.")
            % {"max": limit // (1024 * 1024)}
        )
    if any(entry.file_size > ZIP_RATIO_FROM and entry.file_size > ZIP_MAX_RATIO * max(entry.compress_size, 1) for entry in entries):
        raise ValidationError(
            _("This workbook is packed far tighter than an export (over %(ratio)d to 1): open it in Excel and save it again.")
            % {"ratio": ZIP_MAX_RATIO}
        )


def _rows_from_xlsx(content: bytes) -> Iterator[tuple]:
    """The first worksheet's rows one by one (read-only mode streams the sheet; nothing holds every row at once)."""
    _zip_check(content)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds (zip, XML, key errors) for a file that is not a workbook
        raise _xlsx_unreadable() from None
    try:
        if not workbook.worksheets:
            raise ValidationError(
                _("This workbook has no worksheet: open it in Excel, put the figures on the first sheet and save it again.")
            )
        # max_col: a sheet may declare 16,384 columns, and read-only mode pads every row to the declared width.
        rows = workbook.worksheets[0].iter_rows(values_only=True, max_col=IMPORT_MAX_COLUMNS)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception:  # a sheet that breaks off, or XML openpyxl cannot read, is found only as it is read
                raise _xlsx_unreadable() from None
            yield row
    finally:
        workbook.close()


def _date(raw) -> date | None:
    if isinstance(raw, datetime):
        return raw.date()  # a naive spreadsheet date-time: its own calendar day, no time zone involved
    if isinstance(raw, date):
        return raw
    text = str(raw or "").strip()
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+[\d:]+)?", text) or re.fullmatch(
        r"(\d{4})(\d{2})(\d{2})", text
    )
    if not match:
        raise ValueError(text)
    return date(int(match[1]), int(match[2]), int(match[3]))


def _without_unit(header: str) -> str:
    """支付金额(元), 支付金额（元） and 总停留时长 (秒) are 支付金额 and 总停留时长: exports add the unit to the header."""
    return re.sub(r"\s*[(（][^()（）]*[)）]\s*$", "", header)


def _cell_text(cell) -> str:
    return str(cell).strip().lstrip("\ufeff") if cell is not None else ""


def entries_import(*, team: Team, content: bytes, filename: str, actor: Member | None, now: datetime) -> ImportResult:
    """Import a shop's analytics export: all rows or none; the file's figures replace recorded ones, others are kept."""
    if len(content) > MAX_IMPORT_BYTES:
        raise ValidationError(_("The file is larger than 5 MB: export fewer days at a time."))
    name = filename.lower()
    if name.endswith(".xlsx"):
        rows = _rows_from_xlsx(content)
    elif name.endswith((".csv", ".txt")):
        rows = _rows_from_csv(content)
    else:
        raise ValidationError(_("Upload an .xlsx or .csv file."))
    # closing: a refusal half-way through leaves the workbook open otherwise, until the generator is collected.
    with closing(rows):
        parsed = _entries_parse(team=team, rows=rows, now=now)
    return _entries_import_write(team=team, parsed=parsed, actor=actor, now=now)


@dataclass
class _Parsed:
    """The file's figures by day, and the columns it has that are not figures (said back to the importer)."""

    by_day: dict[date, dict[Metric, Decimal]]
    ignored_columns: list[str]


def _entries_parse(*, team: Team, rows: Iterator, now: datetime) -> _Parsed:
    """Read the rows as they stream in; stop at the first MAX_ERRORS errors or past the row limit. Writes nothing."""
    metrics = Metric.objects.filter(team=team, kind=MetricKind.BASE, is_active=True, scope=MetricScope.SHOP)
    by_header = {}
    for metric in metrics:
        for label in (metric.name, metric.code, *metric.alias_list):
            by_header.setdefault(label, metric)

    # Exports often start with a title or notes: the header is the first row with a date column.
    head = list(itertools.islice(rows, 20))
    header_index = next((i for i, row in enumerate(head) if any(_cell_text(c) in DATE_HEADERS for c in row)), None)
    if header_index is None:
        raise ValidationError(_("No header row with a 日期 (date) column was found in the first 20 rows."))
    header = [_cell_text(c) for c in head[header_index]]
    date_col = next(i for i, h in enumerate(header) if h in DATE_HEADERS)
    columns = {i: by_header.get(h) or by_header.get(_without_unit(h)) for i, h in enumerate(header) if i != date_col}
    columns = {i: metric for i, metric in columns.items() if metric is not None}
    ignored_columns = [h for i, h in enumerate(header) if h and i != date_col and i not in columns]
    if not columns:
        raise ValidationError(_("None of the columns is a known figure (for example 访客数, 浏览量, 支付金额, 支付买家数, 支付订单数)."))
    duplicated = {m.name for m in columns.values() if list(columns.values()).count(m) > 1}
    if duplicated:
        raise ValidationError(_("These figures appear in two columns: %(names)s.") % {"names": "、".join(sorted(duplicated))})

    errors: list[str] = []
    parsed: dict[date, dict[Metric, Decimal]] = {}
    first_row_of: dict[date, int] = {}
    today = local_date(now)
    max_rows = settings.OPSTEAM_IMPORT_MAX_ROWS
    for index, row in enumerate(itertools.chain(head[header_index + 1 :], rows), start=header_index + 2):
        if index - header_index - 1 > max_rows:
            # Counted with the empty rows: reading a million empty rows is what this limit is for.
            raise ValidationError(
                _("The file has more than %(max)s rows below its header: import at most %(max)s days at a time. Nothing was imported.")
                % {"max": f"{max_rows:,}"}
            )
        if not any(_cell_text(c) for c in row):
            continue
        line = _("Row %(row)d") % {"row": index}
        try:
            day = _date(row[date_col] if date_col < len(row) else None)
        except (ValueError, TypeError):
            errors.append(_("%(line)s: “%(value)s” is not a date (write 2026-11-23).") % {"line": line, "value": row[date_col]})
            continue
        if day is None:
            errors.append(_("%(line)s: the date is empty.") % {"line": line})
            continue
        if day > today:
            errors.append(_("%(line)s: %(day)s has not happened yet.") % {"line": line, "day": day.isoformat()})
            continue
        if day in first_row_of:
            errors.append(
                _("%(line)s: %(day)s is already in row %(first)d.") % {"line": line, "day": day.isoformat(), "first": first_row_of[day]}
            )
            continue
        first_row_of[day] = index
        values = {}
        for col, metric in columns.items():
            try:
                value = _number(row[col] if col < len(row) else None, label=metric.name)
            except ValidationError as exc:
                # Translated as a whole so Chinese gets its full-width colon here too (第 3 行：访客数：…).
                errors.extend(_("%(line)s: %(message)s") % {"line": line, "message": message} for message in exc.messages)
                continue
            if value is not None:
                values[metric] = value
        parsed[day] = values
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise ValidationError([*errors[:MAX_ERRORS], _("Nothing was imported. Correct the rows above and import the file again.")])
    if not parsed:
        raise ValidationError(_("The file has a header but no rows of figures."))
    return _Parsed(by_day=parsed, ignored_columns=ignored_columns)


def _entries_import_write(*, team: Team, parsed: _Parsed, actor: Member | None, now: datetime) -> ImportResult:
    """Write what the file holds, in one transaction, and count per day what it replaced, added and kept."""
    result = ImportResult(ignored_columns=parsed.ignored_columns)
    by_day = parsed.by_day
    with transaction.atomic():
        # Re-importing a day replaces the figures of the columns the file carries and keeps the others, such as
        # 花费 or 毛利润 entered by hand: a shop export rarely has every figure. An empty cell keeps the recorded value.
        recorded = dict(
            MetricEntry.objects.filter(team=team, member__isnull=True, date__in=by_day.keys())
            .values_list("date")
            .annotate(n=Count("id"))
            .order_by()
        )
        written = _entries_write(
            team=team,
            values={(day, metric): value for day, values in by_day.items() for metric, value in values.items()},
            member=None,
            source=EntrySource.IMPORT,
            actor=actor,
            now=now,
        )
    for day in sorted(by_day):
        counts = written.get(day, DayWrite())
        result.per_day.append(ImportDay(day=day, replaced=counts.replaced, added=counts.added, kept=recorded.get(day, 0) - counts.replaced))
    result.replaced = [d.day for d in result.per_day if d.replaced]
    result.days = sorted(by_day)
    result.figures = sum(len(values) for values in by_day.values())
    return result


# --- targets -----------------------------------------------------------------------------------------------------


@transaction.atomic
def target_set(
    *,
    team: Team,
    metric: Metric,
    month: date,
    value,
    actor: Member | None,
    now: datetime,
    split: str = SplitKind.NONE,
    weekday_weights: list | None = None,
    role: Role | None = None,
    member: Member | None = None,
    in_percent: bool = False,
) -> Target:
    """Set (or change) a month's target for the team, a role or a member.

    A share (unit %) is stored as a fraction (0.05); with in_percent, as the targets page takes it, 5 means 5%.
    """
    if metric.team_id != team.pk or (role is not None and role.team_id != team.pk) or (member is not None and member.team_id != team.pk):
        raise ValidationError(_("The metric, role and member must all belong to this team."))
    if role is not None and member is not None:
        raise ValidationError(_("A target is for the team, one role or one member, not a role and a member at once."))
    amount = _number(value, label=_("Target"), column=Target._meta.get_field("value"))
    if amount is None:
        raise ValidationError(_("Give the target as a number."))
    if metric.is_share:
        if in_percent:
            amount = amount / 100
        # A share is at most the whole: "5" typed as a fraction would be 500% (PLAYBOOK §6 ratios are parts of a total).
        if amount > 1:
            raise ValidationError(_("%(name)s is a percentage: a target cannot be over 100%% (type 5 for 5%%).") % {"name": metric.name})
    split = SplitKind(split)
    if split != SplitKind.NONE and (metric.is_ratio or metric.aggregation != Aggregation.SUM):
        raise ValidationError(_("Only a figure that adds up over days (such as sales) can be split over the month's days."))
    weights = weights_parse(weekday_weights or [])
    if split == SplitKind.WEEKDAY and (len(weights) != 7 or any(w < 0 for w in weights) or not any(weights)):
        raise ValidationError(_("Give seven weekday weights, Monday first, none negative and not all zero."))
    target, _created = Target.objects.update_or_create(
        team=team,
        metric=metric,
        month=month.replace(day=1),
        role=role,
        member=member,
        defaults={
            "value": amount,
            "split": split,
            "weekday_weights": weights if split == SplitKind.WEEKDAY else [],
            "set_by": actor,
            "set_at": now,
        },
    )
    return target


@transaction.atomic
def day_figures_save(
    *, team: Team, day: date, shop: dict[str, object], by_member: dict[Member, dict[str, object]], actor: Member | None, now: datetime
) -> None:
    """The day's figures page in one go: the shop's and each member's, all saved or none."""
    entry_save(team=team, day=day, figures=shop, actor=actor, now=now)
    for member, figures in by_member.items():
        if figures:
            entry_save(team=team, day=day, figures=figures, member=member, actor=actor, now=now)
