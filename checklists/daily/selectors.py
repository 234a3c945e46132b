"""Reads for a member's day: the today page and the API list the same rows with the same queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.http import Http404

from checklists.models import Checklist, ChecklistItem, ItemStatus
from opsteam.lib.clock import local_date, local_time
from roles.models import Member


@dataclass
class ItemRow:
    """An item with its sub-items and the flags the page shows."""

    item: ChecklistItem
    children: list[ItemRow] = field(default_factory=list)
    is_overdue: bool = False


@dataclass
class ListView:
    checklist: Checklist
    rows: list[ItemRow]
    total: int
    done: int
    closed: int
    is_carryover: bool = False

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def checklist_items_prefetch() -> Prefetch:
    return Prefetch("items", queryset=ChecklistItem.objects.select_related("done_by").order_by("order", "id"))


def checklist_list(*, viewer: Member, day: date | None = None, member_id: int | None = None) -> QuerySet[Checklist]:
    """Checklists the viewer may see, with items, in a fixed number of queries."""
    qs = Checklist.objects.visible_to(viewer).select_related("role", "member", "assignee").prefetch_related(checklist_items_prefetch())
    if day is not None:
        qs = qs.filter(date=day)
    if member_id is not None:
        qs = qs.filter(member_id=member_id) | qs.filter(assignee_id=member_id)
    return qs.order_by("date", "role__order", "id")


def checklist_view(checklist: Checklist, *, now: datetime, carryover: bool = False, items: list[ChecklistItem] | None = None) -> ListView:
    """The card of a list: its items as a tree, with totals. `items` (in order) if read already, else the prefetch."""
    items = list(checklist.items.all()) if items is None else items
    rows: dict[int, ItemRow] = {}
    top: list[ItemRow] = []
    for item in items:
        row = ItemRow(item=item, is_overdue=item.status == ItemStatus.OPEN and now > item.due_at)
        rows[item.pk] = row
        if item.parent_id is None:
            top.append(row)
    for item in items:
        if item.parent_id is not None and item.parent_id in rows:
            rows[item.parent_id].children.append(rows[item.pk])
    leaves = [item for item in items if not item.is_group]
    return ListView(
        checklist=checklist,
        rows=top,
        total=len(leaves),
        done=sum(item.status == ItemStatus.DONE for item in leaves),
        closed=sum(item.status != ItemStatus.OPEN for item in leaves),
        is_carryover=carryover,
    )


@dataclass
class Today:
    day: date
    lists: list[ListView]
    carryover: list[ListView]

    @property
    def total(self) -> int:
        return sum(view.total for view in self.lists)

    @property
    def done(self) -> int:
        return sum(view.done for view in self.lists)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def today_for_member(*, member: Member, now: datetime, viewer: Member | None = None) -> Today:
    """My lists for today, and until the cutoff the previous day's lists that still have open items.

    `viewer` (default: the member) is who looks: a lead sees only the lists of a member that the
    one access path lets them see.
    """
    viewer = viewer or member
    day = local_date(now)
    base = (
        Checklist.objects.visible_to(viewer)
        .filter(assignee=member)
        .select_related("role", "member", "assignee")
        .prefetch_related(checklist_items_prefetch())
    )
    lists = [checklist_view(c, now=now) for c in base.filter(date=day).order_by("role__order", "template__due_at", "id")]
    carryover: list[ListView] = []
    if _with_carryover(now):
        previous = (
            Checklist.objects.filter(
                assignee=member, date__lt=day, date__gte=day - CARRYOVER_DAYS, items__status=ItemStatus.OPEN, items__is_group=False
            )
            .order_by("-date")
            .values_list("date", flat=True)
            .first()
        )
        if previous is not None:
            carryover = [
                view
                for view in (checklist_view(c, now=now, carryover=True) for c in base.filter(date=previous).order_by("role__order", "id"))
                if view.closed < view.total
            ]
    return Today(day=day, lists=lists, carryover=carryover)


def _with_carryover(now: datetime) -> bool:
    return local_time(now) < settings.OPSTEAM_CARRYOVER_CUTOFF


# How far back the carry-over looks for a day with open items.
CARRYOVER_DAYS = timedelta(days=7)


def checklist_access_by_id(*, viewer: Member, checklist_id: int) -> Checklist:
    try:
        return Checklist.objects.visible_to(viewer).select_related("role", "member", "assignee").get(pk=checklist_id)
    except (Checklist.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def item_access_by_id(*, viewer: Member, item_id: int) -> ChecklistItem:
    try:
        return ChecklistItem.objects.select_related("checklist").get(pk=item_id, checklist__in=Checklist.objects.visible_to(viewer))
    except (ChecklistItem.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None
