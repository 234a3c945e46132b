"""Meetings (PLAYBOOK §4): the series from the playbook, the scheduler, minutes, publishing, amendments, reflections.

Every write to a meeting goes through one function here; the pages, the API and the scheduler call them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from checklists.models import (
    ActionItem,
    AgendaItem,
    AgendaKind,
    Amendment,
    Attendance,
    AttendanceStatus,
    Cadence,
    Decision,
    Meeting,
    MeetingReminder,
    MeetingSeries,
    MeetingStatus,
    ReflectionQuestion,
    TaskSource,
    WeeklyReflection,
)
from checklists.selectors.meetings import generated_agenda
from checklists.services.notifications import notification_create
from checklists.services.tasks import task_can_assign, task_create
from opsteam.lib.clock import local_date, local_datetime
from opsteam.lib.idempotency import create_once
from opsteam.lib.playbook import SyncReport, playbook_row_sync
from opsteam.lib.text import NOTES_MAX, markdown_escape, markdown_plain, text_clean, text_line
from roles.models import Member, Role, RoleCode, Team
from roles.selectors import Level, member_level, role_lead_get, workday_is

TITLE_MAX = 200
DECISION_MAX = 2000
ANSWER_MAX = 2000
REASON_MAX = 300
# Action items are due at the end of the working day of their due date.
ACTION_DUE_TIME = time(18, 0)
# In this window before the start, each run of the job brings the generated agenda (sales, unfinished items,
# escalations) up to date.
PREP_LEAD = timedelta(minutes=30)
# Lazy: a module constant is translated when it is shown, in the reader's language.
PUBLISHED_LOCKED = gettext_lazy("These minutes are published: change them with an amendment, giving a reason.")

# --- the playbook rows ----------------------------------------------------------------------------------------------

SERIES_KEYS = {"id", "name", "cadence", "weekdays", "time", "remind_by_day", "chair", "attendees", "agenda", "approval", "source"}
QUESTION_KEYS = {"id", "text"}


def _keys_check(row: dict, allowed: set[str]) -> None:
    """A stray key is a typo or an unquoted comma that cut a text short: refuse it rather than load half a row."""
    unknown = set(row) - allowed
    if unknown:
        raise ValueError(
            f"Playbook row {row.get('id', '?')} has unknown keys {sorted(map(str, unknown))}; quote texts that contain commas."
        )


def meeting_series_sync_from_playbook(*, team: Team, rows: list[dict], report: SyncReport) -> dict[str, MeetingSeries]:
    """Load PLAYBOOK §4 meeting series into the team (the `meetings:` rows); returns them by playbook ID."""
    roles = {role.code: role for role in Role.objects.filter(team=team)}
    result = {}
    for row in rows:
        _keys_check(row, SERIES_KEYS)
        codes = [str(code) for code in row.get("attendees", [])]
        unknown = [code for code in [*codes, row.get("chair")] if code and code not in roles]
        if unknown:
            raise ValueError(f"Playbook row {row['id']} names unknown roles {unknown}.")
        result[row["id"]] = playbook_row_sync(
            MeetingSeries,
            lookup={"team": team, "playbook_id": row["id"]},
            values={
                "name": row["name"],
                "cadence": Cadence(row["cadence"]),
                "weekdays": str(row.get("weekdays", "")),
                "starts_at": time.fromisoformat(row.get("time", "17:30")),
                "remind_by_day": row.get("remind_by_day"),
                "chair_role": roles.get(row.get("chair")),
                "attendee_roles": codes,
                "standing_agenda": [str(text) for text in row.get("agenda", [])],
                "needs_approval": bool(row.get("approval", False)),
                "source": row.get("source", ""),
            },
            report=report,
        )
    return result


def reflection_questions_sync_from_playbook(*, team: Team, rows: list[dict], report: SyncReport) -> None:
    """Load the 团队思考 questions (`reflection_questions:`, Q-THINK-1 .. Q-THINK-14)."""
    for order, row in enumerate(rows, start=1):
        _keys_check(row, QUESTION_KEYS)
        playbook_row_sync(
            ReflectionQuestion,
            lookup={"team": team, "playbook_id": row["id"]},
            values={"order": order, "text": row["text"]},
            report=report,
        )


# --- who may do what ------------------------------------------------------------------------------------------------


def meeting_can_publish(*, meeting: Meeting, member: Member) -> bool:
    """The chair, any role lead, the director (and an admin)."""
    if meeting.team_id != member.team_id:
        return False
    return meeting.chair_id == member.pk or member_level(member=member) != Level.STAFF


def meeting_can_edit(*, meeting: Meeting, member: Member) -> bool:
    """Draft minutes: whoever may publish, and the meeting's attendees (anyone may take the notes)."""
    if meeting_can_publish(meeting=meeting, member=member):
        return True
    return meeting.team_id == member.team_id and meeting.attendance.filter(member=member).exists()


