"""Reads of the board's nudges (issue 20): a member's open reminder, the latest nudge (the day's latest per member for the
board is checklists.daily.pace.nudge_marks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from checklists.models import ChecklistItem, ItemStatus, Nudge
from roles.models import Member


@dataclass
class OpenReminder:
    """What the member's today page shows until they act: the latest nudge of the day and its items still open."""

    nudge: Nudge
    items: list[ChecklistItem]


def nudge_open_for(*, member: Member, day: date) -> OpenReminder | None:
    """The day's latest nudge to the member that still names an open item, or None (two queries at most)."""
    nudge = (
        Nudge.objects.filter(member=member, day=day, items__status=ItemStatus.OPEN).select_related("sender").order_by("-at", "-id").first()
    )
    if nudge is None:
        return None
    items = list(nudge.items.filter(status=ItemStatus.OPEN).order_by("due_at", "order", "pk"))
    return OpenReminder(nudge=nudge, items=items)


def nudge_latest(*, member: Member, since: datetime) -> Nudge | None:
    return Nudge.objects.filter(member=member, at__gt=since).order_by("-at", "-id").first()
