"""Reads for meetings: the list, one meeting's minutes, the generated agenda, weekly reflections."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from checklists.daily.pace import behind_list
from checklists.models import (
    ActionItem,
    AgendaItem,
    Amendment,
    Attendance,
    Cadence,
    ChecklistItem,
    Decision,
    Escalation,
    EscalationStatus,
    ItemStatus,
    Meeting,
    MeetingSeries,
    ReflectionQuestion,
    WeeklyReflection,
)
from opsteam.lib.clock import business_tz
from roles.models import KpiKind, Member, Role, RoleCode, Team
from roles.selectors import member_led_role_ids
from roles.selectors.kpi_scorecard import scorecard_get
from roles.selectors.kpi_week import week_view

# --- the list and one meeting -----------------------------------------------------------------------------------------


def meeting_list(*, viewer: Member, query: str = "", series_id: int | None = None) -> QuerySet[Meeting]:
    """The team's meetings, newest first; `query` searches titles, agendas, notes, decisions and actions."""
    qs = Meeting.objects.visible_to(viewer).select_related("series", "chair").annotate(actions=Count("action_items"))
    if series_id:
        qs = qs.filter(series_id=series_id)
    for word in query.split()[:5]:
        qs = qs.filter(search_text__icontains=word)
    return qs.order_by("-date", "-starts_at", "-id")


def meeting_series_list(*, viewer: Member) -> QuerySet[MeetingSeries]:
    return MeetingSeries.objects.visible_to(viewer).filter(is_active=True).order_by("playbook_id", "id")