def _edit_check(*, meeting: Meeting, member: Member) -> None:
    if not meeting_can_edit(meeting=meeting, member=member):
        raise PermissionDenied(_("Only the meeting's attendees, the chair, the leads and the director can write these minutes."))
    if meeting.status == MeetingStatus.REQUESTED:
        raise ValidationError(_("This meeting is waiting for a lead's approval."))


def _draft_check(*, meeting: Meeting, member: Member) -> None:
    _edit_check(meeting=meeting, member=member)
    if meeting.is_published:
        raise ValidationError(PUBLISHED_LOCKED)


def _amend_check(*, meeting: Meeting, member: Member, reason: str) -> str:
    if not meeting_can_publish(meeting=meeting, member=member):
        raise PermissionDenied(_("Only the chair, the leads and the director can amend published minutes."))
    reason = text_line(reason, field="reason")
    if not reason:
        raise ValidationError({"reason": _("Say why the published minutes change, e.g. 补充遗漏的决定.")})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": _("The reason is too long: at most %(max)d characters.") % {"max": REASON_MAX}})
    return reason


# --- the series' calendar -------------------------------------------------------------------------------------------


def series_falls_on(*, series: MeetingSeries, day: date) -> bool:
    """Is a meeting of this series due on `day`? Only scheduled series (working days, weekly) are ever due."""
    if not series.is_active:
        return False
    if series.cadence == Cadence.WORKDAYS:
        if not workday_is(team=series.team, day=day):
            return False
        # On its weekdays; and on a 调休 weekend day, which the calendar makes a working day in place of a weekday.
        return str(day.isoweekday()) in (series.weekdays or "12345") or day.isoweekday() >= 6
    if series.cadence == Cadence.WEEKLY:
        # On the first working day of the week on or after its weekday (a holiday Monday moves it to Tuesday).
        monday = day - timedelta(days=day.weekday())
        weekday = int((series.weekdays or "1")[0])
        candidate = monday + timedelta(days=weekday - 1)
        while candidate <= monday + timedelta(days=6):
            if workday_is(team=series.team, day=candidate):
                return candidate == day
            candidate += timedelta(days=1)
        return False
    return False  # monthly meetings are booked, problem meetings called


def _chair_for(*, series: MeetingSeries) -> Member | None:
    """The lead of the series' chair role; for the director's role (or none), the team's director."""
    if series.chair_role is not None and series.chair_role.code != RoleCode.DIRECTOR:
        lead = role_lead_get(role=series.chair_role)
        if lead is not None and lead.is_active:
            return lead
    return Member.objects.filter(team_id=series.team_id, is_director=True).active().order_by("id").first()


def _attendees_for(*, series: MeetingSeries) -> list[Member]:
    members = Member.objects.filter(team_id=series.team_id).active()
    if series.attendee_roles:
        members = members.filter(Q(role_links__role__code__in=series.attendee_roles) | Q(is_director=True)).distinct()
    return list(members.order_by("display_name", "id"))


# --- creating meetings ----------------------------------------------------------------------------------------------


@dataclass
class MeetingsResult:
    """What one run of the scheduler did for a team."""

    created: list[Meeting] = field(default_factory=list)
    refreshed: int = 0
    reminded: int = 0

    def __str__(self) -> str:
        return f"meetings: {len(self.created)} created, {self.refreshed} refreshed, {self.reminded} reminders"


def _carried_items(*, meeting: Meeting) -> list[AgendaItem]:
    """Every open action item from earlier meetings of the series, with how many meetings it has now been carried to."""
    earlier = (
        ActionItem.objects.filter(meeting__series_id=meeting.series_id, meeting__date__lt=meeting.date)
        .open()
        .select_related("owner")
        .annotate(times=Count("carried_to"))
        .order_by("due_date", "id")
    )
    return [
        AgendaItem(
            meeting=meeting,
            kind=AgendaKind.CARRIED,
            title=_("Open action: %(title)s (%(owner)s, due %(due)s)")
            % {"title": action.title, "owner": action.owner, "due": action.due_date},
            action_item=action,
            carry_count=action.times + 1,
        )
        for action in earlier
    ]


