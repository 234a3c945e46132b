"""Personal messages through the shop's suite app: the card for a notification, and the outbox's suite deliveries.

A notification to a member linked to the shop's active suite app gets a Delivery of channel "suite" in the
same transaction as the others (services.notifications). The flush claims it like any delivery and calls
suite_deliveries_flush: one card per delivery, to the member's suite user. A rate-limited answer puts the
rest of the batch back to wait (not an attempt) and schedules a flush with Celery's countdown for when the
vendor allows it again; an expired token is renewed once and the call repeated; a user the suite does not
know fails at once (no retry can help) and shows on the channels page with its reason and a retry button.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from checklists.models import DeliveryStatus, EscalationStatus, ItemStatus, Notification, TaskStatus
from checklists.notify import outbox
from checklists.notify.suites import adapter_for, call_with_token
from checklists.notify.suites.base import CallResult, Card, CardButton, Failure, TokenRefused
from checklists.notify.suites.models import SuiteApp, SuiteLink, SuiteMessage
from checklists.notify.suites.tokens import TokenUnavailable
from roles.models import Member

logger = logging.getLogger("opsteam.suites")

ACT_SALT = "opsteam.suites.act"


def act_token(*, notification_id: int, action: str, member_id: int) -> str:
    """A DingTalk card button's link: signed (SECRET_KEY), bound to the notification, action and person."""
    return signing.dumps({"n": notification_id, "a": action, "m": member_id}, salt=ACT_SALT, compress=True)


def _absolute(path: str) -> str:
    return settings.OPSTEAM_BASE_URL + path if path.startswith("/") else path


def _subjects(notification: Notification) -> tuple[list, list]:
    """(open escalations, open subjects) the card's buttons act on."""
    escalations = list(notification.escalations.select_related("item", "task"))
    open_escalations = [e for e in escalations if e.status == EscalationStatus.OPEN]
    subjects = []
    for escalation in escalations:
        if escalation.item_id and escalation.item.status == ItemStatus.OPEN:
            subjects.append(escalation.item)
        elif escalation.task_id and escalation.task.status == TaskStatus.OPEN:
            subjects.append(escalation.task)
    unique = list({(type(s).__name__, s.pk): s for s in subjects}.values())
    return open_escalations, unique


def notification_card(notification: Notification, *, member: Member, app: SuiteApp, state: str = "", send_key: str = "") -> Card:
    """完成 when the message is about one open item or duty, 确认收到 while an escalation is open, 打开 always."""
    with translation.override(settings.LANGUAGE_CODE):
        open_escalations, subjects = _subjects(notification) if not state else ([], [])
        buttons: list[CardButton] = []
        wanted = []
        if len(subjects) == 1:
            wanted.append(("done", pgettext("card button", "Done")))
        if open_escalations:
            wanted.append(("ack", pgettext("card button", "Got it")))
        for action, label in wanted:
            url = ""
            if app.kind == "dingtalk":
                token = act_token(notification_id=notification.pk, action=action, member_id=member.pk)
                url = _absolute(reverse("suite-act", args=[token]))
            buttons.append(CardButton(action=action, label=label, url=url))
        target = reverse("notification-open", args=[notification.pk])
        open_url = _absolute(reverse("suite-app", args=[app.team.slug]) + "?next=" + target)
        buttons.append(CardButton(action="open", label=pgettext("card button", "Open"), url=open_url))
        title = f"[{_('Urgent')}] {notification.title}" if notification.urgent else notification.title
        page_url = ""
        if app.kind == "dingtalk":
            # An OA message has one link: the page listing this card's buttons (views.suite_act, action "card").
            card_token = act_token(notification_id=notification.pk, action="card", member_id=member.pk)
            page_url = _absolute(reverse("suite-act", args=[card_token]))
        waiting = pgettext("card status", "To do") if len(buttons) > 1 else pgettext("card status", "For your information")
    return Card(
        notification_id=notification.pk,
        title=title,
        text=notification.body,
        url=open_url,
        buttons=tuple(buttons),
        state=state,
        urgent=notification.urgent,
        send_key=send_key,
        page_url=page_url,
        waiting=waiting,
    )


def suite_deliveries_flush(deliveries: list, *, now: datetime, summary) -> None:
    """Send the claimed suite deliveries (rows in status `sending`, claimed at `now`) through each team's app."""
    by_team: dict[int, list] = defaultdict(list)
    for delivery in deliveries:
        by_team[delivery.team_id].append(delivery)
    for team_id, group in by_team.items():
        _flush_team(team_id, group, now=now, summary=summary)


