"""Who is behind now: the one definition of "behind" (issue 20), used by the board, the API, the evening
meeting's agenda and the 17:00 digest.

A member's day is the items of their lists for the day (a group such as SC-WH-1 is not counted: its
sub-items are). At an instant `now`:

- `due`: items whose due time has passed (due_at < now);
- `missed`: of those, the ones still open ("due by now and still open");
- share done = done / total, share due = due / total: the pace.

A member is **behind** when an item due by now is still open, or when fewer items are done than are due
(the due ones were marked "not done"). A member with nothing due yet is never behind, whatever their
percentage; a member at 0% with items due always is. Ticking late is not being behind: the board's "late"
column says that.

How far behind, worst first: the pace gap (share due minus share done), then the number missed, then the
oldest open item's due time (the longest waiting first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Count, Min, Q

from checklists.daily.models import missed_at
from checklists.models import ChecklistItem, ItemStatus, Nudge

OPEN_ITEMS_SHOWN = 5  # per person on the board's first screen; the count says how many in all


def pace_counts(now: datetime) -> dict:
    """The aggregates a pace is read from, for a .values(...).annotate(**pace_counts(now)) over items."""
    missed = missed_at(now)  # 漏做: the one definition (checklists.daily.models)
    return {
        "total": Count("id"),
        "done": Count("id", filter=Q(status=ItemStatus.DONE)),
        "due": Count("id", filter=Q(due_at__lt=now)),
        "missed": Count("id", filter=missed),
        "oldest_missed": Min("due_at", filter=missed),
    }


PACE_FIELDS = ("total", "done", "due", "missed", "oldest_missed")


@dataclass
class Pace:
    """A member's (or a role's) day against the clock: items in all, done, due by now, due and still open."""

    total: int = 0
    done: int = 0
    due: int = 0
    missed: int = 0
    oldest_missed: datetime | None = None

    @property
    def done_share(self) -> float:
        return self.done / self.total if self.total else 0.0

    @property
    def due_share(self) -> float:
        return self.due / self.total if self.total else 0.0

    @property
    def gap(self) -> float:
        """Share due minus share done: above 0 is behind the clock."""
        return self.due_share - self.done_share

    @property
    def is_behind(self) -> bool:
        return pace_is_behind(self)

    def add_pace(self, other: Pace) -> None:
        self.total += other.total
        self.done += other.done
        self.due += other.due
        self.missed += other.missed
        if other.oldest_missed is not None and (self.oldest_missed is None or other.oldest_missed < self.oldest_missed):
            self.oldest_missed = other.oldest_missed


def pace_is_behind(pace: Pace) -> bool:
    """The definition (see the module's docstring)."""
    if pace.due == 0:
        return False
    return pace.missed > 0 or pace.done < pace.due


def pace_order_key(pace: Pace) -> tuple:
    """Worst first: the widest gap, then the most missed, then the longest waiting."""
    oldest = pace.oldest_missed.timestamp() if pace.oldest_missed else float("inf")
    return (-round(pace.gap, 6), -pace.missed, oldest)


# --- the people behind -------------------------------------------------------------------------------------------------


@dataclass
class OpenItem:
    item_id: int
    text: str
    due_at: datetime


@dataclass
class NudgeMark:
    """The latest nudge of the day to a member, for the board: "nudged 10:40, 3 of 5 done since"."""

    at: datetime
    open_count: int
    done_since: int
    by: str


@dataclass
class BehindRow:
    """One person behind now: their pace, what is open (due by now), since when, and the day's latest nudge."""

    member_id: int
    name: str
    role_id: int
    role_name: str
    pace: Pace
    open_items: list[OpenItem] = field(default_factory=list)
    nudge: NudgeMark | None = None

    @property
    def since(self) -> datetime | None:
        return self.pace.oldest_missed

    @property
    def more_open(self) -> int:
        return max(0, self.pace.missed - len(self.open_items))


@dataclass
class PersonPace:
    member_id: int
    name: str
    role_id: int
    role_name: str
    pace: Pace


def _day_items(*, team_id: int, role_ids: set[int] | None, day: date):
    items = ChecklistItem.objects.filter(checklist__team_id=team_id, checklist__date=day, is_group=False)
    if role_ids is not None:
        items = items.filter(checklist__role_id__in=role_ids)
    return items


def person_paces(
    *, team_id: int, role_ids: set[int] | None, day: date, now: datetime, member_ids: set[int] | None = None
) -> list[PersonPace]:
    """One query: each member's pace for the day, per role of their lists (the list's member, covered or not)."""
    items = _day_items(team_id=team_id, role_ids=role_ids, day=day)
    if member_ids is not None:
        items = items.filter(checklist__member_id__in=member_ids)
    rows = (
        items.values("checklist__role_id", "checklist__role__name", "checklist__member_id", "checklist__member__display_name")
        .annotate(**pace_counts(now))
        .order_by()
    )
    return [
        PersonPace(
            member_id=row["checklist__member_id"],
            name=row["checklist__member__display_name"],
            role_id=row["checklist__role_id"],
            role_name=row["checklist__role__name"],
            pace=Pace(**{k: row[k] for k in PACE_FIELDS}),
        )
        for row in rows
    ]


def behind_list(
    *,
    team_id: int,
    role_ids: set[int] | None,
    day: date,
    now: datetime,
    people: list[PersonPace] | None = None,
    member_ids: set[int] | None = None,
) -> list[BehindRow]:
    """The people behind now, worst first, each with up to OPEN_ITEMS_SHOWN open items (oldest first) and the
    day's latest nudge. Three queries whatever the number of members (two when `people` is given, as the board
    passes the paces its completion query already read)."""
    if people is None:
        people = person_paces(team_id=team_id, role_ids=role_ids, day=day, now=now, member_ids=member_ids)
    behind = [p for p in people if p.pace.is_behind]
    rows = [BehindRow(member_id=p.member_id, name=p.name, role_id=p.role_id, role_name=p.role_name, pace=p.pace) for p in behind]
    rows.sort(key=lambda r: (*pace_order_key(r.pace), r.name))
    by_key = {(r.member_id, r.role_id): r for r in rows}
    open_items = (
        _day_items(team_id=team_id, role_ids=role_ids, day=day)
        .filter(status=ItemStatus.OPEN, due_at__lt=now, checklist__member_id__in={r.member_id for r in rows})
        .values_list("pk", "text", "due_at", "checklist__member_id", "checklist__role_id")
        .order_by("due_at", "order", "pk")
    )
    for pk, text, due_at, member_id, role_id in open_items if rows else ():
        row = by_key.get((member_id, role_id))
        if row is not None and len(row.open_items) < OPEN_ITEMS_SHOWN:
            row.open_items.append(OpenItem(item_id=pk, text=text, due_at=due_at))
    marks = nudge_marks(team_id=team_id, member_ids={r.member_id for r in rows}, day=day) if rows else {}
    for row in rows:
        row.nudge = marks.get(row.member_id)
    return rows


def nudge_marks(*, team_id: int, member_ids: set[int], day: date) -> dict[int, NudgeMark]:
    """{member id: the day's latest nudge, with how many of the items it named are done since}. One query."""
    rows = (
        Nudge.objects.filter(team_id=team_id, day=day, member_id__in=member_ids)
        .annotate(done_since=Count("items", filter=Q(items__status=ItemStatus.DONE)))
        .values_list("member_id", "at", "open_count", "done_since", "sender__display_name")
        .order_by("member_id", "-at", "-id")
    )
    marks: dict[int, NudgeMark] = {}
    for member_id, at, open_count, done_since, by in rows:
        marks.setdefault(member_id, NudgeMark(at=at, open_count=open_count, done_since=done_since, by=by or ""))
    return marks
