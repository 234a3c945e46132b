"""Load PLAYBOOK §7.1 (R-*): what each role is for, as rows a team can edit."""

from __future__ import annotations

from opsteam.lib.playbook import SyncReport, playbook_row_sync
from roles.models import Responsibility, Role, Team

RESPONSIBILITY_KEYS = {"id", "role", "heading", "text", "schedule", "source", "items", "first"}


def responsibility_sync_from_playbook(*, team: Team, roles: dict[str, Role], rows: list[dict], report: SyncReport) -> None:
    """One row per ID. A group (R-TEAM-1…5) is written once in the data file: `items` numbered from `first` (1)."""
    order = 0
    for row in rows:
        unknown = set(row) - RESPONSIBILITY_KEYS
        if unknown:
            raise ValueError(f"Playbook row {row.get('id', '?')} has unknown keys {sorted(map(str, unknown))}.")
        role = roles[row["role"]] if row.get("role") else None
        if "items" in row:
            expanded = [(f"{row['id']}-{n}", text) for n, text in enumerate(row["items"], start=row.get("first", 1))]
        else:
            expanded = [(row["id"], row["text"])]
        for playbook_id, text in expanded:
            order += 10
            playbook_row_sync(
                Responsibility,
                lookup={"team": team, "playbook_id": playbook_id},
                values={
                    "role": role,
                    "heading": row.get("heading", ""),
                    "text": text,
                    "schedule": row.get("schedule", ""),
                    "source": row.get("source", ""),
                    "order": order,
                },
                report=report,
            )
