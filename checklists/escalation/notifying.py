"""Notifying: one message per recipient and level for the escalations raised and not notified yet, and the repeats.

Only the sweep that claims an escalation (`notified_at IS NULL` under a row lock) writes its notification, so
two sweeps at once notify nobody twice. The messages go through the notify room's outbox.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import override

from checklists.escalation.policies import SweepResult, quiet_release
from checklists.escalation.recipients import _Context, _context, _context_members_load, _escalations_locked, _Pending, _recipients
from checklists.models import (
    Escalation,
    EscalationLevel,
    EscalationStatus,
    Notification,
    NotifyWhom,
)
from opsteam.lib.clock import business_tz
from opsteam.lib.text import markdown_escape
from roles.models import Team

logger = logging.getLogger(__name__)

ACK_SALT = "opsteam.escalation.ack"
# A message lists this many of its items and counts the rest.
MESSAGE_LINES = 30


def _subject_line(ctx: _Context, escalation: _Pending) -> tuple[str, str, str, str]:
    """(text, whose, due HH:MM, url) for one line of a message."""
    due = ctx.dues.get(escalation.due_at)
    if due is None:
        due = ctx.dues[escalation.due_at] = escalation.due_at.astimezone(business_tz()).strftime("%m-%d %H:%M")
    if escalation.item_id:
        item = escalation.item
        checklist = item.checklist
        url = f"{ctx.today_url}?member={checklist.assignee_id}#item-{item.pk}"
        return item.text, ctx.names.get(checklist.assignee_id, ""), due, url
    task = escalation.task
    # The assignee, else the owner, else the role: as the duty's page names whose it is.
    person = task.assignee_id or task.owner_id
    whose = ctx.names.get(person, "") if person else str(task.role or "")
    return task.title, whose, due, reverse("task-detail", args=[task.pk])


def _message(*, notify: str, lines: list[tuple[str, str, str, str]], count: int, repeat: bool, before_due: bool) -> tuple[str, str]:
    """Title and body for `count` items; `lines` are the first MESSAGE_LINES of them, the rest are counted."""
    if notify == NotifyWhom.OWNER and before_due:
        title = _("Reminder: %(count)d item(s) due soon") % {"count": count}
    elif notify == NotifyWhom.OWNER:
        title = _("Overdue: %(count)d item(s) of yours") % {"count": count}
    elif notify == NotifyWhom.LEAD:
        title = _("Escalated to you as lead: %(count)d overdue item(s)") % {"count": count}
    else:
        title = _("Escalated to the director: %(count)d overdue item(s)") % {"count": count}
    if repeat:
        title = _("Again: %(title)s") % {"title": title}
    base = settings.OPSTEAM_BASE_URL.rstrip("/")
    line = _("- [%(text)s](%(url)s) · %(whose)s · due %(due)s")
    # Translated once, not once a line. Titles and names are plain text, never Markdown (issue 15: a link in a duty's
    # title was a link in everyone's bell).
    body = "\n".join(
        line % {"text": markdown_escape(text), "url": base + url, "whose": markdown_escape(whose), "due": due}
        for text, whose, due, url in lines[:MESSAGE_LINES]
    )
    if count > MESSAGE_LINES:
        body += "\n" + _("- … and %(more)d more") % {"more": count - MESSAGE_LINES}
    return title, body


def ack_token_make(*, notification: Notification) -> str:
    return signing.dumps({"n": notification.pk, "m": notification.recipient_id}, salt=ACK_SALT, compress=True)


def ack_url(*, notification: Notification) -> str:
    return settings.OPSTEAM_BASE_URL.rstrip("/") + reverse("ack-link", args=[ack_token_make(notification=notification)])


def _notify_spec(ctx: _Context, *, recipient_id: int, escalations: list[_Pending], repeat: bool):
    """The notification for one recipient and level, or None when the recipient is no longer an active member.

    In the site's language: the caller holds override(settings.LANGUAGE_CODE)."""
    from checklists.notify.services import NotificationSpec

    recipient = ctx.members.get(recipient_id)
    if recipient is None:
        return None
    first = escalations[0]
    # Only the lines the message shows: a director's catch-up message names 30 of thousands.
    lines = [_subject_line(ctx, e) for e in escalations[:MESSAGE_LINES]]
    before_due = all(e.due_at > ctx.now for e in escalations)
    urgent = any(e.level.urgent for e in escalations)
    # A lead level that went past the lead (no lead, or the lead's own work) reads as the director's.
    notify = first.notify
    if notify == NotifyWhom.LEAD and recipient.is_director and ctx.leads.get(first.role_id) != recipient.pk:
        notify = NotifyWhom.DIRECTOR
    title, body = _message(notify=notify, lines=lines, count=len(escalations), repeat=repeat, before_due=before_due)
    return NotificationSpec(
        # What happened and its values: the page says it again in the reader's language (escalation_words).
        event="escalation",
        values={
            "notify": notify,
            "lines": [list(line) for line in lines],
            "count": len(escalations),
            "repeat": repeat,
            "before_due": before_due,
        },
        recipient=recipient,
        kind="escalation" if first.notify != NotifyWhom.OWNER else "reminder",
        title=title,
        body=body,
        url=lines[0][3],
        role=first.role,
        urgent=urgent,
        escalations=escalations,
        not_before=quiet_release(policy=first.level.policy, now=ctx.now, urgent=urgent),
    )