def meeting_create(
    *,
    series: MeetingSeries,
    day: date,
    now: datetime,
    created_by: Member | None = None,
    title: str = "",
    starts_at: time | None = None,
    idempotency_key: str | None = None,
) -> tuple[Meeting, bool]:
    """A meeting of the series on `day` with its agenda prefilled and its attendees listed. Returns (meeting, created).

    For a scheduled series a second call for the same date returns the first meeting: the INSERT is guarded by
    the constraint one-per-series-per-date, so two workers cannot both create it.
    """
    title = text_line(title, field="title") or f"{series.name} {day:%m-%d}"
    if len(title) > TITLE_MAX:
        raise ValidationError({"title": _("The title is too long: at most %(max)d characters.") % {"max": TITLE_MAX}})
    # Called on demand: waits for a lead's approval unless the caller is a lead or the director.
    needs_ok = series.needs_approval and (created_by is None or member_level(member=created_by) == Level.STAFF)
    meeting = Meeting(
        team_id=series.team_id,
        series=series,
        title=title,
        date=day,
        starts_at=local_datetime(day, starts_at or series.starts_at),
        chair=_chair_for(series=series),
        on_demand=series.cadence == Cadence.ON_DEMAND,
        status=MeetingStatus.REQUESTED if needs_ok else MeetingStatus.DRAFT,
        created_at=now,
        created_by=created_by,
        idempotency_key=idempotency_key,
    )
    if not meeting.on_demand:
        existing = Meeting.objects.filter(series=series, date=day).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            meeting.save()
            _agenda_fill(meeting=meeting, now=now)
            Attendance.objects.bulk_create(Attendance(meeting=meeting, member=m) for m in _attendees_for(series=series))
            _search_refresh(meeting)
    except IntegrityError:
        if meeting.on_demand:
            raise  # not the one-per-date constraint: the caller's idempotency key (create_once decides)
        # Another worker inserted the same series and date first: theirs is the meeting.
        existing = Meeting.objects.filter(series=series, date=day).first()
        if existing is None:
            raise
        return existing, False
    return meeting, True


def _agenda_fill(*, meeting: Meeting, now: datetime) -> None:
    """Standing items, then what the data says, then the carried-over actions; in the team's language."""
    with translation.override(settings.LANGUAGE_CODE):
        rows = [AgendaItem(meeting=meeting, kind=AgendaKind.STANDING, title=text) for text in meeting.series.standing_agenda]
        rows += [
            AgendaItem(meeting=meeting, kind=AgendaKind.GENERATED, title=title, prepared=prepared)
            for title, prepared in generated_agenda(series=meeting.series, day=meeting.date, now=now)
        ]
        rows += _carried_items(meeting=meeting)
    for order, row in enumerate(rows, start=1):
        row.order = order * 10
    AgendaItem.objects.bulk_create(rows)


def meeting_prepare_refresh(*, meeting: Meeting, now: datetime) -> bool:
    """Recompute the generated items just before the meeting (sales and ticks have moved since the morning).

    Each row is written with an update guarded on empty notes: an item someone already wrote under keeps what
    it showed, even if they saved a moment ago. Returns whether anything changed.
    """
    if meeting.status != MeetingStatus.DRAFT:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        fresh = dict(generated_agenda(series=meeting.series, day=meeting.date, now=now))
    changed = 0
    for item in meeting.agenda_items.filter(kind=AgendaKind.GENERATED, notes=""):
        if item.title in fresh and fresh[item.title] != item.prepared:
            changed += AgendaItem.objects.filter(pk=item.pk, notes="").update(prepared=fresh[item.title])
    return bool(changed)


def meetings_create_due(*, team: Team, now: datetime) -> MeetingsResult:
    """The scheduler: today's meetings of every scheduled series, the pre-meeting refresh, and the monthly reminder."""
    result = MeetingsResult()
    today = local_date(now)
    for series in MeetingSeries.objects.filter(team=team, is_active=True).select_related("team", "chair_role"):
        if series_falls_on(series=series, day=today):
            meeting, created = meeting_create(series=series, day=today, now=now)
            if created:
                result.created.append(meeting)
            elif meeting.starts_at - PREP_LEAD <= now < meeting.starts_at:
                result.refreshed += meeting_prepare_refresh(meeting=meeting, now=now)
        if series.cadence == Cadence.MONTHLY and series.remind_by_day and today.day >= series.remind_by_day:
            result.reminded += _monthly_remind(series=series, today=today, now=now)
    return result


