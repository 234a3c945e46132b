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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from checklists.models import Channel, Delivery, DeliveryStatus, Notification, Robot
from checklists.notify.suites.links import suite_linked
from opsteam.lib.queue import task_enqueue
from roles.models import Member, Role, Team

logger = logging.getLogger(__name__)


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
    # What happened and its values, rendered in the reader's language on the page (checklists.notify.words).
    event: str = ""
    values: dict | None = None


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
    event: str = "",
    values: dict | None = None,
) -> Notification:
    """The in-app notification and, in the same transaction, its email and robot deliveries. With an `event`
    (checklists.notify.words) the page shows its words in the reader's language."""
    spec = NotificationSpec(
        event=event,
        values=values,
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
                    event=spec.event,
                    values=spec.values or {},
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


def absolute_url(url: str) -> str:
    if url.startswith("/"):
        return settings.OPSTEAM_BASE_URL + url
    return url


__all__ = [
    "NotificationSpec",
    "absolute_url",
    "deliveries_flush_enqueue",
    "delivery_retry_now",
    "notification_create",
    "notification_create_many",
    "notification_ids_reserve",
    "notification_mark_read",
    "pg_array",
]
