"""Tick, mark not done, edit and undo checklist items. The API and the pages both call these."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from checklists.daily.models import covering
from checklists.escalation.models import escalation_reopen, escalation_resolve
from checklists.models import Checklist, ChecklistItem, Escalation, EscalationStatus, ItemKind, ItemStatus, TickAction, TickEvent
from opsteam.lib.clock import local_time
from opsteam.lib.images import image_clean
from opsteam.lib.numbers import decimal_parse
from opsteam.lib.text import text_clean
from roles.models import Member
from roles.selectors import member_led_role_ids

NOTE_MAX = 2000
# What a tick, an edit or an undo writes: the rest of the row is the template's copy and never changes here.
TICKED_FIELDS = ["status", "note", "value", "text_value", "photo", "done_at", "done_by", "updated_at"]
TEXT_MAX = 500


def item_can_tick(*, item: ChecklistItem, member: Member) -> bool:
    """The assignee (or the absent member), a lead of the list's role, or the director."""
    checklist = item.checklist
    if checklist.team_id != member.team_id:
        return False
    if member.pk in (checklist.assignee_id, checklist.member_id):
        return True
    if member.is_director or member.user.is_superuser:
        return True
    if checklist.role_id in member_led_role_ids(member=member):
        return True
    # Rare path (a cover arranged after the lists were made), so the common tick spends no query on it.
    return Checklist.objects.filter(pk=checklist.pk).filter(Exists(covering(member, "member", "date"))).exists()


def photo_clean(photo: UploadedFile) -> ContentFile:
    """The uploaded photo as it is stored: re-encoded by opsteam.lib.images.image_clean, named by its format.

    Every way a photo comes in (the today page, the API's tick) goes through here; the model's upload_to then
    gives it a server-chosen name with that extension (checklists.daily.models.tick_photo_path).
    """
    try:
        clean = image_clean(photo, max_bytes=settings.OPSTEAM_PHOTO_MAX_BYTES)
    except ValidationError as exc:
        raise ValidationError({"photo": exc.messages}) from None
    return ContentFile(clean.content, name=f"photo.{clean.extension}")


def _inputs_check(*, item: ChecklistItem, status: str, note: str, value: Decimal | None, text_value: str, has_photo: bool) -> None:
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": _("The note is too long: at most %(max)d characters.") % {"max": NOTE_MAX}})
    if len(text_value) > TEXT_MAX:
        raise ValidationError({"text_value": _("The text is too long: at most %(max)d characters.") % {"max": TEXT_MAX}})
    if status == ItemStatus.NOT_DONE:
        # A count with a target (SC-CS-5: 10 chats checked) that falls short is marked not done with the reason,
        # as the count's own refusal tells the worker to.
        if (item.note_required or (item.kind == ItemKind.COUNT and item.target)) and not note.strip():
            raise ValidationError({"note": _("Say why this item is not done: a note is required.")})
        return
    if item.kind == ItemKind.COUNT:
        if value is None:
            raise ValidationError({"value": _("Enter how many you did.")})
        if value != value.to_integral_value() or value < 0:
            raise ValidationError({"value": _("A count is a whole number, 0 or more.")})
        # A count short of its target (8 of 10) is recorded as it is and shown short (issue 17): refusing it lost the 8.
    elif item.kind == ItemKind.NUMBER and value is None:
        raise ValidationError({"value": _("Enter the number for this item.")})
    elif item.kind == ItemKind.TEXT and not text_value.strip():
        raise ValidationError({"text_value": _("Write a short answer for this item.")})
    elif item.kind == ItemKind.PHOTO and not has_photo:
        raise ValidationError({"photo": _("Add a photo for this item.")})


def _snapshot(item: ChecklistItem) -> dict:
    return {
        "status": item.status,
        "value": None if item.value is None else str(item.value),
        "text_value": item.text_value,
        "note": item.note,
        "photo": item.photo.name if item.photo else "",
    }


def _diff(before: dict, after: dict) -> dict:
    return {key: [before[key], after[key]] for key in after if before[key] != after[key]}


