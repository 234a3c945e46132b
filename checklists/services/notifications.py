"""Notifications and their outbox: write them (in-app, email and robot deliveries in one transaction), deliver them.

Delivery guarantees. A notification and its deliveries commit together; the flush task is only a nudge
(enqueued on commit; if the broker is down the beat job `flush_deliveries` finds the rows within a minute).
`deliveries_flush` claims due rows with `select_for_update(skip_locked=True)` and marks them `sending`, so
two flushes never pick the same row, and only then makes the HTTP call or sends the email.

The one at-least-once window: a worker that dies after the robot or mail server accepted a message but
before the row was marked `sent` leaves it `sending`; after outbox.STALE_AFTER (5 minutes) the next flush puts
it back to `pending` and sends it again. Everything else is exactly once.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _

from checklists.models import Channel, Delivery, DeliveryStatus, EscalationStatus, Notification, Robot
from checklists.models.notifications import robot_webhook_problem
from checklists.notify import outbox
from checklists.notify.suites.deliver import suite_deliveries_flush
from checklists.notify.suites.links import suite_linked
from checklists.services.robots import RobotMessage, robot_deliver, robot_message_chunks, robot_reserve_sends
from opsteam.lib.queue import task_enqueue
from roles.models import Member, Role, Team

logger = logging.getLogger(__name__)

MAX_BATCHES = 10


@dataclass(frozen=True)
class NotificationSpec:
    """One notification to write; `not_before` already has quiet hours applied by the caller."""

    recipient: Member
    kind: str
    title: str
    body: str
    not_before: datetime
    url: str = ""
    role: Role | None = None
    urgent: bool = False
    escalations: Sequence = ()
    # An id from notification_ids_reserve, so that the body can link to the notification itself.
    pk: int | None = None


# --- writing ---------------------------------------------------------------------------------------


def notification_create(
    *,
    team: Team,
    recipient: Member,
    kind: str,
    title: str,
    body: str,
    url: str = "",
    role: Role | None = None,
    urgent: bool = False,
    escalations: Sequence = (),
    not_before: datetime,
    now: datetime,
) -> Notification:
    """The in-app notification and, in the same transaction, its email and robot deliveries."""
    spec = NotificationSpec(
        recipient=recipient,
        kind=kind,
        title=title,
        body=body,
        url=url,
        role=role,
        urgent=urgent,
        escalations=escalations,
        not_before=not_before,
    )
    return notification_create_many(team=team, specs=[spec], now=now)[0]


def notification_ids_reserve(*, count: int) -> list[int] | None:
    """`count` ids for notifications not written yet (PostgreSQL: from the table's sequence), or None elsewhere.

    With them a caller writes a body that links to its own notification (the one-click acknowledge link) in
    the INSERT, instead of an UPDATE of every body once the rows exist.
    """
    if connection.vendor != "postgresql" or count == 0:
        return None
    table = Notification._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
        return [row[0] for row in cursor.fetchall()]


def notification_create_many(*, team: Team, specs: Iterable[NotificationSpec], now: datetime) -> list[Notification]:
    """Many notifications in a fixed number of queries (a sweep may notify hundreds): 2 reads, then 3 bulk inserts.

    Email goes to a recipient with an address who wants email; a robot delivery to every active robot
    of the team whose role is empty (the whole team) or the notification's role.
    """
    specs = list(specs)
    if not specs:
        return []
    for spec in specs:
        if spec.recipient.team_id != team.pk:
            raise ValidationError(_("A notification can only go to a member of the team."))
    robots = list(Robot.objects.filter(team=team, is_active=True))
    # Issue 21: in the same read, who is linked to the team's active suite app (their personal card).
    contacts = list(
        Member.objects.filter(pk__in={s.recipient.pk for s in specs})
        .annotate(in_suite=suite_linked())
        .values_list("pk", "user__email", "notify_by_email", "in_suite")
    )
    wants_email = {pk for pk, email, by_email, _suite in contacts if email and by_email}
    wants_suite = {pk for pk, _email, _by_email, in_suite in contacts if in_suite}
    with transaction.atomic():
        notifications = Notification.objects.bulk_create(
            [
                Notification(
                    pk=spec.pk,
                    team=team,
                    recipient=spec.recipient,
                    role=spec.role,
                    kind=spec.kind,
                    title=spec.title[:200],
                    body=spec.body,
                    url=spec.url,
                    urgent=spec.urgent,
                    created_at=now,
                )
                for spec in specs
            ]
        )
        _links_write(notifications, specs)
        deliveries = []
        for notification, spec in zip(notifications, specs, strict=True):
            row = {
                "team": team,
                "notification": notification,
                "not_before": spec.not_before,
                "next_attempt_at": spec.not_before,
                "created_at": now,
            }
            if spec.recipient.pk in wants_email:
                deliveries.append(Delivery(channel=Channel.EMAIL, **row))
            if spec.recipient.pk in wants_suite:
                deliveries.append(Delivery(channel=Channel.SUITE, **row))
            role_id = spec.role.pk if spec.role else None
            deliveries.extend(Delivery(channel=Channel.ROBOT, robot=robot, **row) for robot in robots if robot.role_id in (None, role_id))
        Delivery.objects.bulk_create(deliveries)
        if any(d.next_attempt_at <= now for d in deliveries):
            _nudge_on_commit(team_id=team.pk)
    return notifications


def pg_array(values: Iterable) -> str:
    """A PostgreSQL array literal ('{1,NULL,"a b"}') of ints, strings or datetimes, for a `%s::<type>[]` parameter.

    psycopg adapts a list element by element in Python: a thousand timestamps cost over 2 ms, and a
    steady-state sweep sends ten such lists (issue 8). The literal is one string, parsed by PostgreSQL.
    """
    values = values if isinstance(values, list) else list(values)
    if all(value is None or type(value) is int for value in values):
        # Ids (most of the lists): "None" can only come from None among digits and commas.
        return "{" + ",".join(map(str, values)).replace("None", "NULL") + "}"
    # Timestamps and labels repeat (a thousand items share a few due times): each distinct value is quoted once.
    quoted: dict = {}
    return "{" + ",".join([quoted.get(v) or quoted.setdefault(v, _pg_array_element(v)) for v in values]) + "}"


def _pg_array_element(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_LINKS_INSERT = """
INSERT INTO checklists_notification_escalations (notification_id, escalation_id) SELECT * FROM unnest(%s::bigint[], %s::bigint[])
"""


def _links_write(notifications: list[Notification], specs: list[NotificationSpec]) -> None:
    """Each notification's escalations (the many-to-many rows)."""
    through = Notification.escalations.through
    pairs = [
        (notification.pk, getattr(escalation, "pk", escalation))
        for notification, spec in zip(notifications, specs, strict=True)
        for escalation in spec.escalations
    ]
    if not pairs:
        return
    if connection.vendor == "postgresql":
        # A catch-up links thousands: two arrays in one statement, not a model instance per row.
        with connection.cursor() as cursor:
            cursor.execute(_LINKS_INSERT, [pg_array(n for n, _e in pairs), pg_array(e for _n, e in pairs)])
        return
    through.objects.bulk_create(through(notification_id=n, escalation_id=e) for n, e in pairs)


@dataclass(frozen=True)
class _FlushNudge:
    """The on-commit callback; equal nudges compare equal so a transaction registers one per team."""

    team_id: int | None

    def __call__(self) -> None:
        deliveries_flush_enqueue(team_id=self.team_id)


def _nudge_on_commit(*, team_id: int | None) -> None:
    """One flush per transaction and team: a sweep calling notification_create for hundreds of people enqueues once.

    Looks at the connection's pending on-commit callbacks (Django keeps (savepoints, func, robust) tuples);
    a duplicate would only cost an idle flush, so an unexpected shape just registers another.
    """
    nudge = _FlushNudge(team_id=team_id)
    connection = transaction.get_connection()
    pending = getattr(connection, "run_on_commit", [])
    if connection.in_atomic_block and any(len(entry) > 1 and entry[1] == nudge for entry in pending):
        return
    transaction.on_commit(nudge)


def deliveries_flush_enqueue(*, team_id: int | None = None) -> bool:
    """Nudge a worker to flush now. A broker outage is logged, not raised: the beat job flushes within a minute."""
    try:
        task_enqueue("checklists.deliveries_flush", args=(team_id,), retry=False)
    except Exception:
        logger.warning("Could not enqueue the delivery flush (is the broker down?); the flush_deliveries job sends them", exc_info=True)
        return False
    return True


def notification_mark_read(
    *, member: Member, notification_ids: Iterable[int] | None = None, all_unread: bool = False, now: datetime
) -> int:
    """Mark the member's own notifications read (the ids given, or every unread one). Returns how many changed."""
    rows = Notification.objects.filter(recipient=member, read_at__isnull=True)
    if not all_unread:
        rows = rows.filter(pk__in=list(notification_ids or []))
    return rows.update(read_at=now)


def delivery_retry_now(*, delivery: Delivery, actor: Member, now: datetime) -> Delivery:
    """The director's "retry now": a waiting or failed delivery goes out at the next flush (a failed one gets its attempts back)."""
    if not (actor.is_director or actor.user.is_superuser):
        raise PermissionDenied(_("Only the director can retry deliveries."))
    if delivery.status not in (DeliveryStatus.PENDING, DeliveryStatus.FAILED):
        raise ValidationError(_("This message is not waiting or failed; there is nothing to retry."))
    updates = {"status": DeliveryStatus.PENDING, "next_attempt_at": max(now, delivery.not_before), "claimed_at": None}
    if delivery.status == DeliveryStatus.FAILED:
        updates["attempts"] = 0
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk, status=delivery.status).update(**updates)
        _nudge_on_commit(team_id=delivery.team_id)
    delivery.refresh_from_db()
    return delivery


# --- delivering ------------------------------------------------------------------------------------


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


def absolute_url(url: str) -> str:
    if url.startswith("/"):
        return settings.OPSTEAM_BASE_URL + url
    return url


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


__all__ = [
    "FlushSummary",
    "NotificationSpec",
    "absolute_url",
    "deliveries_flush",
    "deliveries_flush_enqueue",
    "delivery_retry_now",
    "notification_create",
    "notification_create_many",
    "notification_ids_reserve",
    "notification_mark_read",
    "pg_array",
]
