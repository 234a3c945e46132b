"""Sending the outbox: each due delivery claimed once, by email, robot (digests within its rate limit) or suite card."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _

from checklists.models import Channel, Delivery, DeliveryStatus, EscalationStatus, Notification
from checklists.notify import outbox
from checklists.notify.models import robot_webhook_problem
from checklists.notify.robots import RobotMessage, robot_deliver, robot_message_chunks, robot_reserve_sends
from checklists.notify.services import absolute_url
from checklists.notify.suites.deliver import suite_deliveries_flush
from roles.models import Team

logger = logging.getLogger(__name__)
MAX_BATCHES = 10


@dataclass
class FlushSummary:
    """What one flush did, for logs, the job runner and tests."""

    reclaimed: int = 0
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    robot_sends: int = 0

    def __str__(self) -> str:
        return " ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


def _resolved_notification_ids(notification_ids: set[int]) -> set[int]:
    """Notifications whose escalations are all resolved: the item was done meanwhile, nobody needs the message."""
    statuses: dict[int, list[str]] = defaultdict(list)
    through = Notification.escalations.through
    for notification_id, status in through.objects.filter(notification_id__in=notification_ids).values_list(
        "notification_id", "escalation__status"
    ):
        statuses[notification_id].append(status)
    return {nid for nid, found in statuses.items() if found and all(s == EscalationStatus.RESOLVED for s in found)}


def deliveries_flush(*, now: datetime, team: Team | None = None) -> FlushSummary:
    """Send what is due: one email per email delivery; per robot, as few messages as its rate limit needs (digests)."""
    summary = FlushSummary()
    stale = Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - outbox.STALE_AFTER)
    if team is not None:
        stale = stale.filter(team=team)
    summary.reclaimed = stale.update(status=DeliveryStatus.PENDING, claimed_at=None)

    handled: set[int] = set()
    # More than outbox.CLAIM_LIMIT due (a big sweep): keep going, batch after batch, so nothing waits for the next minute.
    for _batch in range(MAX_BATCHES):
        ids = outbox.claim(now=now, team=team, handled=handled)
        if not ids:
            break
        handled.update(ids)
        summary.claimed += len(ids)
        _flush_claimed(ids, now=now, summary=summary)
        if len(ids) < outbox.CLAIM_LIMIT:
            break
    logger.info("deliveries_flush %s", summary)
    return summary


def _flush_claimed(ids: list[int], *, now: datetime, summary: FlushSummary) -> None:
    deliveries = list(
        Delivery.objects.filter(pk__in=ids).select_related("notification__recipient__user", "robot").order_by("created_at", "id")
    )
    resolved = _resolved_notification_ids({d.notification_id for d in deliveries})
    skip = [d.pk for d in deliveries if d.notification_id in resolved or (d.robot_id and not d.robot.is_active)]
    if skip:
        summary.skipped += outbox.claimed(skip, now).update(status=DeliveryStatus.SKIPPED, claimed_at=None)
    skipped = set(skip)
    live = [d for d in deliveries if d.pk not in skipped]

    with translation.override(settings.LANGUAGE_CODE):
        _flush_emails([d for d in live if d.channel == Channel.EMAIL], now=now, summary=summary)
        suite = [d for d in live if d.channel == Channel.SUITE]
        if suite:
            suite_deliveries_flush(suite, now=now, summary=summary)
        by_robot: dict[int, list[Delivery]] = defaultdict(list)
        for delivery in live:
            if delivery.channel == Channel.ROBOT:
                by_robot[delivery.robot_id].append(delivery)
        for group in by_robot.values():
            try:
                _flush_robot(group, now=now, summary=summary)
            except Exception as exc:  # one robot's trouble must not stop the others
                logger.exception("Flushing robot %s failed", group[0].robot_id)
                outbox.claimed_mark_failed(group, now=now, code="error", error=str(exc)[:500], summary=summary)


def _email_message(delivery: Delivery, connection) -> EmailMessage:
    notification = delivery.notification
    lines = [notification.body]
    if notification.url:
        lines.append(_("Open: %(url)s") % {"url": absolute_url(notification.url)})
    subject = f"[{_('Urgent')}] {notification.title}" if notification.urgent else notification.title
    return EmailMessage(subject=subject, body="\n\n".join(lines), to=[notification.recipient.user.email], connection=connection)


def _flush_emails(deliveries: list[Delivery], *, now: datetime, summary: FlushSummary) -> None:
    if not deliveries:
        return
    connection = get_connection()
    try:
        for delivery in deliveries:
            recipient = delivery.notification.recipient
            if not (recipient.user.email and recipient.notify_by_email):
                # The address was removed (or email turned off) after the notification was written.
                summary.skipped += outbox.claimed([delivery.pk], now).update(
                    status=DeliveryStatus.SKIPPED, error="no email address", claimed_at=None
                )
                continue
            try:
                _email_message(delivery, connection).send()
            except Exception as exc:
                code = str(getattr(exc, "smtp_code", "") or type(exc).__name__)
                logger.warning("Email delivery %s failed: %s", delivery.pk, exc)
                outbox.claimed_mark_failed([delivery], now=now, code=code, error=str(exc)[:500], summary=summary)
            else:
                summary.sent += outbox.claimed_mark_sent([delivery.pk], now=now)
    finally:
        try:
            connection.close()
        except Exception:  # closing a broken SMTP connection must not undo the bookkeeping above
            logger.debug("closing the mail connection failed", exc_info=True)


def _without_personal_links(body: str) -> str:
    """A group chat must not carry the recipient's one-click acknowledge link: anyone in the group could use it.

    The link stays in the in-app notification and the email, which only the recipient reads.
    """
    try:
        prefix = reverse("ack-link", args=["TOKEN"]).split("TOKEN")[0]
    except NoReverseMatch:
        return body
    link = re.compile(r"\[[^\]]*\]\([^)\s]*" + re.escape(prefix) + r"[^)\s]*\)")
    bare = re.compile(r"\S*" + re.escape(prefix) + r"\S*")
    kept = [bare.sub("", link.sub("", line)).rstrip() for line in body.splitlines()]
    return "\n".join(line for line, original in zip(kept, body.splitlines(), strict=True) if line or not original.strip()).strip()


def _robot_message(delivery: Delivery) -> RobotMessage:
    notification = delivery.notification
    recipient = notification.recipient
    title = f"[{_('Urgent')}] {notification.title}" if notification.urgent else notification.title
    return RobotMessage(
        title=title,
        text=_without_personal_links(notification.body),
        url=absolute_url(notification.url),
        mobile=recipient.mobile,
        feishu_open_id=recipient.feishu_open_id,
        name=recipient.display_name,
    )


def _flush_robot(group: list[Delivery], *, now: datetime, summary: FlushSummary) -> None:
    """Everything waiting for one robot: one digest message (split only by the vendor's size limit), within its rate."""
    robot = group[0].robot
    problem = robot_webhook_problem(kind=robot.kind, url=robot.webhook_url)
    if problem:
        # An address saved before the vendor-host check (SSRF): never called, and no retry will change that,
        # so the messages fail at once instead of using eight attempts and the robot's per-minute sends.
        outbox.claimed_mark_failed(group, now=now, code="address", error=problem, summary=summary, final=True)
        return
    messages = [_robot_message(d) for d in group]
    chunks = robot_message_chunks(kind=robot.kind, messages=messages)
    sends = robot_reserve_sends(robot=robot, wanted=len(chunks), now=now)
    start = 0
    for index, chunk in enumerate(chunks):
        part = group[start : start + len(chunk)]
        start += len(chunk)
        if index >= len(sends):
            summary.deferred += outbox.claimed_release([d.pk for d in part], now=now)
            continue
        send = sends[index]
        result = robot_deliver(robot=robot, send=send, messages=chunk, now=now)
        summary.robot_sends += 1
        if result.ok:
            summary.sent += outbox.claimed_mark_sent([d.pk for d in part], now=now, send_id=send.send_id)
        else:
            outbox.claimed_mark_failed(
                part, now=now, code=result.error_code or "error", error=result.error, summary=summary, send_id=send.send_id
            )
