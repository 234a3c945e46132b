"""Writes for KPIs: the playbook's metrics and targets, the day's figures (form, API, import) and monthly targets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from opsteam.lib.clock import local_date
from opsteam.lib.numbers import decimal_parse, weights_parse
from opsteam.lib.playbook import SyncReport, playbook_row_sync
from roles.models import (
    Aggregation,
    Direction,
    EntrySource,
    ImportLayout,
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

FIGURE_KEYS = {
    "id", "code", "name", "unit", "direction", "periods", "aliases", "scope", "aggregation", "source", "part_of", "distinct",
}  # fmt: skip
RATIO_KEYS = FIGURE_KEYS | {"numerator", "denominator"}
MEAN_KEYS = FIGURE_KEYS | {"of"}
LAYOUT_KEYS = {"id", "code", "name", "columns", "signature", "per_member"}
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
        "distinct": bool(row.get("distinct", False)),
        "order": order,
        **parts,
    }


def _metric_of(team: Team, metrics: dict[str, Metric], code: str, *, kinds: tuple[str, ...]) -> Metric | None:
    metric = metrics.get(code) or Metric.objects.filter(team=team, code=code).first()
    return metric if metric is not None and metric.kind in kinds else None


def metric_sync_from_playbook(*, team: Team, data: dict, report: SyncReport) -> dict[str, Metric]:
    """Load PLAYBOOK §6 and §7.6 into the team: sums, figures (a cost line names its sum), ratios, means of ratios,
    then the import layouts; returns the metrics by code."""
    metrics: dict[str, Metric] = {}
    order = 0
    none = {"numerator": None, "denominator": None, "part_of": None}
    for row in data.get("sums", []):
        _keys_check(row, FIGURE_KEYS)
        order += 10
        values = _metric_values(row, order=order, kind=MetricKind.SUM, parts=none)
        metrics[row["code"]] = playbook_row_sync(Metric, lookup={"team": team, "code": row["code"]}, values=values, report=report)
    for row in data.get("figures", []):
        _keys_check(row, FIGURE_KEYS)
        order += 10
        part_of = None
        if row.get("part_of"):
            part_of = _metric_of(team, metrics, row["part_of"], kinds=(MetricKind.SUM,))
            if part_of is None:
                raise ValueError(f"Playbook row {row['id']}: part_of {row['part_of']!r} is not a sum.")
        values = _metric_values(row, order=order, kind=MetricKind.BASE, parts={**none, "part_of": part_of})
        metrics[row["code"]] = playbook_row_sync(Metric, lookup={"team": team, "code": row["code"]}, values=values, report=report)
    for row in data.get("ratios", []):
        _keys_check(row, RATIO_KEYS)
        order += 10
        parts = {"part_of": None}
        for part in ("numerator", "denominator"):
            parts[part] = _metric_of(team, metrics, row[part], kinds=(MetricKind.BASE, MetricKind.SUM))
            if parts[part] is None:
                raise ValueError(f"Playbook row {row['id']}: {part} {row[part]!r} is not a recorded figure or a sum.")
        values = _metric_values(row, order=order, kind=MetricKind.RATIO, parts=parts)
        metrics[row["code"]] = playbook_row_sync(Metric, lookup={"team": team, "code": row["code"]}, values=values, report=report)
    for row in data.get("means", []):
        _keys_check(row, MEAN_KEYS)
        order += 10
        ratio = _metric_of(team, metrics, row["of"], kinds=(MetricKind.RATIO,))
        if ratio is None:
            raise ValueError(f"Playbook row {row['id']}: of {row['of']!r} is not a ratio.")
        values = _metric_values(row, order=order, kind=MetricKind.MEAN, parts={**none, "numerator": ratio})
        metrics[row["code"]] = playbook_row_sync(Metric, lookup={"team": team, "code": row["code"]}, values=values, report=report)
    for order, row in enumerate(data.get("import_layouts", []), start=1):
        _keys_check(row, LAYOUT_KEYS)
        columns = {str(header): str(code) for header, code in (row.get("columns") or {}).items()}
        unknown = [code for code in columns.values() if not code.startswith("@") and code not in metrics]
        if unknown:
            raise ValueError(f"Playbook row {row['id']}: columns name metrics that are not defined: {unknown}.")
        playbook_row_sync(
            ImportLayout,
            lookup={"team": team, "code": row["code"]},
            values={
                "playbook_id": row["id"],
                "name": str(row["name"]),
                "columns": columns,
                "signature": "|".join(str(s) for s in row.get("signature", [])),
                "per_member": bool(row.get("per_member", False)),
                "order": order,
            },
            report=report,
        )
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
