"""Writing the minutes (attendance, agenda notes, decisions, action items), publishing them, and the weekly reflection."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from checklists.duties.services import task_can_assign, task_create
from checklists.meetings.services import (
    ACTION_DUE_TIME,
    ANSWER_MAX,
    DECISION_MAX,
    TITLE_MAX,
    _amend_check,
    _draft_check,
    _notify,
    _search_refresh,
    meeting_can_publish,
)
from checklists.models import (
    ActionItem,
    AgendaItem,
    AgendaKind,
    Amendment,
    Attendance,
    AttendanceStatus,
    Decision,
    Meeting,
    MeetingStatus,
    ReflectionQuestion,
    TaskSource,
    WeeklyReflection,
)
from opsteam.lib.clock import local_date, local_datetime
from opsteam.lib.idempotency import create_once
from opsteam.lib.text import NOTES_MAX, markdown_escape, text_clean, text_line
from roles.models import Member


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
