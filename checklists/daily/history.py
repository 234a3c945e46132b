"""Completion per day: a member's last 30 days, and the same for each member of a lead's roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from checklists.daily.models import LATE, missed_at
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
    missed: int = 0  # 漏做, as the board counts it (missed_at)
    is_today: bool = False

    @property
    def open(self) -> int:
        return self.total - self.done - self.not_done

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def _day(row: dict, *, today: date) -> DayStats:
    day = row["checklist__date"]
    counts = {name: row[name] for name in ("total", "done", "late", "not_done", "missed")}
    return DayStats(day=day, is_today=day == today, **counts)


def _stats(items, *, group_by: tuple[str, ...], now: datetime):
    return (
        items.filter(is_group=False)
        .values(*group_by)
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(status=ItemStatus.DONE)),
            not_done=Count("id", filter=Q(status=ItemStatus.NOT_DONE)),
            late=Count("id", filter=LATE),
            missed=Count("id", filter=missed_at(now)),
        )
        .order_by(*group_by)
    )


def history_for_member(*, member: Member, today: date, days: int = HISTORY_DAYS, now: datetime | None = None) -> list[DayStats]:
    """One row per day with lists, newest first; late = done after its due time, missed = still open after it (at
    `now`, default the clock)."""
    now = now or timezone.now()
    start = today - timedelta(days=days - 1)
    items = ChecklistItem.objects.filter(checklist__member=member, checklist__date__range=(start, today))
    rows = _stats(items, group_by=("checklist__date",), now=now)
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


def history_for_lead(*, lead: Member, today: date, days: int = HISTORY_DAYS, now: datetime | None = None) -> list[MemberHistory]:
    """For a lead (or the director: the whole team), each member's days, in two queries."""
    now = now or timezone.now()
    start = today - timedelta(days=days - 1)
    members = Member.objects.filter(team_id=lead.team_id).active().exclude(pk=lead.pk)
    items = ChecklistItem.objects.filter(checklist__team_id=lead.team_id, checklist__date__range=(start, today))
    if not lead.is_director:
        role_ids = member_led_role_ids(member=lead)
        members = members.filter(role_links__role_id__in=role_ids).distinct()
        items = items.filter(checklist__role_id__in=role_ids)
    by_member: dict[int, list[DayStats]] = {}
    for row in _stats(items, group_by=("checklist__member_id", "checklist__date"), now=now):
        by_member.setdefault(row["checklist__member_id"], []).append(_day(row, today=today))
    return [MemberHistory(member=m, days=list(reversed(by_member.get(m.pk, [])))) for m in members.order_by("display_name")]