def _monthly_remind(*, series: MeetingSeries, today: date, now: datetime) -> int:
    """M-MONTHLY: by the 20th, tell the director if no team event is booked this month. Once per month (the constraint)."""
    month = today.replace(day=1)
    if Meeting.objects.filter(series=series, date__gte=month, date__lt=(month + timedelta(days=32)).replace(day=1)).exists():
        return 0
    try:
        with transaction.atomic():
            MeetingReminder.objects.create(series=series, month=month, sent_at=now)
            with translation.override(settings.LANGUAGE_CODE):
                for director in Member.objects.filter(team_id=series.team_id, is_director=True).active():
                    _notify(
                        team=series.team,
                        recipient=director,
                        kind="meeting_reminder",
                        title=_("No %(name)s booked this month") % {"name": series.name},
                        body=_("The playbook asks for at least one %(name)s a month. Book one on the meetings page.")
                        % {"name": markdown_escape(series.name)},
                        url="/meetings/",
                        now=now,
                    )
    except IntegrityError:
        return 0  # already reminded this month
    return 1


def meeting_call(
    *,
    series: MeetingSeries,
    member: Member,
    day: date,
    now: datetime,
    title: str = "",
    starts_at: time | None = None,
    idempotency_key: str | None = None,
) -> Meeting:
    """A member books or calls a meeting: M-ISSUE by anyone (a lead approves), M-MONTHLY and others by a lead or the director.

    A repeat with the same idempotency key returns the first meeting (a problem meeting may otherwise be called twice).
    """
    return create_once(
        model=Meeting,
        key=idempotency_key,
        scope={"created_by": member},
        create=lambda: _meeting_call(
            series=series, member=member, day=day, now=now, title=title, starts_at=starts_at, idempotency_key=idempotency_key
        ),
    )


def _meeting_call(
    *, series: MeetingSeries, member: Member, day: date, now: datetime, title: str, starts_at: time | None, idempotency_key: str | None
) -> Meeting:
    if series.team_id != member.team_id:
        raise ValidationError({"series": _("This meeting series is not in your team.")})
    if not series.is_active:
        raise ValidationError({"series": _("This meeting series is switched off.")})
    if series.cadence != Cadence.ON_DEMAND and member_level(member=member) == Level.STAFF:
        raise PermissionDenied(_("Only a lead or the director can book this meeting; anyone can call a problem meeting."))
    if day < local_date(now) - timedelta(days=30) or day > local_date(now) + timedelta(days=366):
        raise ValidationError({"date": _("Choose a date within the next year.")})
    meeting, created = meeting_create(
        series=series, day=day, now=now, created_by=member, title=title, starts_at=starts_at, idempotency_key=idempotency_key
    )
    if not created:
        raise ValidationError({"date": _("There is already a %(name)s on %(date)s.") % {"name": series.name, "date": day}})
    return meeting


def meeting_approve(*, meeting: Meeting, member: Member, now: datetime) -> Meeting:
    """A lead or the director approves a called problem meeting (M-ISSUE)."""
    if member_level(member=member) == Level.STAFF or meeting.team_id != member.team_id:
        raise PermissionDenied(_("Only a lead or the director can approve a meeting."))
    updated = Meeting.objects.filter(pk=meeting.pk, status=MeetingStatus.REQUESTED).update(
        status=MeetingStatus.DRAFT, approved_at=now, approved_by=member
    )
    if not updated:
        raise ValidationError(_("This meeting is not waiting for approval."))
    meeting.refresh_from_db()
    return meeting


# --- writing the minutes --------------------------------------------------------------------------------------------


def _search_refresh(meeting: Meeting) -> None:
    """Rebuild the plain text the list page searches: title, agenda, notes, decisions, actions."""
    parts = [meeting.title]
    for item in meeting.agenda_items.all():
        parts += [item.title, markdown_plain(item.notes)]
    parts += list(meeting.decisions.values_list("text", flat=True))
    parts += list(meeting.action_items.values_list("title", flat=True))
    Meeting.objects.filter(pk=meeting.pk).update(search_text="\n".join(p for p in parts if p))


