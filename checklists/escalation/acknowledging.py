"""Acknowledging an escalation: who may, one, all of mine, and by the one-click link in a message."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from checklists.escalation.notifying import ACK_SALT
from checklists.models import (
    Escalation,
    EscalationStatus,
    Notification,
    NotifyWhom,
)
from roles.models import Member
from roles.selectors import member_led_role_ids


def escalation_can_acknowledge(*, escalation: Escalation, member: Member) -> bool:
    """The member it was sent to, a lead of its role, or the director; a director's level only the director."""
    if escalation.team_id != member.team_id:
        return False
    if member.is_director or member.user.is_superuser or escalation.recipient_id == member.pk:
        return True
    if escalation.notify == NotifyWhom.DIRECTOR:
        # The level that tells the director a role is behind must not be silenced by that role's lead.
        return False
    if escalation.role_id is not None and escalation.role_id in member_led_role_ids(member=member):
        return True
    # A role duty's reminder goes to every member of the role, but the escalation records only one of them.
    return escalation.notifications.filter(recipient=member).exists()


@transaction.atomic
def escalation_acknowledge(*, escalation: Escalation, member: Member, now: datetime, ip: str | None = None) -> Escalation:
    """Stops the repeats of this level; the next level still comes if the item stays open. Idempotent."""
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    if not escalation_can_acknowledge(escalation=escalation, member=member):
        raise PermissionDenied(_("This escalation was not sent to you."))
    if escalation.status != EscalationStatus.OPEN:
        return escalation
    escalation.status = EscalationStatus.ACKNOWLEDGED
    escalation.acknowledged_at = now
    escalation.acknowledged_by = member
    escalation.acknowledged_ip = ip
    escalation.next_repeat_at = None
    escalation.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "acknowledged_ip", "next_repeat_at"])
    return escalation


def escalation_acknowledge_all_mine(*, member: Member, now: datetime, ip: str | None = None) -> int:
    """Every open escalation sent to the member, acknowledged in one statement."""
    return Escalation.objects.filter(team_id=member.team_id, recipient=member, status=EscalationStatus.OPEN).update(
        status=EscalationStatus.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=member, acknowledged_ip=ip, next_repeat_at=None
    )


def _ack_link_read(token: str) -> dict:
    try:
        return signing.loads(token, salt=ACK_SALT, max_age=settings.OPSTEAM_ACK_LINK_MAX_AGE_HOURS * 3600)
    except signing.SignatureExpired:
        raise ValidationError(_("This link has expired. Open OpsTeam to acknowledge.")) from None
    except signing.BadSignature:
        raise ValidationError(_("This link is not valid.")) from None


def _ack_link_notification(data: dict, *, lock: bool) -> Notification:
    rows = Notification.objects.select_related("recipient__user", "team")
    notification = (rows.select_for_update(of=("self",)) if lock else rows).filter(pk=data.get("n")).first()
    if notification is None or notification.recipient_id != data.get("m"):
        raise ValidationError(_("This link is not valid."))
    if notification.ack_used_at is not None:
        raise ValidationError(_("This link was already used."))
    return notification


def escalation_ack_link_check(*, token: str) -> Notification:
    """The message a one-click link acknowledges, if the link is still good; changes nothing.

    Opening the link shows a button: chat apps and mail scanners fetch links to preview them, and a
    preview must not acknowledge on the person's behalf.
    """
    return _ack_link_notification(_ack_link_read(token), lock=False)


def escalation_acknowledge_by_link(*, token: str, now: datetime, ip: str | None = None) -> tuple[Notification, int]:
    """The one-click link in a message: signed, expires, single use. Acknowledges the message's escalations."""
    data = _ack_link_read(token)
    with transaction.atomic():
        # Single use: the first confirmation stamps the notification; a second one is refused.
        notification = _ack_link_notification(data, lock=True)
        notification.ack_used_at = now
        notification.read_at = notification.read_at or now
        notification.save(update_fields=["ack_used_at", "read_at"])
        count = 0
        for escalation in notification.escalations.filter(status=EscalationStatus.OPEN):
            escalation_acknowledge(escalation=escalation, member=notification.recipient, now=now, ip=ip)
            count += 1
    return notification, count
