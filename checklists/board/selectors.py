"""The director's board (issue 5): who is behind, what is late, and whether the shop is on target.

Every read is set-based, so the board costs the same number of queries for 5 members or 500.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q
from django.http import Http404
from django.utils.translation import gettext as _

from checklists.daily.models import LATE, missed_at
from checklists.daily.pace import PACE_FIELDS, BehindRow, Pace, PersonPace, behind_list, pace_counts
from checklists.duties.models import ProblemKind, ProblemOrder, Task, TaskStatus
from checklists.escalation.models import Escalation, EscalationStatus
from checklists.models import Checklist, ChecklistItem, ItemStatus
from roles.models import Member, Role
from roles.selectors import Level, member_led_role_ids, member_level
from roles.selectors.kpi import daily_targets, figures_by_day, metric_list, metric_value, targets_in, totals_over
from roles.selectors.kpi_scorecard import Scorecard, scorecard_get

TREND_DAYS = (7, 30, 90)
BOARD_LIMIT = 100  # escalations and overdue duties shown; the count says when there are more


@dataclass
class BoardScope:
    """What the viewer may see on the board: the whole team (role_ids None) or the roles they lead."""

    viewer: Member
    role_ids: set[int] | None
    role: Role | None = None  # the role chosen with ?role=

    @property
    def is_director(self) -> bool:
        return self.role_ids is None

    def role_filter(self) -> set[int] | None:
        """The roles the board reads: the chosen one, the led ones, or None for all."""
        if self.role is not None:
            return {self.role.pk}
        return self.role_ids


def board_scope(*, viewer: Member, role_id: str | int | None = None) -> BoardScope:
    """Director (or superuser): the whole team; a lead: the roles they lead; staff: 403. A role outside it: 404."""
    level = member_level(member=viewer)
    if level in (Level.DIRECTOR, Level.ADMIN):
        allowed = None
    elif level == Level.LEAD:
        allowed = member_led_role_ids(member=viewer)
    else:
        raise PermissionDenied(_("The board is for the director and the role leads."))
    scope = BoardScope(viewer=viewer, role_ids=allowed)
    if role_id not in (None, ""):
        try:
            role = Role.objects.get(pk=int(role_id), team_id=viewer.team_id)
        except (Role.DoesNotExist, ValueError, TypeError, OverflowError):
            raise Http404 from None
        if allowed is not None and role.pk not in allowed:
            raise Http404
        scope.role = role
    return scope


def board_roles(*, scope: BoardScope) -> list[Role]:
    """The roles the viewer may pick on the board (one query)."""
    roles = Role.objects.filter(team_id=scope.viewer.team_id).order_by("order", "code")
    if scope.role_ids is not None:
        roles = roles.filter(pk__in=scope.role_ids)
    return list(roles)


# --- completion ----------------------------------------------------------------------------------------------------


@dataclass
class Completion(Pace):
    """Items of a day: done (on time or late), marked not done, still open, and missed (open past their due time).

    Whether it is behind is the pace's one definition (checklists.daily.pace), not "anything late".
    """

    late: int = 0
    not_done: int = 0

    @property
    def open(self) -> int:
        return self.total - self.done - self.not_done

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    def add(self, other: Completion) -> None:
        self.add_pace(other)
        self.late += other.late
        self.not_done += other.not_done


@dataclass
class PersonRow:
    member_id: int
    name: str
    completion: Completion


@dataclass
class RoleRow:
    role_id: int
    name: str
    completion: Completion = field(default_factory=Completion)
    people: list[PersonRow] = field(default_factory=list)


def _items_in_scope(scope: BoardScope):
    items = ChecklistItem.objects.filter(checklist__team_id=scope.viewer.team_id, is_group=False)
    roles = scope.role_filter()
    if roles is not None:
        items = items.filter(checklist__role_id__in=roles)
    return items


COMPLETION_FIELDS = (*PACE_FIELDS, "late", "not_done")


def _completion_counts(now: datetime) -> dict:
    return {
        **pace_counts(now),
        "late": Count("id", filter=LATE),
        "not_done": Count("id", filter=Q(status=ItemStatus.NOT_DONE)),
    }


def completion_by_role_and_person(*, scope: BoardScope, day: date, now: datetime) -> list[RoleRow]:
    """One query: the day's items counted per role and per member (the list's member, covered or not)."""
    rows = (
        _items_in_scope(scope)
        .filter(checklist__date=day)
        .values(
            "checklist__role_id",
            "checklist__role__name",
            "checklist__role__order",
            "checklist__member_id",
            "checklist__member__display_name",
        )
        .annotate(**_completion_counts(now))
        .order_by("checklist__role__order", "checklist__member__display_name")
    )
    by_role: dict[int, RoleRow] = {}
    for row in rows:
        role = by_role.setdefault(row["checklist__role_id"], RoleRow(role_id=row["checklist__role_id"], name=row["checklist__role__name"]))
        completion = Completion(**{k: row[k] for k in COMPLETION_FIELDS})
        role.people.append(
            PersonRow(member_id=row["checklist__member_id"], name=row["checklist__member__display_name"], completion=completion)
        )
        role.completion.add(completion)
    return list(by_role.values())


# --- escalations, overdue duties, K-24H ------------------------------------------------------------------------------


def open_escalations(*, scope: BoardScope) -> list[Escalation]:
    """Escalations not yet resolved, unacknowledged first, with who was told and who acknowledged (one query)."""
    rows = Escalation.objects.visible_to(scope.viewer).exclude(status=EscalationStatus.RESOLVED)
    roles = scope.role_filter()
    if roles is not None:
        rows = rows.filter(role_id__in=roles)
    # Not yet acknowledged first: those are the ones nobody has picked up.
    order = (F("acknowledged_at").asc(nulls_first=True), "-raised_at", "-id")
    return list(
        rows.select_related("item__checklist__member", "task__owner", "task__assignee", "recipient", "acknowledged_by", "role").order_by(
            *order
        )[:BOARD_LIMIT]
    )


def overdue_duties(*, scope: BoardScope, now: datetime) -> list[Task]:
    """Open duties past their due time, oldest first (one query)."""
    rows = Task.objects.visible_to(scope.viewer).filter(status=TaskStatus.OPEN, due_at__lt=now)
    roles = scope.role_filter()
    if roles is not None:
        rows = rows.filter(role_id__in=roles)
    return list(rows.select_related("owner", "assignee", "role").order_by("due_at", "id")[:BOARD_LIMIT])


def problem_orders_on_time(*, scope: BoardScope, start: date, end: date, now: datetime) -> dict[str, tuple[int, int]]:
    """K-24H-ISSUE and K-24H-SHIP (PLAYBOOK v2 §5: two measures): of the problem orders (T-24H) and of the orders to
    ship (T-SHIP, kind 发货) logged in the period that are closed or past due, how many closed on time (one query)."""
    from opsteam.lib.clock import local_datetime

    judged = Q(closed_at__isnull=False) | Q(due_at__lt=now)
    on_time = Q(closed_at__isnull=False, closed_at__lte=F("due_at"))
    ship = Q(kind=ProblemKind.SHIP)
    counts = (
        ProblemOrder.objects.visible_to(scope.viewer)
        .filter(
            logged_at__gte=local_datetime(start, datetime.min.time()),
            logged_at__lt=local_datetime(end + timedelta(days=1), datetime.min.time()),
        )
        .aggregate(
            issue_judged=Count("id", filter=judged & ~ship),
            issue_on_time=Count("id", filter=on_time & ~ship),
            ship_judged=Count("id", filter=judged & ship),
            ship_on_time=Count("id", filter=on_time & ship),
        )
    )
    return {
        "K-24H-ISSUE": (counts["issue_on_time"], counts["issue_judged"]),
        "K-24H-SHIP": (counts["ship_on_time"], counts["ship_judged"]),
    }


# --- the board -------------------------------------------------------------------------------------------------------


@dataclass
class Board:
    day: date
    now: datetime
    scope: BoardScope
    roles: list[RoleRow]
    total: Completion
    escalations: list[Escalation]
    overdue: list[Task]
    scorecard: Scorecard  # month to date
    day_figures: dict[str, Decimal]
    day_sales_target: Decimal | None
    behind: list[BehindRow]  # who is behind now, worst first (checklists.daily.pace)

    def kpi(self, playbook_id: str):
        return next((k for k in self.scorecard.kpis if k.kpi.playbook_id == playbook_id), None)


def board_get(*, scope: BoardScope, day: date, now: datetime) -> Board:
    """The board for a day: completion, escalations, overdue duties and the month-to-date KPIs, in a fixed number of queries."""
    roles = completion_by_role_and_person(scope=scope, day=day, now=now)
    total = Completion()
    for role in roles:
        total.add(role.completion)
    month_start = day.replace(day=1)
    card = scorecard_get(
        team=scope.viewer.team,
        start=month_start,
        end=day,
        on_time=problem_orders_on_time(scope=scope, start=month_start, end=day, now=now),
    )
    sales = next((k for k in card.kpis if k.kpi.playbook_id == "K-DAILY-SALES"), None)
    day_target = next((d.target for d in sales.days if d.day == day), None) if sales else None
    return Board(
        day=day,
        now=now,
        scope=scope,
        roles=roles,
        total=total,
        behind=behind_list(team_id=scope.viewer.team_id, role_ids=scope.role_filter(), day=day, now=now, people=_paces(roles)),
        escalations=open_escalations(scope=scope),
        overdue=overdue_duties(scope=scope, now=now),
        scorecard=card,
        day_figures=card.by_day.get(day, {}),
        day_sales_target=day_target,
    )


@dataclass
class BoardLive:
    """What an open board asks for every 30 s (issue 20): completion by role and person, and who is behind."""

    day: date
    now: datetime
    scope: BoardScope
    roles: list[RoleRow]
    total: Completion
    behind: list[BehindRow]


def board_live_get(*, scope: BoardScope, day: date, now: datetime) -> BoardLive:
    """The board's live part alone, in three queries whatever the number of members."""
    roles = completion_by_role_and_person(scope=scope, day=day, now=now)
    total = Completion()
    for role in roles:
        total.add(role.completion)
    behind = behind_list(team_id=scope.viewer.team_id, role_ids=scope.role_filter(), day=day, now=now, people=_paces(roles))
    return BoardLive(day=day, now=now, scope=scope, roles=roles, total=total, behind=behind)