def _notifications_write(ctx: _Context, groups: dict[tuple[int, int], list[_Pending]], *, repeat: bool) -> list[Notification]:
    """The groups' notifications and deliveries with bulk inserts, in a fixed number of queries however many groups."""
    from checklists.notify.services import notification_create_many, notification_ids_reserve

    # One override for all the messages and their links, not one each (a sweep writes fifty or hundreds).
    with override(settings.LANGUAGE_CODE):
        specs = [_notify_spec(ctx, recipient_id=key[0], escalations=escalations, repeat=repeat) for key, escalations in groups.items()]
        specs = [spec for spec in specs if spec is not None]
        # The one-click acknowledge link needs the notification's id: reserved first where the database can,
        # so the body goes in whole; else added once the rows exist (in the same transaction either way: the
        # deliveries, sent after commit, carry it).
        ids = notification_ids_reserve(count=len(specs))
        if ids is not None:
            specs = [
                replace(spec, pk=pk, body=spec.body + _ack_line(Notification(pk=pk, recipient=spec.recipient)))
                for spec, pk in zip(specs, ids, strict=True)
            ]
            return notification_create_many(team=ctx.team, specs=specs, now=ctx.now)
        notifications = notification_create_many(team=ctx.team, specs=specs, now=ctx.now)
        for notification in notifications:
            notification.body += _ack_line(notification)
    Notification.objects.bulk_update(notifications, ["body"], batch_size=500)
    return notifications


def escalation_words(values: dict, notification: Notification):
    """A reminder's or escalation's words in the active language, from its values (checklists.notify.words)."""
    from checklists.notify.words import Words

    lines = [tuple(line) for line in values["lines"]]
    title, body = _message(
        notify=values["notify"], lines=lines, count=values["count"], repeat=values["repeat"], before_due=values["before_due"]
    )
    return Words(title=title, body=body + _ack_line(notification))


def _ack_line(notification: Notification) -> str:
    """The message's one-click acknowledge link, in the active language (the caller's override)."""
    return "\n\n" + _("[Acknowledge: I am on it](%(url)s)") % {"url": ack_url(notification=notification)}


def _notify_group(ctx: _Context, *, recipient_id: int, escalations: list[_Pending], repeat: bool) -> Notification | None:
    written = _notifications_write(ctx, {(recipient_id, escalations[0].level_order): escalations}, repeat=repeat)
    return written[0] if written else None


