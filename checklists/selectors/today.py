"""Reads for a member's day: the today page and the API list the same rows with the same queries."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Prefetch, QuerySet

from checklists.models import Checklist, ChecklistItem, ItemStatus
from opsteam.lib.clock import local_date, local_time
from opsteam.lib.db import model_columns, model_from_row, prepared_cursor, row_slices
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
    if own_day_read_applies(viewer=viewer, member=member):
        with prepared_cursor() as cursor:
            cursor.execute(*own_day_statement(member=member, now=now))
            return own_day_from_rows(cursor.fetchall(), member=member, now=now)
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


def own_day_read_applies(*, viewer: Member, member: Member) -> bool:
    """Whether a day's reads may take the one-statement way: the member looking at their own day, on PostgreSQL.

    Everyone else (a lead or the director on a member's day, the fast tier's SQLite) goes the ORM way with
    the model's visible_to.
    """
    return viewer.pk == member.pk and connection.vendor == "postgresql"


# How far back the carry-over looks for a day with open items.
CARRYOVER_DAYS = timedelta(days=7)

# A member's own day in one statement (issue 8): today's lists, and with the carry-over the lists of the last
# day of the past week that still has an open item, each with its role, its member (whom a cover stands in
# for), its items in order and who ticked them. What today_for_member's ORM way reads for a viewer who is
# the member: every list assigned to the viewer is visible to them (Checklist.visible_to's `assignee=viewer`),
# so of the access rule only the team remains. tests/integration/test_today_one_statement.py holds the two
# ways equal.
_OWN_DAY = """
SELECT {list_columns}, {role_columns}, {member_columns}, {item_columns}, {done_by_columns}
FROM checklists_checklist c
JOIN roles_role r ON r.id = c.role_id
JOIN roles_member m ON m.id = c.member_id
LEFT JOIN checklists_checklisttemplate t ON t.id = c.template_id
LEFT JOIN checklists_checklistitem i ON i.checklist_id = c.id
LEFT JOIN roles_member d ON d.id = i.done_by_id
WHERE c.team_id = %(team)s AND c.assignee_id = %(member)s
  AND (c.date = %(day)s OR (%(with_carryover)s AND c.date = (
      SELECT max(p.date) FROM checklists_checklist p JOIN checklists_checklistitem pi ON pi.checklist_id = p.id
      WHERE p.assignee_id = %(member)s AND p.date < %(day)s AND p.date >= %(since)s AND pi.status = 'open' AND NOT pi.is_group
  )))
ORDER BY r."order", CASE WHEN c.date = %(day)s THEN t.due_at END, c.id, i."order", i.id
"""


# Of the role and the members, what a day shows and the access rules use; the rest (a role's responsibilities
# text, a member's contact details) is deferred, as with QuerySet.only(), instead of repeated on every item's row.
_ROLE_FIELDS = ("id", "team_id", "code", "name", "order")
# Neither a list's generation batch and creation time nor an item's last change are shown: two timestamps
# and a UUID fewer to decode per item.
_LIST_FIELDS = ("id", "team_id", "template_id", "role_id", "member_id", "assignee_id", "date", "name")
_ITEM_FIELDS = tuple(f.attname for f in ChecklistItem._meta.concrete_fields if f.attname != "updated_at")
_MEMBER_FIELDS = ("id", "user_id", "team_id", "display_name", "is_director", "is_active")


@functools.cache
def _own_day_statement() -> str:
    from roles.models import Role

    return _OWN_DAY.format(
        list_columns=model_columns(Checklist, "c", _LIST_FIELDS),
        role_columns=model_columns(Role, "r", _ROLE_FIELDS),
        member_columns=model_columns(Member, "m", _MEMBER_FIELDS),
        item_columns=model_columns(ChecklistItem, "i", _ITEM_FIELDS),
        done_by_columns=model_columns(Member, "d", _MEMBER_FIELDS),
    )


def own_day_statement(*, member: Member, now: datetime) -> tuple[str, dict]:
    """The one statement of a member's own day (where own_day_read_applies), for a prepared cursor or
    opsteam.lib.db.fetch_all_together; own_day_from_rows makes its rows the Today."""
    day = local_date(now)
    since = day - CARRYOVER_DAYS
    params = {"team": member.team_id, "member": member.pk, "day": day, "with_carryover": _with_carryover(now), "since": since}
    return _own_day_statement(), params


def own_day_from_rows(rows: list[tuple], *, member: Member, now: datetime) -> Today:
    """The Today of own_day_statement's rows: the day's lists, and the carry-over day's with open items left."""
    day = local_date(now)
    today_rows, previous_rows = _own_day_lists(rows, member=member, day=day)
    lists = [checklist_view(c, now=now, items=items) for c, items in today_rows]
    carryover = [checklist_view(c, now=now, carryover=True, items=items) for c, items in previous_rows]
    return Today(day=day, lists=lists, carryover=[view for view in carryover if view.closed < view.total])


def _own_day_lists(rows: list[tuple], *, member: Member, day: date):
    """([(list, items)] of the day, [(list, items)] of the carry-over day), each list with role, member and assignee."""
    from roles.models import Role

    in_list, in_role, in_member, in_item, in_done_by = row_slices(
        (Checklist, _LIST_FIELDS), (Role, _ROLE_FIELDS), (Member, _MEMBER_FIELDS), (ChecklistItem, _ITEM_FIELDS), (Member, _MEMBER_FIELDS)
    )
    lists: dict[int, tuple[Checklist, list[ChecklistItem]]] = {}
    for row in rows:
        checklist_id = row[0]
        if checklist_id not in lists:
            checklist = model_from_row(Checklist, row[in_list], _LIST_FIELDS)
            Checklist.role.field.set_cached_value(checklist, model_from_row(Role, row[in_role], _ROLE_FIELDS))
            Checklist.member.field.set_cached_value(checklist, model_from_row(Member, row[in_member], _MEMBER_FIELDS))
            Checklist.assignee.field.set_cached_value(checklist, member)
            lists[checklist_id] = (checklist, [])
        checklist, items = lists[checklist_id]
        item = model_from_row(ChecklistItem, row[in_item], _ITEM_FIELDS)
        if item is not None:
            ChecklistItem.checklist.field.set_cached_value(item, checklist)
            ChecklistItem.done_by.field.set_cached_value(item, model_from_row(Member, row[in_done_by], _MEMBER_FIELDS))
            items.append(item)
    today_rows = [pair for pair in lists.values() if pair[0].date == day]
    previous_rows = [pair for pair in lists.values() if pair[0].date != day]
    return today_rows, previous_rows