def _paces(roles: list[RoleRow]) -> list[PersonPace]:
    """The board's completion rows as the paces behind_list reads (no second query for them)."""
    return [
        PersonPace(member_id=p.member_id, name=p.name, role_id=r.role_id, role_name=r.name, pace=p.completion)
        for r in roles
        for p in r.people
    ]


# --- drill-down: the items behind a number ---------------------------------------------------------------------------

ITEM_FILTERS = {
    "all": Q(),
    "done": Q(status=ItemStatus.DONE),
    "late": LATE,
    "not_done": Q(status=ItemStatus.NOT_DONE),
    "open": Q(status=ItemStatus.OPEN),
}


def board_items(
    *, scope: BoardScope, day: date, now: datetime, status: str = "all", member_id=None, limit: int = 500
) -> list[ChecklistItem]:
    """The items behind a number on the board, through the checklists' one access path (a member outside it: 404)."""
    items = _items_in_scope(scope).filter(checklist__in=Checklist.objects.visible_to(scope.viewer), checklist__date=day)
    if member_id not in (None, ""):
        members = Member.objects.filter(team_id=scope.viewer.team_id)
        roles = scope.role_filter()
        if roles is not None:
            # Within the scope: holding one of its roles, or having had a list of one of them that day. Another role's
            # member is outside it, 404 as another team's (issue 15: it was a 200 with nothing).
            members = members.filter(Q(role_links__role_id__in=roles) | Q(checklists__role_id__in=roles, checklists__date=day))
        try:
            member = members.distinct().get(pk=int(member_id))
        except (Member.DoesNotExist, ValueError, TypeError, OverflowError):
            raise Http404 from None
        items = items.filter(checklist__member=member)
    if status == "missed":
        items = items.filter(missed_at(now))
    elif status in ITEM_FILTERS:
        items = items.filter(ITEM_FILTERS[status])
    else:
        raise Http404
    return list(
        items.select_related("checklist__member", "checklist__assignee", "checklist__role", "done_by").order_by(
            "checklist__role__order", "checklist__member__display_name", "checklist_id", "order", "id"
        )[:limit]
    )


