"""Reads for the bell, the notification list and the director's robots page."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from checklists.models import Delivery, DeliveryStatus, Notification, Robot, RobotSend
from opsteam.lib.db import prepared_cursor
from roles.models import Member


def notification_list(*, viewer: Member, unread: bool = False) -> QuerySet[Notification]:
    """The one access path to notifications: a member sees only their own."""
    rows = Notification.objects.filter(recipient=viewer)
    if unread:
        rows = rows.filter(read_at__isnull=True)
    return rows.order_by("-created_at", "-id")


# notification_list(viewer=member, unread=True).count(), written out: the bell is on every page, and the ORM's
# building of this one COUNT cost three times its run (issue 8). Prepared once per connection on PostgreSQL.
_UNREAD_COUNT = f"SELECT count(*) FROM {Notification._meta.db_table} WHERE recipient_id = %s AND read_at IS NULL"  # noqa: S608 (a table name)


def notification_unread_count(*, member: Member) -> int:
    """The bell: one COUNT on the (recipient, read_at) index."""
    with prepared_cursor() as cursor:
        cursor.execute(_UNREAD_COUNT, [member.pk])
        return cursor.fetchone()[0]


def notification_get(*, viewer: Member, notification_id: int) -> Notification:
    try:
        return notification_list(viewer=viewer).get(pk=notification_id)
    except Notification.DoesNotExist:
        raise Http404 from None


def robot_list(*, viewer: Member) -> QuerySet[Robot]:
    """The team's robots (director only, via Robot.visible_to), with how many deliveries wait or failed."""
    return (
        Robot.objects.visible_to(viewer)
        .select_related("role")
        .annotate(
            waiting=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING, deliveries__attempts__gt=0)),
            failed=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
        )
        .order_by("kind", "name")
    )


def robot_get(*, viewer: Member, robot_id: int) -> Robot:
    """Another team's robot (or a non-director asking) is 404: outside the viewer's scope."""
    try:
        return Robot.objects.visible_to(viewer).select_related("team", "role").get(pk=robot_id)
    except Robot.DoesNotExist:
        raise Http404 from None


def robot_send_list(*, viewer: Member, limit: int = 20) -> list[RobotSend]:
    """The latest calls to the team's robots, with the vendor's error code for failures."""
    return list(RobotSend.objects.filter(robot__in=Robot.objects.visible_to(viewer)).select_related("robot").order_by("-at", "-id")[:limit])


def delivery_attention_list(*, viewer: Member, limit: int = 50) -> list[Delivery]:
    """Deliveries that failed, or are waiting to be retried after a failure: what the director may want to retry."""
    if not (viewer.is_director or viewer.user.is_superuser):
        return []
    rows = Delivery.objects.filter(team_id=viewer.team_id).filter(
        Q(status=DeliveryStatus.FAILED) | Q(status=DeliveryStatus.PENDING, attempts__gt=0)
    )
    return list(rows.select_related("notification__recipient", "robot").order_by("-created_at", "-id")[:limit])


def delivery_get(*, viewer: Member, delivery_id: int) -> Delivery:
    if not (viewer.is_director or viewer.user.is_superuser):
        raise Http404
    try:
        return Delivery.objects.filter(team_id=viewer.team_id).get(pk=delivery_id)
    except Delivery.DoesNotExist:
        raise Http404 from None
