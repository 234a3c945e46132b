"""Pages for meetings (issue 6): the list, the minutes page and its forms, the print view, the weekly reflection.

Each view parses the form, calls one service or selector and renders; without JavaScript every form posts and
comes back to the page, with htmx the attendance buttons and the notes swap in place.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from checklists.meetings.editing import (
    NotesConflict,
    action_item_remove,
    agenda_notes_autosave,
    decision_edit,
    decision_remove,
    notes_version,
)
from checklists.meetings.minutes import (
    action_item_create,
    agenda_item_add,
    agenda_notes_amend,
    attendance_mark,
    decision_record,
    meeting_publish,
    reflection_save,
    week_monday,
)
from checklists.meetings.selectors import (
    action_item_owner_choices,
    agenda_item_get,
    meeting_get,
    meeting_list,
    meeting_series_list,
    minutes_get,
    reflection_get,
    reflection_list,
    reflection_questions,
)
from checklists.meetings.services import meeting_approve, meeting_call, meeting_can_edit, meeting_can_publish
from checklists.models import AttendanceStatus, Cadence, Meeting, MeetingStatus
from opsteam.lib.clock import local_date
from opsteam.lib.idempotency import FORM_FIELD, idempotency_key_clean
from opsteam.lib.params import date_parse, date_query, id_parse
from roles.access import member_is_lead_or_above, member_required
from roles.models import Member
from roles.selectors import member_list_actable_by

LIST_LIMIT = 100


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [text for texts in exc.message_dict.values() for text in texts]
    return exc.messages


def _error_fields(exc: ValidationError) -> list[str]:
    return sorted(exc.message_dict) if hasattr(exc, "error_dict") else []


def _key(request: HttpRequest) -> str | None:
    """The form's idempotency key (drawn with it): a double tap creates one row."""
    return idempotency_key_clean(request.POST.get(FORM_FIELD))


def _date(raw: str | None, *, field: str) -> date:
    """A form's date (opsteam.lib.params.date_parse): YYYY-MM-DD between 2001 and 2100, required."""
    day = date_parse(raw, field=field)
    if day is None:
        raise ValidationError({field: _("Enter a date as YYYY-MM-DD, e.g. 2026-11-30.")})
    return day


def _member(request: HttpRequest, raw: str | None, *, field: str = "owner") -> Member:
    try:
        return Member.objects.visible_to(request.member).active().get(pk=id_parse(raw) or 0)
    except Member.DoesNotExist:
        raise ValidationError({field: _("Choose a member of your team.")}) from None


def _back(meeting: Meeting, anchor: str = "") -> HttpResponse:
    return redirect(f"/meetings/{meeting.pk}/" + (f"#{anchor}" if anchor else ""))


def _refused(request: HttpRequest, meeting: Meeting, exc: ValidationError) -> HttpResponse:
    """A refused form: the minutes page drawn again with the messages, 400; nothing was written."""
    for text in _errors(exc):
        messages.error(request, text)
    context = _minutes_context(request, meeting) | {"error_fields": _error_fields(exc)}
    return render(request, "checklists/meeting_detail.html", context, status=400)


@require_GET
@member_required
def meetings(request: HttpRequest) -> HttpResponse:
    """The team's meetings with search over the minutes and a filter by series; lead's form to book or call one."""
    return _meetings_page(request)


def _meetings_page(request: HttpRequest, *, status: int = 200, error_fields: list[str] | None = None) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    series_id = id_parse(request.GET.get("series"))  # 30 digits is no series (it was an OverflowError on SQLite)
    series = list(meeting_series_list(viewer=request.member))
    rows = list(meeting_list(viewer=request.member, query=query, series_id=series_id)[:LIST_LIMIT])
    lead = member_is_lead_or_above(request.member)
    # Anyone may call a problem meeting (M-ISSUE); booking the others is for leads and the director.
    bookable = [s for s in series if s.cadence == Cadence.ON_DEMAND or lead]
    return render(
        request,
        "checklists/meetings.html",
        {
            "meetings": rows,
            "series": series,
            "bookable": bookable,
            "query": query,
            "series_id": series_id,
            "today": local_date(timezone.now()),
            "error_fields": error_fields or [],
        },
        status=status,
    )