def _flush_team(team_id: int, group: list, *, now: datetime, summary) -> None:
    app = SuiteApp.objects.filter(team_id=team_id, is_active=True).select_related("team").first()
    if app is None:
        summary.skipped += outbox.claimed([d.pk for d in group], now).update(
            status=DeliveryStatus.SKIPPED, error="the suite app is switched off", claimed_at=None
        )
        return
    recipients = {d.notification.recipient_id for d in group}
    links = {link.member_id: link for link in SuiteLink.objects.filter(app=app, member_id__in=recipients, is_active=True)}
    adapter = adapter_for(app)
    for index, delivery in enumerate(group):
        notification = delivery.notification
        link = links.get(notification.recipient_id)
        if link is None:
            summary.skipped += outbox.claimed([delivery.pk], now).update(
                status=DeliveryStatus.SKIPPED, error="not linked to the suite any more", claimed_at=None
            )
            continue
        card = notification_card(notification, member=notification.recipient, app=app, send_key=f"ops{delivery.pk}a{delivery.attempts}")
        result = _send(app, adapter, user_id=link.suite_user_id, card=card)
        if result.ok:
            SuiteMessage.objects.create(
                delivery=delivery,
                notification=notification,
                link=link,
                vendor_ref=result.data.get("vendor_ref", "")[:128],
                update_code=result.data.get("update_code", "")[:256],
                sent_at=now,
            )
            summary.sent += outbox.claimed_mark_sent([delivery.pk], now=now)
        elif result.failure == Failure.RATE:
            delay = result.retry_after or settings.OPSTEAM_SUITE_RATE_DELAY_SECONDS
            waiting = [d.pk for d in group[index:]]
            summary.deferred += outbox.claimed(waiting, now).update(
                status=DeliveryStatus.PENDING, claimed_at=None, next_attempt_at=now + timedelta(seconds=delay)
            )
            logger.info("suite app %s rate limited (%s): %d messages wait %d s", app.pk, result.code, len(waiting), delay)
            _flush_later(team_id=team_id, seconds=delay + 1)
            return
        else:
            code = result.code or str(result.failure)
            outbox.claimed_mark_failed(
                [delivery],
                now=now,
                code=code,
                error=(result.message or str(result.failure))[:500],
                summary=summary,
                final=result.failure == Failure.USER,
            )


def _send(app: SuiteApp, adapter, *, user_id: str, card: Card) -> CallResult:
    try:
        return call_with_token(app, adapter, lambda token: adapter.send_card(token, user_id=user_id, card=card))
    except TokenRefused as exc:
        # Wrong app key or secret: the director fixes them on the settings page; the messages retry with back-off.
        return CallResult(ok=False, failure=Failure.OTHER, code=exc.result.code or "token", message=exc.result.message or "token refused")
    except TokenUnavailable as exc:
        return CallResult(ok=False, failure=Failure.NETWORK, code="token-lock", message=str(exc)[:200])
    except Exception as exc:  # a bug must not leave the rest of the batch claimed
        logger.exception("suite app %s: sending a card failed", app.pk)
        return CallResult(ok=False, failure=Failure.OTHER, code="error", message=type(exc).__name__)


def _flush_later(*, team_id: int, seconds: int) -> None:
    """Celery's countdown brings the flush back when the vendor allows sending again; the minute's beat flush is the fallback."""
    from opsteam.lib.queue import task_enqueue

    try:
        task_enqueue("checklists.deliveries_flush", args=(team_id,), countdown=seconds, retry=False)
    except Exception:
        logger.warning("could not schedule the delayed flush; the flush_deliveries job sends the messages", exc_info=True)


def suite_card_update(*, app: SuiteApp, notification: Notification, member: Member, state: str, update_code: str) -> CallResult:
    """After a button: change the person's card (WeCom: update_template_card with the callback's response_code;
    DingTalk: the OA message's status bar, by the send's task_id)."""
    message = (
        SuiteMessage.objects.filter(notification=notification, link__member=member).select_related("link").order_by("-sent_at").first()
    )
    if message is None:
        return CallResult(ok=True, data={"updated": False})
    adapter = adapter_for(app)
    card = notification_card(notification, member=member, app=app, state=state)
    return call_with_token(
        app,
        adapter,
        lambda token: adapter.update_card(
            token,
            user_id=message.link.suite_user_id,
            vendor_ref=message.vendor_ref,
            update_code=update_code or message.update_code,
            card=card,
        ),
    )
