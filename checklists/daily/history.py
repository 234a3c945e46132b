"""Completion per day: a member's last 30 days, and the same for each member of a lead's roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Q

from checklists.daily.models import LATE
from checklists.models import ChecklistItem, ItemStatus
from roles.models import Member
from roles.selectors import member_led_role_ids

HISTORY_DAYS = 30


@dataclass
class DayStats:
    day: date
    total: int
    done: int
    late: int
    not_done: int
    is_today: bool = False

    @property
    def open(self) -> int:
        return self.total - self.done - self.not_done

    @property
    def missed(self) -> int:
        """Items never closed; today's open items are not missed yet."""
        return 0 if self.is_today else self.open

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def _day(row: dict, *, today: date) -> DayStats:
    day = row["checklist__date"]
    return DayStats(day=day, total=row["total"], done=row["done"], late=row["late"], not_done=row["not_done"], is_today=day == today)


def _stats(items, *, group_by: tuple[str, ...]):
    return (
        items.filter(is_group=False)
        .values(*group_by)
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(status=ItemStatus.DONE)),
            not_done=Count("id", filter=Q(status=ItemStatus.NOT_DONE)),
            late=Count("id", filter=LATE),
        )
        .order_by(*group_by)
    )


def history_for_member(*, member: Member, today: date, days: int = HISTORY_DAYS) -> list[DayStats]:
    """One row per day with lists, newest first; late = closed after its due time."""
    start = today - timedelta(days=days - 1)
    items = ChecklistItem.objects.filter(checklist__member=member, checklist__date__range=(start, today))
    rows = _stats(items, group_by=("checklist__date",))
    return [_day(row, today=today) for row in reversed(list(rows))]


@dataclass
class MemberHistory:
    member: Member
    days: list[DayStats]

    @property
    def percent(self) -> int:
        total = sum(d.total for d in self.days)
        return round(100 * sum(d.done for d in self.days) / total) if total else 0

    @property
    def late(self) -> int:
        return sum(d.late for d in self.days)


def history_for_lead(*, lead: Member, today: date, days: int = HISTORY_DAYS) -> list[MemberHistory]:
    """For a lead (or the director: the whole team), each member's days, in two queries."""
    start = today - timedelta(days=days - 1)
    members = Member.objects.filter(team_id=lead.team_id).active().exclude(pk=lead.pk)
    items = ChecklistItem.objects.filter(checklist__team_id=lead.team_id, checklist__date__range=(start, today))
    if not lead.is_director:
        role_ids = member_led_role_ids(member=lead)
        members = members.filter(role_links__role_id__in=role_ids).distinct()
        items = items.filter(checklist__role_id__in=role_ids)
    by_member: dict[int, list[DayStats]] = {}
    for row in _stats(items, group_by=("checklist__member_id", "checklist__date")):
        by_member.setdefault(row["checklist__member_id"], []).append(_day(row, today=today))
    return [MemberHistory(member=m, days=list(reversed(by_member.get(m.pk, [])))) for m in members.order_by("display_name")]