@require_POST
@member_required
def meeting_new(request: HttpRequest) -> HttpResponse:
    series = meeting_series_list(viewer=request.member).filter(pk=request.POST.get("series") or 0).first()
    try:
        if series is None:
            raise ValidationError({"series": _("Choose which meeting.")})
        meeting = meeting_call(
            series=series,
            member=request.member,
            day=_date(request.POST.get("date"), field="date"),
            now=timezone.now(),
            title=request.POST.get("title", ""),
            idempotency_key=_key(request),
        )
    except ValidationError as exc:
        for text in _errors(exc):
            messages.error(request, text)
        return _meetings_page(request, status=400, error_fields=_error_fields(exc))
    return _back(meeting)


def _minutes_context(request: HttpRequest, meeting: Meeting) -> dict:
    minutes = minutes_get(meeting=meeting, viewer=request.member)
    return {
        "minutes": minutes,
        "meeting": meeting,
        "can_edit": meeting.status == MeetingStatus.DRAFT and meeting_can_edit(meeting=meeting, member=request.member),
        "can_publish": meeting_can_publish(meeting=meeting, member=request.member),
        "owners": action_item_owner_choices(member=request.member),
        "statuses": [choice for choice in AttendanceStatus.choices if choice[0] != AttendanceStatus.EXPECTED],
        "default_due": meeting.date + timedelta(days=1),
    }


@require_GET
@member_required
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_get(viewer=request.member, meeting_id=meeting_id)
    return render(request, "checklists/meeting_detail.html", _minutes_context(request, meeting))