def _notes_clean(notes: str) -> str:
    notes = text_clean(notes, strip=False).replace("\r\n", "\n")
    if len(notes) > NOTES_MAX:
        raise ValidationError({"notes": _("The notes are too long: at most %(max)d characters.") % {"max": NOTES_MAX}})
    return notes


def meeting_update(
    *,
    meeting: Meeting,
    member: Member,
    now: datetime,
    title: str | None = None,
    starts_at: datetime | None = None,
    chair: Member | None = None,
) -> Meeting:
    """Change a draft meeting's title, start or chair."""
    _draft_check(meeting=meeting, member=member)
    if title is not None:
        title = text_line(title, field="title")
        if not title or len(title) > TITLE_MAX:
            raise ValidationError({"title": _("Give the meeting a title of at most %(max)d characters.") % {"max": TITLE_MAX}})
        meeting.title = title
    if starts_at is not None:
        meeting.starts_at = starts_at
        meeting.date = local_date(starts_at)
    if chair is not None:
        if chair.team_id != meeting.team_id:
            raise ValidationError({"chair": _("This member is not in your team.")})
        meeting.chair = chair
    try:
        with transaction.atomic():
            meeting.save()
    except IntegrityError:
        raise ValidationError({"starts_at": _("There is already a meeting of this series on that date.")}) from None
    _search_refresh(meeting)
    return meeting


def attendance_mark(*, meeting: Meeting, member: Member, attendee: Member, status: str, now: datetime) -> Attendance:
    """Mark who came (present, late, absent, excused); a member not on the list is added."""
    _draft_check(meeting=meeting, member=member)
    if status not in AttendanceStatus.values:
        raise ValidationError({"status": _("Choose present, late, absent or excused.")})
    if attendee.team_id != meeting.team_id:
        raise ValidationError({"member": _("This member is not in your team.")})
    row, _created = Attendance.objects.update_or_create(meeting=meeting, member=attendee, defaults={"status": status})
    return row


def agenda_item_add(*, meeting: Meeting, member: Member, title: str, now: datetime, idempotency_key: str | None = None) -> AgendaItem:
    """An agenda item added by hand; a repeat with the same idempotency key returns the first."""
    return create_once(
        model=AgendaItem,
        key=idempotency_key,
        scope={"meeting": meeting},
        create=lambda: _agenda_item_add(meeting=meeting, member=member, title=title, idempotency_key=idempotency_key),
    )


def _agenda_item_add(*, meeting: Meeting, member: Member, title: str, idempotency_key: str | None) -> AgendaItem:
    _draft_check(meeting=meeting, member=member)
    title = text_line(title, field="title")
    if not title or len(title) > 300:
        raise ValidationError({"title": _("Give the agenda item a title of at most 300 characters.")})
    last = meeting.agenda_items.order_by("-order").values_list("order", flat=True).first() or 0
    item = AgendaItem.objects.create(meeting=meeting, kind=AgendaKind.ADDED, title=title, order=last + 10, idempotency_key=idempotency_key)
    _search_refresh(meeting)
    return item


def agenda_notes_save(*, item: AgendaItem, member: Member, notes: str, now: datetime) -> AgendaItem:
    """The notes under one agenda item (Markdown). Draft minutes only; published ones take an amendment."""
    meeting = item.meeting
    _draft_check(meeting=meeting, member=member)
    item.notes = _notes_clean(notes)
    item.save(update_fields=["notes"])
    _search_refresh(meeting)
    return item


def agenda_notes_amend(*, item: AgendaItem, member: Member, notes: str, reason: str, now: datetime) -> Amendment:
    """Change the notes of published minutes: the change is kept with who, when, before, after and why."""
    meeting = item.meeting
    reason = _amend_check(meeting=meeting, member=member, reason=reason)
    if not meeting.is_published:
        raise ValidationError(_("These minutes are still a draft: edit them directly."))
    notes = _notes_clean(notes)
    with transaction.atomic():
        before = AgendaItem.objects.select_for_update().get(pk=item.pk).notes
        AgendaItem.objects.filter(pk=item.pk).update(notes=notes)
        amendment = Amendment.objects.create(
            meeting=meeting, member=member, at=now, field="notes", agenda_item=item, before=before, after=notes, reason=reason
        )
    item.notes = notes
    _search_refresh(meeting)
    return amendment


