"""Vendor callbacks: verified by the adapter, then a card button's action done exactly once, or a leaver unlinked.

Exactly once, twice over: CardAction is unique on the vendor's callback id (a retried callback finds its
row) and on (notification, action) (a second press of the same button, or the same button on a repeat of
the card, finds the first). The tick and acknowledge services are idempotent too. A callback that fails
verification changes nothing, is answered 403 and logged with the reason. A verified callback's nonce is
recorded as seen only when its work has committed: a crash while acting leaves the vendor's retry welcome.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from checklists.models import EscalationStatus, Notification
from checklists.notify.suites import adapter_for
from checklists.notify.suites.base import CallbackEvent, CallbackRefused
from checklists.notify.suites.deliver import _subjects, notification_card
from checklists.notify.suites.models import CardAction, SuiteApp, SuiteLink
from checklists.notify.suites.tokens import seen_record
from roles.models import Member

logger = logging.getLogger("opsteam.suites")


class _Refused(Exception):
    pass


def suite_callback_handle(*, app: SuiteApp, method: str, params: dict, headers: dict, body: bytes, now: datetime, ip: str | None):
    """(HTTP status, content type, body) for one callback."""
    adapter = adapter_for(app)
    try:
        event = adapter.callback_open(method=method, params=params, headers=headers, body=body, now=now)
    except CallbackRefused as exc:
        logger.warning("suite callback refused: team %s %s from %s: %s", app.team_id, app.kind, ip or "?", exc.reason)
        return 403, "text/plain", b"refused"
    card = None
    outcome = ""
    with transaction.atomic():
        if event.kind == "card":
            outcome, card = card_action_apply(app=app, event=event, now=now, ip=ip)
        elif event.kind == "contact":
            suite_links_deactivate(app=app, user_ids=event.left_user_ids, now=now)
        if adapter.replay_key:
            # Seen only once the action committed: a crash above rolls both back, and the vendor's retry of the
            # same request is acted on, once (CardAction). A replay racing the first is caught by CardAction too.
            key = adapter.replay_key
            ttl = 2 * settings.OPSTEAM_SUITE_CALLBACK_WINDOW_SECONDS
            transaction.on_commit(lambda: seen_record(key, ttl=ttl), robust=True)
    content_type, reply = adapter.callback_reply(event, card=card, outcome=outcome)
    return 200, content_type, reply


def _state(action: str, member: Member, at: datetime) -> str:
    local = timezone.localtime(at)
    if action == "done":
        return _("Done · %(name)s %(time)s") % {"name": member.display_name, "time": f"{local:%H:%M}"}
    return _("Acknowledged · %(name)s %(time)s") % {"name": member.display_name, "time": f"{local:%H:%M}"}


def _perform(*, action: str, notification: Notification, member: Member, now: datetime, ip: str | None) -> None:
    from checklists.daily.ticks import tick_record
    from checklists.duties.services import task_complete
    from checklists.escalation.acknowledging import escalation_acknowledge, escalation_can_acknowledge

    open_escalations, subjects = _subjects(notification)
    try:
        if action == "done":
            if len(subjects) != 1:
                raise _Refused(_("Nothing is left to do here."))
            subject = subjects[0]
            if subject._meta.model_name == "task":
                task_complete(task=subject, member=member, now=now, ip=ip)
            else:
                tick_record(item=subject, actor=member, now=now, ip=ip)
        else:
            acknowledged = 0
            for escalation in open_escalations:
                if escalation.status == EscalationStatus.OPEN and escalation_can_acknowledge(escalation=escalation, member=member):
                    escalation_acknowledge(escalation=escalation, member=member, now=now, ip=ip)
                    acknowledged += 1
            if not acknowledged:
                raise _Refused(_("Nothing is waiting for your acknowledgement."))
    except (PermissionDenied, ValidationError) as exc:
        raise _Refused(" ".join(getattr(exc, "messages", [str(exc)]))) from exc


def card_action_apply(*, app: SuiteApp, event: CallbackEvent, now: datetime, ip: str | None = None):
    """(outcome sentence, the updated card or None). The person must be linked, active, and the message theirs."""
    with translation.override(settings.LANGUAGE_CODE):
        link = SuiteLink.objects.filter(app=app, suite_user_id=event.suite_user_id, is_active=True).select_related("member__user").first()
        if link is None or not link.member.is_active:
            logger.warning("suite card pressed by an unlinked user: team %s %s user %s", app.team_id, app.kind, event.suite_user_id)
            return _("Your suite account is not linked to OpsTeam. Ask your director."), None
        member = link.member
        notification = Notification.objects.filter(pk=event.notification_id, team_id=app.team_id).first()
        if notification is None or notification.recipient_id != member.pk:
            logger.warning(
                "suite card for notification %s pressed by someone else: team %s user %s", event.notification_id, app.team_id, member.pk
            )
            return _("This card was not sent to you."), None
        try:
            with transaction.atomic():
                done = CardAction.objects.create(
                    app=app, notification=notification, member=member, action=event.action, callback_id=event.callback_id[:200], at=now
                )
                _perform(action=event.action, notification=notification, member=member, now=now, ip=ip)
                done.outcome = _state(event.action, member, now)
                done.save(update_fields=["outcome"])
        except IntegrityError:
            # The vendor retried the callback, or the button was pressed again: it was done the first time.
            first = CardAction.objects.filter(notification=notification, action=event.action).first()
            state = first.outcome if first else ""
            logger.info("suite card action repeated: notification %s %s (%s)", notification.pk, event.action, event.callback_id)
            return state, notification_card(notification, member=member, app=app, state=state)
        except _Refused as exc:
            return str(exc), notification_card(notification, member=member, app=app)
        update_code = event.extra.get("response_code", "")
        # WeCom updates the card with the callback's single-use response_code; DingTalk sets the OA message's
        # status bar by its task_id; Feishu's card is replaced in the callback's answer.
        if (app.kind == "wecom" and update_code) or app.kind == "dingtalk":
            from checklists.notify.suites.tasks import suite_card_update_task

            transaction.on_commit(lambda: _enqueue(suite_card_update_task, done.pk, update_code))
        return done.outcome, notification_card(notification, member=member, app=app, state=done.outcome)


def _enqueue(task, *args) -> None:
    try:
        task.apply_async(args=args, retry=False)
    except Exception:
        logger.warning("could not enqueue the card update (is the broker down?)", exc_info=True)


def suite_links_deactivate(*, app: SuiteApp, user_ids, now: datetime) -> int:
    """People who left the organisation: their links stop signing in and receiving cards (the member stays)."""
    changed = SuiteLink.objects.filter(app=app, suite_user_id__in=[u for u in user_ids if u], is_active=True).update(
        is_active=False, deactivated_at=now
    )
    if changed:
        logger.info("suite app %s: %d links deactivated (left the organisation)", app.pk, changed)
    return changed