@require_GET
@member_required
def meeting_print(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """The minutes on one plain page for printing or saving as PDF (the archive copy)."""
    meeting = meeting_get(viewer=request.member, meeting_id=meeting_id)
    return render(request, "checklists/meeting_print.html", {"minutes": minutes_get(meeting=meeting, viewer=request.member)})


@require_POST
@member_required
def meeting_attendance(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_get(viewer=request.member, meeting_id=meeting_id)
    try:
        row = attendance_mark(
            meeting=meeting,
            member=request.member,
            attendee=_member(request, request.POST.get("member"), field="member"),
            status=request.POST.get("status", ""),
            now=timezone.now(),
        )
    except ValidationError as exc:
        if request.htmx:
            return HttpResponse(" ".join(_errors(exc)), status=400)
        return _refused(request, meeting, exc)
    if request.htmx:
        # The row swaps in place; the count in the heading comes along out of band, so "3 of 11 present" stays true.
        context = _minutes_context(request, meeting) | {"row": row, "can_edit": True, "oob_count": True}
        return render(request, "checklists/_attendance_row.html", context)
    return _back(meeting, "attendance")


@require_POST
@member_required
def agenda_notes(request: HttpRequest, meeting_id: int, item_id: int) -> HttpResponse:
    """Save the notes under an agenda item (htmx swaps the item in place); on published minutes, an amendment."""
    meeting = meeting_get(viewer=request.member, meeting_id=meeting_id)
    item = agenda_item_get(viewer=request.member, meeting=meeting, item_id=item_id)
    errors: list[str] = []
    conflict: NotesConflict | None = None
    try:
        if meeting.is_published:
            agenda_notes_amend(
                item=item,
                member=request.member,
                notes=request.POST.get("notes", ""),
                reason=request.POST.get("reason", ""),
                now=timezone.now(),
            )
            messages.success(request, _("Amendment recorded."))
        else:
            # `base`: the version the writer's box started from; another save since then is a conflict (issue 17).
            agenda_notes_autosave(
                item=item,
                member=request.member,
                notes=request.POST.get("notes", ""),
                base=request.POST.get("base") or None,
                now=timezone.now(),
            )
    except NotesConflict as exc:
        conflict = exc
        errors = _errors(exc)
    except ValidationError as exc:
        errors = _errors(exc)
    if request.headers.get("X-Autosave"):
        # The page's script saving as the member types (static/js/minutes.js): a small answer, the box untouched.
        if conflict is not None:
            return JsonResponse(
                {"status": "conflict", "message": errors[0], "theirs": conflict.theirs, "version": conflict.version}, status=409
            )
        if errors:
            return JsonResponse({"status": "refused", "message": " ".join(errors)}, status=400)
        return JsonResponse({"status": "saved", "version": notes_version(item.notes)})
    if request.htmx and not meeting.is_published:
        # After a refusal what was typed stays in the box, beside the message.
        typed = request.POST.get("notes", "") if errors else None
        context = {
            "item": item,
            "meeting": meeting,
            "can_edit": True,
            "errors": errors,
            "saved": not errors,
            "typed": typed,
            "conflict": conflict,
        }
        return render(request, "checklists/_agenda_item.html", context)
    for text in errors:
        messages.error(request, text)
    return _back(meeting, f"agenda-{item.pk}")


@require_POST
@member_required
def agenda_add(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_get(viewer=request.member, meeting_id=meeting_id)
    try:
        item = agenda_item_add(
            meeting=meeting, member=request.member, title=request.POST.get("title", ""), now=timezone.now(), idempotency_key=_key(request)
        )
    except ValidationError as exc:
        return _refused(request, meeting, exc)
    return _back(meeting, f"agenda-{item.pk}")


def _agenda_item_or_none(request: HttpRequest, meeting: Meeting):
    raw = request.POST.get("agenda_item")
    if not raw:
        return None
    try:
        return agenda_item_get(viewer=request.member, meeting=meeting, item_id=raw)
    except Http404:
        # An id in the form, not the URL: another meeting's item is the form's error, not a missing page.
        raise ValidationError({"agenda_item": _("Choose an agenda item of this meeting.")}) from None


@require_POST
@member_required
def decision_add(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_get(viewer=request.member, meeting_id=meeting_id)
    return _in_place(
        request,
        meeting,
        "decisions",
        lambda: decision_record(
            meeting=meeting,
            member=request.member,
            text=request.POST.get("text", ""),
            agenda_item=_agenda_item_or_none(request, meeting),
            reason=request.POST.get("reason", ""),
            now=timezone.now(),
            idempotency_key=_key(request),
        ),
    )


@require_POST
@member_required
def action_add(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_get(viewer=request.member, meeting_id=meeting_id)
    return _in_place(
        request,
        meeting,
        "actions",
        lambda: action_item_create(
            meeting=meeting,
            member=request.member,
            title=request.POST.get("title", ""),
            owner=_member(request, request.POST.get("owner")),
            due_date=_date(request.POST.get("due_date"), field="due_date"),
            agenda_item=_agenda_item_or_none(request, meeting),
            reason=request.POST.get("reason", ""),
            now=timezone.now(),
            idempotency_key=_key(request),
        ),
    )


@require_POST
@member_required
def meeting_publish_view(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_get(viewer=request.member, meeting_id=meeting_id)
    if request.POST.get("confirm") != "1" and meeting_can_publish(meeting=meeting, member=request.member):
        # Publishing locks the minutes: only from the confirmation that names who is not yet marked (issue 17).
        messages.error(request, _("Confirm publishing: the minutes are locked after it."))
        return _back(meeting)
    try:
        meeting_publish(meeting=meeting, member=request.member, now=timezone.now())
    except ValidationError as exc:
        for text in _errors(exc):
            messages.error(request, text)
        return _back(meeting)
    messages.success(request, _("Published. The attendees have been notified."))
    return _back(meeting)


def _section(request: HttpRequest, meeting: Meeting, name: str, *, errors: list[str] | None = None, status: int = 200) -> HttpResponse:
    """The decisions or action items section alone (htmx): the rest of the page, and what is typed in it, stays."""
    for text in errors or []:
        messages.error(request, text)
    context = _minutes_context(request, meeting) | {"section_errors": errors or []}
    return render(request, f"checklists/_{name}.html", context, status=status)


def _in_place(request: HttpRequest, meeting: Meeting, name: str, write) -> HttpResponse:
    """Run one write on the minutes and answer with its section redrawn (htmx: what is typed elsewhere stays) or,
    without a script, the page; a refusal is the section with its message (400) or the page's message."""
    try:
        write()
    except ValidationError as exc:
        if request.htmx:
            return _section(request, meeting, name, errors=_errors(exc), status=400)
        return _refused(request, meeting, exc)
    return _section(request, meeting, name) if request.htmx else _back(meeting, name)


def _decision(request: HttpRequest, meeting: Meeting, decision_id: int):
    decision = meeting.decisions.filter(pk=decision_id).first()
    if decision is None:
        raise Http404
    return decision


@require_POST
@member_required
def decision_edit_view(request: HttpRequest, meeting_id: int, decision_id: int) -> HttpResponse:
    meeting = meeting_get(viewer=request.member, meeting_id=meeting_id)
    decision = _decision(request, meeting, decision_id)
    return _in_place(
        request, meeting, "decisions", lambda: decision_edit(decision=decision, member=request.member, text=request.POST.get("text", ""))
    )


@require_POST
@member_required
def decision_remove_view(request: HttpRequest, meeting_id: int, decision_id: int) -> HttpResponse:
    meeting = meeting_get(viewer=request.member, meeting_id=meeting_id)
    decision = _decision(request, meeting, decision_id)
    return _in_place(request, meeting, "decisions", lambda: decision_remove(decision=decision, member=request.member))


@require_POST
@member_required
def action_remove_view(request: HttpRequest, meeting_id: int, action_id: int) -> HttpResponse:
    meeting = meeting_get(viewer=request.member, meeting_id=meeting_id)
    action = meeting.action_items.filter(pk=action_id).first()
    if action is None:
        raise Http404
    return _in_place(request, meeting, "actions", lambda: action_item_remove(action=action, member=request.member, now=timezone.now()))


@require_POST
@member_required
def meeting_approve_view(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_get(viewer=request.member, meeting_id=meeting_id)
    try:
        meeting_approve(meeting=meeting, member=request.member, now=timezone.now())
    except ValidationError as exc:
        for text in _errors(exc):
            messages.error(request, text)
    return _back(meeting)


@require_http_methods(["GET", "POST"])
@member_required
def reflection(request: HttpRequest) -> HttpResponse:
    """My weekly 团队思考 (optional); a lead reads their role members' answers, the director everyone's."""
    now = timezone.now()
    this_week = week_monday(local_date(now))
    if request.method == "POST":
        try:
            week = week_monday(_date(request.GET.get("week") or request.POST.get("week") or this_week.isoformat(), field="week"))
        except ValidationError:
            raise Http404 from None
    else:
        # As the board: a malformed week or one outside 2001-2100 shows this week, with a message that says so.
        week = week_monday(date_query(request, "week", default=this_week))
    questions = reflection_questions(team_id=request.member.team_id)
    if request.method == "POST":
        answers = {key: request.POST.get(key, "") for key in questions}
        try:
            reflection_save(member=request.member, week=week, answers=answers, now=now)
        except ValidationError as exc:
            for text in _errors(exc):
                messages.error(request, text)
        else:
            messages.success(request, _("Saved. Your lead and the director can read it."))
        return redirect(f"/reflection/?week={week.isoformat()}")
    mine = reflection_get(member=request.member, week=week)
    others = [r for r in reflection_list(viewer=request.member, week=week) if r.member_id != request.member.pk]
    return render(
        request,
        "checklists/reflection.html",
        {
            "week": week,
            "previous": week - timedelta(days=7),
            "next": week + timedelta(days=7) if week < this_week else None,
            "questions": [(key, text, (mine.answers if mine else {}).get(key, "")) for key, text in questions.items()],
            "mine": mine,
            "others": others,
            "question_texts": questions,
            "is_lead": bool(member_list_actable_by(viewer=request.member)),
        },
    )
