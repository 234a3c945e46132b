"""Editing draft minutes without losing a word (issue 17): notes saved as they are typed, a second writer never
overwriting the first silently, decisions and action items edited or removed until the minutes are published."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from checklists.meetings.minutes import _notes_clean, _search_refresh
from checklists.meetings.services import DECISION_MAX, _draft_check
from checklists.models import ActionItem, AgendaItem, Decision, Task, TaskStatus
from opsteam.lib.text import text_clean
from roles.models import Member


def notes_version(notes: str) -> str:
    """The version of an agenda item's notes a writer started from: a digest of the text.

    A digest rather than a counter column: two saves of the same text are the same version, and a writer whose box
    holds what is stored is never told of a conflict. Compared under the row lock, it is as safe as a number.
    """
    return hashlib.sha256((notes or "").encode()).hexdigest()[:16]


class NotesConflict(ValidationError):
    """Someone saved other notes since this writer loaded them: both texts are shown, nothing is overwritten."""

    def __init__(self, *, theirs: str, version: str):
        super().__init__(_("Someone else changed these notes while you were writing. Both texts are shown: merge them and save."))
        self.theirs = theirs
        self.version = version


def agenda_notes_autosave(*, item: AgendaItem, member: Member, notes: str, base: str | None, now: datetime) -> str:
    """Save the notes typed under an agenda item if nobody else changed them since `base`. Returns the new version.

    `base` is the version the writer's box started from (notes_version); None saves unconditionally (a form without
    script). Raises NotesConflict with the stored text when another save came between.
    """
    meeting = item.meeting
    _draft_check(meeting=meeting, member=member)
    notes = _notes_clean(notes)
    with transaction.atomic():
        stored = AgendaItem.objects.select_for_update().only("notes").get(pk=item.pk).notes
        if base is not None and notes_version(stored) != base and stored != notes:
            raise NotesConflict(theirs=stored, version=notes_version(stored))
        if stored != notes:
            AgendaItem.objects.filter(pk=item.pk).update(notes=notes)
    item.notes = notes
    _search_refresh(meeting)
    return notes_version(notes)


@transaction.atomic
def decision_edit(*, decision: Decision, member: Member, text: str) -> Decision:
    """Change a decision's words; draft minutes only (published ones take an amendment)."""
    _draft_check(meeting=decision.meeting, member=member)
    text = text_clean(text)
    if not text:
        raise ValidationError({"text": _("Write the decision.")})
    if len(text) > DECISION_MAX:
        raise ValidationError({"text": _("The decision is too long: at most %(max)d characters.") % {"max": DECISION_MAX}})
    decision.text = text
    decision.save(update_fields=["text"])
    _search_refresh(decision.meeting)
    return decision


@transaction.atomic
def decision_remove(*, decision: Decision, member: Member) -> None:
    """Take a decision out of draft minutes."""
    _draft_check(meeting=decision.meeting, member=member)
    meeting = decision.meeting
    decision.delete()
    _search_refresh(meeting)


@transaction.atomic
def action_item_remove(*, action: ActionItem, member: Member, now: datetime) -> None:
    """Take an action item out of draft minutes; the duty it gave its owner is cancelled (kept, not deleted)."""
    _draft_check(meeting=action.meeting, member=member)
    meeting = action.meeting
    if action.task_id:
        # A closed duty has its time (checklists_task_closed_has_time): the cancellation's.
        Task.objects.filter(pk=action.task_id, status=TaskStatus.OPEN).update(status=TaskStatus.CANCELLED, done_at=now)
    action.delete()
    _search_refresh(meeting)