def _notify_groups(ctx: _Context, groups: dict[tuple[int, int], list[_Pending]], *, repeat: bool):
    """All groups at once (a catch-up writes hundreds of messages); if that fails, group by group, so that a
    broken group fails alone as before. Returns (the keys sent, [(key, exception)] of the groups that failed)."""
    try:
        with transaction.atomic():
            _notifications_write(ctx, groups, repeat=repeat)
        return list(groups), []
    except Exception:
        logger.warning("writing %d escalation messages at once failed; writing them one by one", len(groups), exc_info=True)
    sent, failed = [], []
    for key, escalations in groups.items():
        try:
            with transaction.atomic():
                _notify_group(ctx, recipient_id=key[0], escalations=escalations, repeat=repeat)
            sent.append(key)
        except Exception as exc:
            failed.append((key, exc))
    return sent, failed


def _first_repeat_at(level: EscalationLevel, *, now: datetime) -> datetime | None:
    """When a level sent now repeats first, or None when it does not repeat."""
    if not level.repeat_times:
        return None
    # Counted from when the message goes out: one raised at 22:00 is read at 08:00, so it repeats at 09:00.
    return quiet_release(policy=level.policy, now=now, urgent=level.urgent) + timedelta(minutes=level.repeat_every_minutes)


def _escalations_mark_sent(*, done: dict[int, int], by_id: dict[int, _Pending], now: datetime) -> None:
    """Stamp the notified escalations with their recipient and first repeat time."""
    next_repeats = {escalation_id: _first_repeat_at(by_id[escalation_id].level, now=now) for escalation_id in done}
    if connection.vendor == "postgresql":
        from checklists.notify.services import pg_array

        # One statement for all (a steady-state sweep tells 50 people; one UPDATE each was a tenth of its time).
        ids = list(done)
        with connection.cursor() as cursor:
            cursor.execute(
                _ESCALATIONS_MARK_SENT,
                [now, pg_array(ids), pg_array(done[i] for i in ids), pg_array(next_repeats[i] for i in ids)],
            )
        return
    # One UPDATE per recipient and repeat time, not one per escalation: a catch-up notifies thousands.
    updates: dict[tuple[int, datetime | None], list[int]] = defaultdict(list)
    for escalation_id, recipient_id in done.items():
        updates[(recipient_id, next_repeats[escalation_id])].append(escalation_id)
    for (recipient_id, next_repeat), ids in updates.items():
        Escalation.objects.filter(pk__in=ids, notified_at__isnull=True).update(
            notified_at=now, recipient_id=recipient_id, next_repeat_at=next_repeat, error=""
        )


# notified_at IS NULL: the same guard as the ORM path's, though the rows are locked by this sweep.
_ESCALATIONS_MARK_SENT = """
UPDATE checklists_escalation AS e
SET notified_at = %s, recipient_id = v.recipient_id, next_repeat_at = v.next_repeat_at, error = ''
FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[]) AS v (id, recipient_id, next_repeat_at)
WHERE e.id = v.id AND e.notified_at IS NULL
"""