def decision_record(
    *,
    meeting: Meeting,
    member: Member,
    text: str,
    now: datetime,
    agenda_item: AgendaItem | None = None,
    reason: str = "",
    idempotency_key: str | None = None,
) -> Decision:
    """A decision; on published minutes only as an amendment (with a reason). A repeated idempotency key returns the first."""
    return create_once(
        model=Decision,
        key=idempotency_key,
        scope={"created_by": member},
        create=lambda: _decision_record(
            meeting=meeting, member=member, text=text, now=now, agenda_item=agenda_item, reason=reason, idempotency_key=idempotency_key
        ),
    )


def _decision_record(
    *, meeting: Meeting, member: Member, text: str, now: datetime, agenda_item: AgendaItem | None, reason: str, idempotency_key: str | None
) -> Decision:
    text = text_clean(text)
    if not text:
        raise ValidationError({"text": _("Write the decision.")})
    if len(text) > DECISION_MAX:
        raise ValidationError({"text": _("The decision is too long: at most %(max)d characters.") % {"max": DECISION_MAX}})
    if agenda_item is not None and agenda_item.meeting_id != meeting.pk:
        raise ValidationError({"agenda_item": _("This agenda item belongs to another meeting.")})
    with transaction.atomic():
        if meeting.is_published:
            reason = _amend_check(meeting=meeting, member=member, reason=reason)
            Amendment.objects.create(meeting=meeting, member=member, at=now, field="decision", after=text, reason=reason)
        else:
            _draft_check(meeting=meeting, member=member)
        decision = Decision.objects.create(
            meeting=meeting, agenda_item=agenda_item, text=text, created_by=member, created_at=now, idempotency_key=idempotency_key
        )
    _search_refresh(meeting)
    return decision


def action_item_create(
    *,
    meeting: Meeting,
    member: Member,
    title: str,
    owner: Member,
    due_date: date,
    now: datetime,
    agenda_item: AgendaItem | None = None,
    reason: str = "",
    idempotency_key: str | None = None,
) -> ActionItem:
    """An action item, and at once the owner's duty (source MEETING) under the escalation chain.

    The duty is created with source_key "action:<id>", so a retry cannot give the owner the same duty twice; a repeat
    with the same idempotency key returns the first action item. On published minutes only as an amendment (with a reason).
    """
    return create_once(
        model=ActionItem,
        key=idempotency_key,
        scope={"created_by": member},
        create=lambda: _action_item_create(
            meeting=meeting,
            member=member,
            title=title,
            owner=owner,
            due_date=due_date,
            now=now,
            agenda_item=agenda_item,
            reason=reason,
            idempotency_key=idempotency_key,
        ),
    )


def _action_item_create(
    *, meeting: Meeting, member: Member, title: str, owner: Member, due_date: date, now: datetime, agenda_item: AgendaItem | None,
    reason: str, idempotency_key: str | None,
) -> ActionItem:  # fmt: skip
    title = text_line(title, field="title")
    if not title:
        raise ValidationError({"title": _("Say what is to be done, e.g. 下周一前提交补货表.")})
    if len(title) > TITLE_MAX:
        raise ValidationError({"title": _("The title is too long: at most %(max)d characters.") % {"max": TITLE_MAX}})
    if owner.team_id != meeting.team_id or not owner.is_active:
        raise ValidationError({"owner": _("Choose an active member of your team.")})
    # The action item becomes the owner's duty: only who may assign them a duty may give them one (issue 15: any
    # attendee could hand the director a duty). Anyone may take one on themselves.
    if owner.pk != member.pk and not task_can_assign(member=member, owner=owner, role=None):
        raise PermissionDenied(_("You can give an action item only to yourself or to someone you may assign duties to."))
    if due_date < meeting.date:
        raise ValidationError({"due_date": _("The due date is before the meeting.")})
    if agenda_item is not None and agenda_item.meeting_id != meeting.pk:
        raise ValidationError({"agenda_item": _("This agenda item belongs to another meeting.")})
    with transaction.atomic():
        if meeting.is_published:
            reason = _amend_check(meeting=meeting, member=member, reason=reason)
        else:
            _draft_check(meeting=meeting, member=member)
        action = ActionItem.objects.create(
            meeting=meeting, agenda_item=agenda_item, title=title, owner=owner, due_date=due_date, created_by=member, created_at=now,
            idempotency_key=idempotency_key,
        )  # fmt: skip
        action.task = task_create(
            team=meeting.team,
            title=title,
            due_at=local_datetime(due_date, ACTION_DUE_TIME),
            source=TaskSource.MEETING,
            now=now,
            owner=owner,
            created_by=member,
            detail=_("From %(meeting)s on %(date)s: /meetings/%(id)d/")
            % {"meeting": meeting.title, "date": meeting.date, "id": meeting.pk},
            source_key=f"action:{action.pk}",
            playbook_id=meeting.series.playbook_id,
        )
        action.save(update_fields=["task"])
        if meeting.is_published:
            Amendment.objects.create(
                meeting=meeting,
                member=member,
                at=now,
                field="action_item",
                after=f"{title} · {owner} · {due_date}",
                reason=reason,
            )
    _search_refresh(meeting)
    return action