def meeting_get(*, viewer: Member, meeting_id) -> Meeting:
    """One meeting the viewer may see; another team's is a 404."""
    try:
        return Meeting.objects.visible_to(viewer).select_related("series", "team", "chair", "published_by").get(pk=int(meeting_id))
    except (Meeting.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def agenda_item_get(*, viewer: Member, meeting: Meeting, item_id) -> AgendaItem:
    try:
        return AgendaItem.objects.select_related("meeting").get(pk=int(item_id), meeting=meeting, meeting__team_id=viewer.team_id)
    except (AgendaItem.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@dataclass
class Minutes:
    """Everything the minutes page shows, fetched in a fixed number of queries."""

    meeting: Meeting
    agenda: list[AgendaItem]
    attendance: list[Attendance]
    decisions: list[Decision]
    actions: list[ActionItem]
    amendments: list[Amendment]
    reflections: list[WeeklyReflection] = field(default_factory=list)
    questions: dict[str, str] = field(default_factory=dict)

    @property
    def unmarked(self) -> list[Attendance]:
        """Attendees not yet marked present, late or absent: the publish confirmation names them (issue 17)."""
        return [a for a in self.attendance if a.status == "expected"]

    @property
    def present(self) -> int:
        return sum(1 for a in self.attendance if a.status in ("present", "late"))


def minutes_get(*, meeting: Meeting, viewer: Member) -> Minutes:
    actions = list(meeting.action_items.select_related("owner", "task").order_by("due_date", "id"))
    agenda = list(
        meeting.agenda_items.select_related("action_item__owner", "action_item__task", "action_item__meeting")
        .prefetch_related(Prefetch("decisions", queryset=Decision.objects.order_by("created_at", "id")))
        .order_by("order", "id")
    )
    minutes = Minutes(
        meeting=meeting,
        agenda=agenda,
        attendance=list(meeting.attendance.select_related("member").order_by("member__display_name", "id")),
        decisions=list(meeting.decisions.select_related("created_by").order_by("created_at", "id")),
        actions=actions,
        amendments=list(meeting.amendments.select_related("member", "agenda_item").order_by("at", "id")),
    )
    if meeting.series.cadence == Cadence.WEEKLY:
        # The weekly meeting's prep: last week's 团队思考 answers the viewer may read (own; a lead's members; all for the director).
        last_week = meeting.date - timedelta(days=meeting.date.weekday() + 7)
        minutes.reflections = reflection_list(viewer=viewer, week=last_week)
        minutes.questions = reflection_questions(team_id=meeting.team_id)
    return minutes


# --- weekly reflection ------------------------------------------------------------------------------------------------


def reflection_questions(*, team_id: int) -> dict[str, str]:
    """{"Q-1": text, ...} in order."""
    rows = ReflectionQuestion.objects.filter(team_id=team_id, is_active=True).order_by("order", "id")
    return {row.playbook_id or str(row.pk): row.text for row in rows}


def reflection_get(*, member: Member, week: date) -> WeeklyReflection | None:
    return WeeklyReflection.objects.filter(member=member, week=week).first()


def reflection_list(*, viewer: Member, week: date) -> list[WeeklyReflection]:
    """The reflections of a week the viewer may read."""
    return list(WeeklyReflection.objects.visible_to(viewer).filter(week=week).select_related("member").order_by("member__display_name"))


# --- what the scheduler puts on the agenda ----------------------------------------------------------------------------


def _attending_roles(series: MeetingSeries) -> list[Role]:
    roles = Role.objects.filter(team_id=series.team_id).exclude(code=RoleCode.DIRECTOR).order_by("order", "id")
    if series.attendee_roles:
        roles = roles.filter(code__in=series.attendee_roles)
    return list(roles)


def _sales_against_target(*, team: Team, day: date) -> str:
    """K-DAILY-SALES for the day, from the KPI selectors (issue 5)."""
    card = scorecard_get(team=team, start=day, end=day)
    result = next((k for k in card.kpis if k.kpi.kind == KpiKind.DAILY_TARGET and k.days), None)
    if result is None:
        return _("No daily sales target is set up (K-DAILY-SALES).")
    sales_day = result.days[0]
    if sales_day.sales is None:
        return _("No sales figure recorded for %(day)s yet.") % {"day": day}
    if not sales_day.target:
        return _("Sales %(sales)s; no target for the day.") % {"sales": f"{sales_day.sales:,.2f}"}
    line = _("Sales %(sales)s against a target of %(target)s: %(share)s%% · %(verdict)s") % {
        "sales": f"{sales_day.sales:,.2f}",
        "target": f"{sales_day.target:,.2f}",
        "share": f"{sales_day.share * 100:.0f}",
        "verdict": sales_day.verdict,
    }
    if sales_day.flagged:
        line += "\n\n" + _("Under %(share)s%% of the day's target: say why and what changes tomorrow.") % {
            "share": f"{sales_day.min_share * 100:.0f}"
        }
    return line


# A meeting reads a summary, not a dump: so many lines per role, then "and N more".
AGENDA_LINES_MAX = 12


def _capped(lines: list[str]) -> list[str]:
    if len(lines) <= AGENDA_LINES_MAX:
        return lines
    return [*lines[:AGENDA_LINES_MAX], "- " + _("… and %(n)d more") % {"n": len(lines) - AGENDA_LINES_MAX}]


def _role_open_work(*, team: Team, roles: list[Role], day: date) -> dict[int, str]:
    """Per role: today's unfinished items per member, and the open escalations (one line per late thing). Three queries."""
    open_by_member: dict[int, dict[str, list[str]]] = {role.pk: {} for role in roles}
    open_items = (
        ChecklistItem.objects.filter(checklist__team=team, checklist__date=day, checklist__role__in=roles, is_group=False)
        .exclude(status=ItemStatus.DONE)
        .select_related("checklist__assignee")
        .order_by("checklist__role__order", "checklist__assignee__display_name", "order")
    )
    today_items = ChecklistItem.objects.filter(checklist__team=team, checklist__date=day, checklist__role__in=roles)
    with_lists = set(today_items.values_list("checklist__role_id", flat=True))
    for item in open_items:
        text = item.text + (" (" + _("not done") + ")" if item.status == ItemStatus.NOT_DONE else "")
        open_by_member[item.checklist.role_id].setdefault(item.checklist.assignee.display_name, []).append(text)
    # Each level of a chain is its own escalation row: show each late item or duty once, at the highest level reached.
    latest: dict[tuple, Escalation] = {}
    rows = Escalation.objects.filter(team=team, status=EscalationStatus.OPEN, role__in=roles)
    for esc in rows.select_related("item__checklist__assignee", "task__owner", "task__assignee").order_by("level_order", "raised_at"):
        latest[(esc.item_id, esc.task_id)] = esc
    escalations: dict[int, list[str]] = {role.pk: [] for role in roles}
    for esc in sorted(latest.values(), key=lambda e: e.due_at):
        if esc.item_id:
            who, subject = esc.item.checklist.assignee.display_name, esc.item.text
        else:
            person = esc.task.assignee or esc.task.owner
            who, subject = (person.display_name if person else ""), esc.task.title
        due = esc.due_at.astimezone(business_tz())
        escalations[esc.role_id].append(f"- {who} · {subject} ({esc.get_notify_display()}, {_('due')} {due:%m-%d %H:%M})")
    texts = {}
    for role in roles:
        parts = []
        members = open_by_member[role.pk]
        if members:
            count = sum(len(texts_) for texts_ in members.values())
            lines = [f"- {name} ({len(open_)}): " + "; ".join(open_) for name, open_ in members.items()]
            parts.append(_("Unfinished today (%(n)d):") % {"n": count} + "\n\n" + "\n".join(_capped(lines)))
        if escalations[role.pk]:
            head = _("Open escalations (%(n)d):") % {"n": len(escalations[role.pk])}
            parts.append(head + "\n\n" + "\n".join(_capped(escalations[role.pk])))
        if not parts:
            parts.append(
                _("Every item done, no open escalations.") if role.pk in with_lists else _("No checklists today, no open escalations.")
            )
        texts[role.pk] = "\n\n".join(parts)
    return texts


def _week_comparison(*, team: Team, day: date) -> str:
    """Last week's figures against the two weeks before (PLAYBOOK §6 weekly), as a Markdown table."""
    # The whole of last week, Monday to Sunday: week_view runs each week from its Monday to the weekday of
    # the day it is given, so the Sunday before the meeting (not the same weekday a week earlier).
    view = week_view(team=team, day=day - timedelta(days=day.weekday() + 1))
    if not any(v is not None for _metric, values, _shown in view.rows for v in values):
        return _("No figures recorded for the last three weeks.")
    head = [_("Metric")] + [f"{start:%m-%d}–{end:%m-%d}" for start, end in view.weeks]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += [f"| {metric.name} | " + " | ".join(shown) + " |" for metric, _values, shown in view.rows]
    for answer in view.answers:
        lines.append("")
        lines.append(f"**{answer.question}** {answer.text}")
    return "\n".join(lines)


def _completion_by_role(*, team: Team, roles: list[Role], day: date) -> str:
    """Last week's checklist items done on time, done, and in all, per role (one query)."""
    monday = day - timedelta(days=day.weekday() + 7)
    rows = (
        ChecklistItem.objects.filter(
            checklist__team=team, checklist__role__in=roles, is_group=False, checklist__date__range=(monday, monday + timedelta(days=6))
        )
        .values("checklist__role_id")
        .annotate(total=Count("id"), done=Count("id", filter=Q(status=ItemStatus.DONE)))
    )
    counts = {row["checklist__role_id"]: row for row in rows}
    lines = []
    for role in roles:
        row = counts.get(role.pk)
        if row and row["total"]:
            lines.append(f"- {role.name}: {row['done']}/{row['total']} ({100 * row['done'] // row['total']}%)")
        else:
            lines.append(f"- {role.name}: –")
    return "\n".join(lines)


def _reflection_count(*, series: MeetingSeries, day: date) -> str:
    monday = day - timedelta(days=day.weekday() + 7)
    answered = WeeklyReflection.objects.filter(team_id=series.team_id, week=monday).count()
    members = Member.objects.filter(team_id=series.team_id).active().count()
    return _("%(answered)d of %(members)d members answered last week's questions; leads read their members' answers below.") % {
        "answered": answered,
        "members": members,
    }


def _behind_now(*, team: Team, roles: list[Role], day: date, now: datetime) -> str:
    """Who is behind as the board says it (issue 20: the one definition, checklists.daily.pace), worst first."""
    rows = behind_list(team_id=team.pk, role_ids={r.pk for r in roles}, day=day, now=now)
    if not rows:
        return _("Nobody is behind now.")
    lines = [
        f"- {r.name} ({r.role_name}): "
        + _("%(missed)d open, %(done)d of %(due)d due done") % {"missed": r.pace.missed, "done": r.pace.done, "due": r.pace.due}
        for r in rows
    ]
    return "\n".join(_capped(lines))


def generated_agenda(*, series: MeetingSeries, day: date, now: datetime) -> list[tuple[str, str]]:
    """(title, prepared Markdown) for the agenda items the data gives: evening and weekly meetings."""
    team = series.team
    roles = _attending_roles(series)
    if series.cadence == Cadence.WORKDAYS:
        rows = [(_("Today's sales against the target"), _sales_against_target(team=team, day=day))]
        rows.append((_("Who is behind now"), _behind_now(team=team, roles=roles, day=day, now=now)))
        texts = _role_open_work(team=team, roles=roles, day=day)
        rows += [(_("%(role)s: unfinished items and open escalations") % {"role": role.name}, texts[role.pk]) for role in roles]
        return rows
    if series.cadence == Cadence.WEEKLY:
        return [
            (_("Last week's figures against the weeks before"), _week_comparison(team=team, day=day)),
            (_("Last week's checklists done, by role"), _completion_by_role(team=team, roles=roles, day=day)),
            (_("Weekly reflection (团队思考)"), _reflection_count(series=series, day=day)),
        ]
    return []


def action_item_owner_choices(*, member: Member) -> QuerySet[Member]:
    """Whom the member may give an action item: themselves, and whom they may assign a duty (the owner side of
    checklists.services.tasks.task_can_assign: the director anyone, a lead the members of the roles they lead)."""
    members = Member.objects.visible_to(member).active().order_by("display_name")
    if member.is_director or member.user.is_superuser:
        return members
    led = member_led_role_ids(member=member)
    return members.filter(Q(pk=member.pk) | Q(role_links__role_id__in=led)).distinct()