def _notify_pending(*, team: Team, now: datetime, result: SweepResult) -> None:
    """Write one notification per recipient and level for the escalations nobody has notified yet."""
    with transaction.atomic():
        pending = _escalations_locked(rows=Escalation.objects.filter(team=team, notified_at__isnull=True))
        if not pending:
            return
        ctx = _context(team=team, now=now, escalations=pending)
        groups: dict[tuple[int, int], list[_Pending]] = defaultdict(list)
        for escalation in pending:
            if escalation.status == EscalationStatus.RESOLVED or escalation.subject_closed:
                # Done while its message waited for a retry, or a moment after the sweep raised it late (the tick
                # did not see the level yet): nobody needs to hear of it now, and it is not chased again.
                _stop_chasing(escalation, now=now, notified=True)
                continue
            try:
                recipients = _recipients(ctx, escalation)
            except Exception as exc:  # one broken row must not stop the sweep
                logger.exception("escalation %s: no recipient", escalation.pk)
                Escalation.objects.filter(pk=escalation.pk).update(error=str(exc)[:1000])
                result.failed += 1
                continue
            if not recipients:
                Escalation.objects.filter(pk=escalation.pk).update(notified_at=now, error=_("Nobody to notify: the team has no director."))
                continue
            for recipient_id in recipients:
                groups[(recipient_id, escalation.level_order)].append(escalation)
        _context_members_load(ctx, recipient_ids={key[0] for key in groups}, escalations=[e for g in groups.values() for e in g])
        done: dict[int, int] = {}
        sent, failed = _notify_groups(ctx, groups, repeat=False)
        for (recipient_id, _order), exc in failed:
            logger.error("escalation notification to member %s failed", recipient_id, exc_info=exc)
            escalations = groups[(recipient_id, _order)]
            Escalation.objects.filter(pk__in=[e.pk for e in escalations]).update(error=str(exc)[:1000])
            result.failed += len(escalations)
        for recipient_id, order in sent:
            for escalation in groups[(recipient_id, order)]:
                # An escalation sent to several members (a role duty) records one of them.
                done.setdefault(escalation.pk, recipient_id)
        if done:
            _escalations_mark_sent(done=done, by_id={e.pk: e for e in pending}, now=now)
        result.notified += len(done)


def _stop_chasing(escalation: _Pending, *, now: datetime, notified: bool = False) -> None:
    """An escalation nobody needs to hear of: resolved if its item or duty is closed (as escalation_resolve does at
    the tick), and with `notified`, marked as notified so that its message is not retried."""
    changes = {"notified_at": now, "error": ""} if notified else {}
    if escalation.subject_closed and escalation.status != EscalationStatus.RESOLVED:
        changes |= {"status": EscalationStatus.RESOLVED, "resolved_at": now, "next_repeat_at": None}
    Escalation.objects.filter(pk=escalation.pk).update(**changes)


def _repeat_due(*, team: Team, now: datetime, result: SweepResult) -> None:
    """Repeat an unacknowledged level every <interval>, up to <n> times."""
    with transaction.atomic():
        due = _escalations_locked(
            rows=Escalation.objects.filter(team=team, status=EscalationStatus.OPEN, next_repeat_at__lte=now, notified_at__isnull=False),
        )
        groups: dict[tuple[int, int], list[_Pending]] = defaultdict(list)
        for escalation in due:
            if escalation.subject_closed:
                _stop_chasing(escalation, now=now)
                continue
            level = escalation.level
            released = quiet_release(policy=level.policy, now=now, urgent=level.urgent)
            if released > now:
                # Quiet hours: the repeat would only wait in the outbox beside the last one; it goes in the morning.
                Escalation.objects.filter(pk=escalation.pk, repeats_sent=escalation.repeats_sent).update(next_repeat_at=released)
                continue
            sent = escalation.repeats_sent + 1
            next_repeat = now + timedelta(minutes=level.repeat_every_minutes) if sent < level.repeat_times else None
            # Guarded: only the run that moves repeats_sent from n to n + 1 sends repeat n + 1.
            claimed = Escalation.objects.filter(pk=escalation.pk, repeats_sent=escalation.repeats_sent).update(
                repeats_sent=sent, next_repeat_at=next_repeat
            )
            if claimed and escalation.recipient_id:
                groups[(escalation.recipient_id, escalation.level_order)].append(escalation)
        if not groups:
            return
        repeating = [e for g in groups.values() for e in g]
        ctx = _context(team=team, now=now, escalations=repeating)
        _context_members_load(ctx, recipient_ids={key[0] for key in groups}, escalations=repeating)
        for (recipient_id, _order), escalations in groups.items():
            try:
                with transaction.atomic():
                    _notify_group(ctx, recipient_id=recipient_id, escalations=escalations, repeat=True)
                result.repeated += len(escalations)
            except Exception:
                logger.exception("repeat notification to member %s failed", recipient_id)
                result.failed += len(escalations)