def _locked_item(item_id: int, *, viewer: Member | None = None) -> ChecklistItem:
    """The item and its list, locked, in one query; with `viewer`, only within the viewer's team (else 404).

    It also says whether the item has an unresolved escalation, so a tick of an item nobody escalated (most
    ticks) spends no UPDATE on escalations: a tick costs three statements, lock, update, audit (issue 8).
    Who may tick is decided from the locked row by item_can_tick, the same rule as Checklist.visible_to.
    """
    rows = ChecklistItem.objects.select_for_update().select_related("checklist")
    if viewer is not None:
        rows = rows.filter(checklist__team_id=viewer.team_id)
    unresolved = Escalation.objects.filter(item=OuterRef("pk"), status__in=[EscalationStatus.OPEN, EscalationStatus.ACKNOWLEDGED])
    try:
        return rows.annotate(has_open_escalation=Exists(unresolved)).get(pk=item_id)
    except (ChecklistItem.DoesNotExist, ValueError, TypeError, OverflowError):
        if viewer is None:
            raise
        raise Http404 from None


def tick_record(
    *,
    actor: Member,
    now: datetime | None = None,
    status: str = ItemStatus.DONE,
    note: str = "",
    value=None,
    text_value: str = "",
    photo: UploadedFile | None = None,
    ip: str | None = None,
    item: ChecklistItem | None = None,
    item_id: int | None = None,
) -> tuple[ChecklistItem, bool]:
    """Close an item as done or not done, or change a closed item's inputs. Returns (item, changed).

    Pass the `item` a caller has already read, or its `item_id` (the API): then the access check
    (outside the actor's scope is 404) is part of the locking query.
    Idempotent: the same tick twice, or from two phones at once, records one event. The row lock
    makes the second caller see the first caller's result and find nothing to change.
    `now` is when the change is made; a request passes none: the clock is read once the item is locked, so that of
    two edits racing for the row the later change has the later time (issue 15: with the request's start time, 20
    concurrent edits were recorded out of order). Tests and scripts pass the time they mean.
    """
    if status not in (ItemStatus.DONE, ItemStatus.NOT_DONE):
        raise ValidationError({"status": _("Choose done or not done.")})
    # The photo is decoded and re-encoded before the item is locked: that takes up to a few hundred ms for a
    # large one, which no other tick of the row should wait for. A refused photo writes nothing.
    cleaned = photo_clean(photo) if photo is not None else None
    return _tick_record_locked(
        actor=actor, now=now, status=status, note=note, value=value, text_value=text_value, photo=cleaned, ip=ip, item=item, item_id=item_id
    )


