"""Read the default playbook data file and write its rows without overwriting an owner's edits."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
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


@dataclass
class SyncReport:
    """What one load did, per model: rows created, updated from a newer playbook, kept as edited."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: str, label: str) -> None:
        counts = getattr(self, bucket)
        counts[label] = counts.get(label, 0) + 1

    def lines(self) -> list[str]:
        labels = sorted(set(self.created) | set(self.updated) | set(self.kept))
        return [
            f"{label}: {self.created.get(label, 0)} created, {self.updated.get(label, 0)} updated, {self.kept.get(label, 0)} kept as edited"
            for label in labels
        ]


def _checksum(values: dict[str, Any]) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, models.Model):
            return value.pk
        return str(value) if not isinstance(value, (int, float, bool, type(None), list, dict)) else value

    data = json.dumps({k: plain(v) for k, v in sorted(values.items())}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()


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
    label = model._meta.label  # stable in every language, e.g. checklists.TemplateItem
    _text_check(model, lookup=lookup, values=values)
    new_checksum = _checksum(values)
    row = model.objects.filter(**lookup).first()
    if row is None:
        row = model.objects.create(**lookup, **values, playbook_checksum=new_checksum)
        report.count("created", str(label))
        return row
    current = {name: getattr(row, name) for name in values}
    if row.playbook_checksum == new_checksum and _checksum(current) == new_checksum:
        return row  # unchanged on both sides: nothing to do
    if _checksum(current) != row.playbook_checksum:
        report.count("kept", str(label))
        return row
    for name, value in values.items():
        setattr(row, name, value)
    row.playbook_checksum = new_checksum
    row.save()
    report.count("updated", str(label))
    return row
