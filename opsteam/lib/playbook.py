"""Read the default playbook data file and write its rows without overwriting an owner's edits."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml
from django.db import models

from opsteam.lib.text import LINE_FORBIDDEN_RE, TEXT_FORBIDDEN_RE

DEFAULT_PLAYBOOK = Path(__file__).resolve().parent.parent / "playbook" / "default.yaml"


@cache
def playbook_read(path: Path = DEFAULT_PLAYBOOK) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@dataclass(frozen=True)
class Difference:
    """A field of a row the owner edited, where the playbook being loaded says something else."""

    model: str
    object_id: int
    playbook_id: str
    field: str
    team_value: str
    playbook_value: str


@dataclass
class SyncReport:
    """What one load did, per model: rows created, updated from a newer playbook, kept as edited, retired.

    `seen` holds the rows the playbook still names and `keys` the fields the loader writes per model, so that a
    row the playbook no longer names (moved to another list, or dropped) can be told edited or not; `differences`
    are what an edited row keeps against the playbook, for the director.
    """

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    retired: dict[str, int] = field(default_factory=dict)
    seen: dict[str, set[int]] = field(default_factory=dict)
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)

    def count(self, bucket: str, label: str) -> None:
        counts = getattr(self, bucket)
        counts[label] = counts.get(label, 0) + 1

    def lines(self) -> list[str]:
        labels = sorted(set(self.created) | set(self.updated) | set(self.kept) | set(self.retired))
        lines = []
        for label in labels:
            line = (
                f"{label}: {self.created.get(label, 0)} created, {self.updated.get(label, 0)} updated, "
                f"{self.kept.get(label, 0)} kept as edited"
            )
            if self.retired.get(label):
                line += f", {self.retired[label]} switched off (no longer in the playbook)"
            lines.append(line)
        for difference in self.differences:
            lines.append(
                f"kept as edited: {difference.model} {difference.playbook_id} {difference.field}: "
                f"the team's {difference.team_value!r}, the playbook's {difference.playbook_value!r}"
            )
        return lines


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    return str(value) if not isinstance(value, (int, float, bool, type(None), list, dict)) else value


def _checksum(values: dict[str, Any]) -> str:
    data = json.dumps({k: _plain(v) for k, v in sorted(values.items())}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()


def _shown(value: Any) -> str:
    value = _plain(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "" if value is None else str(value)


def _current(row: models.Model, names) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}


def row_is_edited(row: models.Model, names) -> bool:
    """Do the row's fields `names` still hash to what the loader last wrote?

    A field the loader started writing after the row was loaded (e.g. a template's lead_only) was not in that
    checksum: a row whose only difference is such a field, still at its default, is not an edit.
    """
    current = _current(row, names)
    if _checksum(current) == row.playbook_checksum:
        return False
    at_default = [name for name in names if row._meta.get_field(name).get_default() == _plain(current[name])]
    if len(at_default) > 12:  # bounded work: such a row is taken for edited
        return True
    for size in range(1, len(at_default) + 1):
        for later in combinations(at_default, size):
            if _checksum({k: v for k, v in current.items() if k not in later}) == row.playbook_checksum:
                return False
    return True


def _text_check(model: type[models.Model], *, lookup: dict[str, Any], values: dict[str, Any]) -> None:
    """The same rule as for what members type (opsteam.lib.text): no control character in a name, a title or a text."""
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        multiline = isinstance(model._meta.get_field(name), models.TextField)
        if (TEXT_FORBIDDEN_RE if multiline else LINE_FORBIDDEN_RE).search(value):
            where = ", ".join(f"{key}={v!r}" for key, v in lookup.items() if not isinstance(v, models.Model))
            raise ValueError(f"Playbook {model._meta.label} {where}: {name} holds a control character; write it as plain text.")


def playbook_row_sync(model: type[models.Model], *, lookup: dict[str, Any], values: dict[str, Any], report: SyncReport):
    """Create the row, or update it only if nobody edited it since the loader last wrote it.

    A row is "edited" when its current fields no longer hash to the checksum stored at load time.
    """
    label = str(model._meta.label)  # stable in every language, e.g. checklists.TemplateItem
    _text_check(model, lookup=lookup, values=values)
    new_checksum = _checksum(values)
    report.keys.setdefault(label, tuple(values))
    row = model.objects.filter(**lookup).first()
    if row is None:
        row = model.objects.create(**lookup, **values, playbook_checksum=new_checksum)
        report.count("created", label)
        report.seen.setdefault(label, set()).add(row.pk)
        return row
    report.seen.setdefault(label, set()).add(row.pk)
    current = _current(row, values)
    if row.playbook_checksum == new_checksum and _checksum(current) == new_checksum:
        return row  # unchanged on both sides: nothing to do
    if row_is_edited(row, values):
        report.count("kept", label)
        for name, value in values.items():
            if _plain(current[name]) != _plain(value):
                report.differences.append(
                    Difference(label, row.pk, getattr(row, "playbook_id", ""), name, _shown(current[name]), _shown(value))
                )
        return row
    for name, value in values.items():
        setattr(row, name, value)
    row.playbook_checksum = new_checksum
    row.save()
    report.count("updated", label)
    return row


def playbook_rows_retire(queryset: models.QuerySet, *, report: SyncReport) -> None:
    """Switch off the loaded rows in `queryset` that the playbook no longer names (an item moved to another role's
    list, a step dropped), unless their owner edited them: then the row stays, and the difference is reported."""
    label = str(queryset.model._meta.label)
    names = report.keys.get(label)
    if not names:
        return
    stale = queryset.exclude(playbook_id="").exclude(pk__in=report.seen.get(label, set())).filter(is_active=True)
    for row in stale:
        if row_is_edited(row, names):
            report.count("kept", label)
            report.differences.append(Difference(label, row.pk, row.playbook_id, "is_active", "True", "False"))
            continue
        # The checksum now covers the switch too: an owner who switches the row back on has edited it, and a later
        # load leaves it on.
        checksum = _checksum({**_current(row, names), "is_active": False})
        type(row).objects.filter(pk=row.pk).update(is_active=False, playbook_checksum=checksum)
        report.count("retired", label)