@transaction.atomic
def _tick_record_locked(
    *,
    actor: Member,
    now: datetime | None,
    status: str,
    note: str,
    value,
    text_value: str,
    photo: ContentFile | None,
    ip: str | None,
    item: ChecklistItem | None,
    item_id: int | None,
) -> tuple[ChecklistItem, bool]:
    """The item locked first, every rule checked on the locked row. `photo` is cleaned."""
    if item is not None:
        item = _locked_item(item.pk)
        if not item_can_tick(item=item, member=actor):
            raise PermissionDenied(_("You may not tick this item."))
    else:
        item = _locked_item(item_id, viewer=actor)
        # Who may tick an item is who may see it (Checklist.visible_to): anyone else is outside their scope, 404.
        if not item_can_tick(item=item, member=actor):
            raise Http404
    now = now or timezone.now()  # the row is locked: no change to it can come between this time and ours
    if item.is_group:
        raise ValidationError({"item": _("Tick the sub-items; this item is done when they all are.")})
    if item.status != ItemStatus.OPEN and status != item.status:
        # A page opened before someone else closed the item (a second phone, the lead ticking on a member's
        # behalf) must not turn their done into not done, or back, without anyone seeing it: undo comes first.
        raise ValidationError(
            {
                "item": _("%(name)s already marked this item %(status)s at %(time)s. Undo it first if it should change.")
                % {
                    "name": item.done_by.display_name if item.done_by else _("Someone"),
                    "status": item.get_status_display(),
                    "time": local_time(item.done_at).strftime("%H:%M"),
                }
            }
        )
    note = text_clean(note)
    text_value = text_clean(text_value)
    parsed = decimal_parse(value, column=ChecklistItem._meta.get_field("value"))
    _inputs_check(item=item, status=status, note=note, value=parsed, text_value=text_value, has_photo=bool(photo or item.photo))

    before = _snapshot(item)
    was_open = item.status == ItemStatus.OPEN
    item.status = status
    item.note = note
    item.value = parsed
    item.text_value = text_value
    if photo is not None:
        item.photo.save(photo.name, photo, save=False)
    after = _snapshot(item)
    changes = _diff(before, after)
    if not changes:
        return item, False
    if was_open:
        item.done_at = now
        item.done_by = actor
    item.save(update_fields=TICKED_FIELDS)
    if was_open and item.has_open_escalation:
        # A ticked item (done or not done) stops its escalation chain. "Has one" was read under the row lock;
        # a level a sweep inserts meanwhile is the race the sweep already has between its read and its insert.
        escalation_resolve(item=item, now=now)
    action = TickAction.EDIT if not was_open else (TickAction.TICK if status == ItemStatus.DONE else TickAction.NOT_DONE)
    _event_record(item=item, actor=actor, action=action, changes=changes, now=now, ip=ip)
    _group_refresh(item=item)
    return item, True


@transaction.atomic
def tick_undo(*, item: ChecklistItem, actor: Member, now: datetime | None = None, ip: str | None = None) -> tuple[ChecklistItem, bool]:
    """Reopen a closed item (undo). Idempotent: undoing an open item changes nothing. `now` as for tick_record."""
    item = _locked_item(item.pk)
    if not item_can_tick(item=item, member=actor):
        raise PermissionDenied(_("You may not tick this item."))
    now = now or timezone.now()
    if item.is_group or item.status == ItemStatus.OPEN:
        return item, False
    before = _snapshot(item)
    item.status = ItemStatus.OPEN
    item.done_at = None
    item.done_by = None
    # The count or number stays (issue 17): an undo by mistake does not lose the 8; the form offers it again.
    item.text_value = ""
    item.photo = ""
    item.save(update_fields=TICKED_FIELDS)
    # The tick had stopped the item's chain; open and late again, it is chased again.
    escalation_reopen(item=item, now=now)
    changes = _diff(before, _snapshot(item))
    _event_record(item=item, actor=actor, action=TickAction.UNTICK, changes=changes, now=now, ip=ip)
    _group_refresh(item=item)
    return item, True


def _event_record(*, item: ChecklistItem, actor: Member, action: str, changes: dict, now: datetime, ip: str | None) -> None:
    assignee_id = item.checklist.assignee_id
    TickEvent.objects.create(
        item=item,
        actor=actor,
        action=action,
        changes=changes,
        at=now,
        ip=ip,
        on_behalf_of_id=assignee_id if actor.pk != assignee_id else None,
    )


def _group_refresh(*, item: ChecklistItem) -> None:
    """A group is done when all its sub-items are closed; reopening one reopens the group."""
    if item.parent_id is None:
        return
    group = ChecklistItem.objects.select_for_update().get(pk=item.parent_id)
    children = list(group.children.values_list("status", "done_at"))
    all_closed = all(status != ItemStatus.OPEN for status, _ in children)
    if all_closed and group.status == ItemStatus.OPEN:
        group.status = ItemStatus.DONE
        group.done_at = max(done_at for _, done_at in children)
        group.done_by = item.done_by
        group.save(update_fields=["status", "done_at", "done_by", "updated_at"])
    elif not all_closed and group.status != ItemStatus.OPEN:
        group.status = ItemStatus.OPEN
        group.done_at = None
        group.done_by = None
        group.save(update_fields=["status", "done_at", "done_by", "updated_at"])