# --- publishing -----------------------------------------------------------------------------------------------------


def _notify(*, team: Team, recipient: Member, kind: str, title: str, body: str, url: str, now: datetime) -> None:
    """Through the team's channels: in-app, and the e-mail and robot outbox (issue 4's notifications service)."""
    notification_create(team=team, recipient=recipient, kind=kind, title=title, body=body, url=url, not_before=now, now=now)


def meeting_publish(*, meeting: Meeting, member: Member, now: datetime) -> Meeting:
    """Lock the minutes and tell every attendee. Only the chair, the leads and the director; once."""
    if not meeting_can_publish(meeting=meeting, member=member):
        raise PermissionDenied(_("Only the chair, the leads and the director can publish the minutes."))
    with transaction.atomic():
        # Guarded: of two clicks (or two people) exactly one publishes and sends the notifications.
        updated = Meeting.objects.filter(pk=meeting.pk, status=MeetingStatus.DRAFT).update(
            status=MeetingStatus.PUBLISHED, published_at=now, published_by=member
        )
        if not updated:
            meeting.refresh_from_db()
            if meeting.is_published:
                raise ValidationError(_("These minutes are already published."))
            raise ValidationError(_("This meeting is waiting for a lead's approval."))
        meeting.refresh_from_db()
        attendees = Member.objects.filter(attendance__meeting=meeting).active().exclude(pk=member.pk)
        actions = list(meeting.action_items.select_related("owner"))
        with translation.override(settings.LANGUAGE_CODE):
            for attendee in attendees:
                mine = [a for a in actions if a.owner_id == attendee.pk]
                # Names and titles are plain text in the Markdown body (issue 15): a link typed into a title stays text.
                body = _("%(who)s published the minutes of %(meeting)s (%(date)s).") % {
                    "who": markdown_escape(str(member)),
                    "meeting": markdown_escape(meeting.title),
                    "date": meeting.date,
                }
                if mine:
                    lines = "\n".join(f"- {markdown_escape(a.title)} ({a.due_date})" for a in mine)
                    body += "\n\n" + _("Your action items:") + "\n" + lines
                _notify(
                    team=meeting.team,
                    recipient=attendee,
                    kind="meeting_published",
                    title=_("Minutes: %(meeting)s") % {"meeting": meeting.title},
                    body=body,
                    url=f"/meetings/{meeting.pk}/",
                    now=now,
                )
    return meeting


# --- weekly reflection ----------------------------------------------------------------------------------------------


def week_monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def reflection_save(*, member: Member, week: date, answers: dict[str, str], now: datetime) -> WeeklyReflection:
    """A member's answers for an ISO week (optional; blank answers are dropped). The same week again updates them."""
    monday = week_monday(week)
    if monday > week_monday(local_date(now)):
        raise ValidationError({"week": _("You cannot answer for a week that has not started.")})
    known = set(ReflectionQuestion.objects.filter(team_id=member.team_id, is_active=True).values_list("playbook_id", flat=True))
    cleaned = {}
    for key, value in answers.items():
        if key not in known:
            raise ValidationError({"answers": _("Unknown question %(key)s.") % {"key": key}})
        value = text_clean(value)
        if len(value) > ANSWER_MAX:
            raise ValidationError({key: _("This answer is too long: at most %(max)d characters.") % {"max": ANSWER_MAX}})
        if value:
            cleaned[key] = value
    row, _created = WeeklyReflection.objects.update_or_create(
        member=member, week=monday, defaults={"team_id": member.team_id, "answers": cleaned, "updated_at": now}
    )
    return row