# --- trends ----------------------------------------------------------------------------------------------------------


def board_trends(*, scope: BoardScope, end: date, days: int, now: datetime) -> dict:
    """Daily series for the charts: completion rate, sales against the day's target, ROI (four queries)."""
    start = end - timedelta(days=days - 1)
    labels = [start + timedelta(days=n) for n in range(days)]
    completion = {
        row["checklist__date"]: row
        for row in _items_in_scope(scope)
        .filter(checklist__date__range=(start, end))
        .values("checklist__date")
        .annotate(**_completion_counts(now))
        .order_by()
    }
    team = scope.viewer.team
    by_day = figures_by_day(team=team, start=start, end=end)
    targets = daily_targets(targets_in(team=team, start=start, end=end), code="sales", start=start, end=end)
    metrics = {m.code: m for m in metric_list(team=team)}

    def roi(day: date) -> float | None:
        # K-ROI: 支付金额 ÷ 运营成本 (every cost line), as the board's tile (issue 18), not ÷ ad spend.
        if "roi" not in metrics:
            return None
        value = metric_value(metrics["roi"], totals_over({day: by_day.get(day, {})}, metrics=list(metrics.values())))
        return round(float(value), 2) if value is not None else None

    def percent(day: date) -> int | None:
        row = completion.get(day)
        return round(100 * row["done"] / row["total"]) if row and row["total"] else None

    totals = totals_over(by_day, metrics=list(metrics.values()))
    return {
        "labels": [d.isoformat() for d in labels],
        "completion": [percent(d) for d in labels],
        "sales": [float(by_day[d]["sales"]) if "sales" in by_day.get(d, {}) else None for d in labels],
        "sales_target": [round(float(targets[d]), 2) if d in targets else None for d in labels],
        "roi": [roi(d) for d in labels],
        "period_roi": _rounded(metric_value(metrics["roi"], totals)) if "roi" in metrics else None,
    }


def _rounded(value) -> float | None:
    return round(float(value), 2) if value is not None else None


def completion_by_day(*, scope: BoardScope, start: date, end: date, now: datetime) -> dict[date, Completion]:
    rows = _items_in_scope(scope).filter(checklist__date__range=(start, end)).values("checklist__date").annotate(**_completion_counts(now))
    return {row["checklist__date"]: Completion(**{k: row[k] for k in COMPLETION_FIELDS}) for row in rows.order_by()}
