"""The outbox's rows: a flush claims due deliveries, then marks each sent, failed (with back-off) or released.

Every way out (emails and robots in services/notifications, suite cards in notify/suites/deliver) writes a
claimed row through here, only ever a row the same flush claimed (status sending, stamped with its `now`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F

from checklists.models import Delivery, DeliveryStatus
from roles.models import Team

STALE_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(hours=1)
CLAIM_LIMIT = 500


def backoff(attempts: int) -> timedelta:
    """After the n-th failed attempt wait 2**n minutes, at most an hour."""
    return min(timedelta(minutes=2**attempts), MAX_BACKOFF)


def claim(*, now: datetime, team: Team | None, handled: set[int]) -> list[int]:
    """Due pending rows become `sending`, stamped with `now`. skip_locked: rows another flush is claiming are left to it.

    `handled`: rows this flush already dealt with (e.g. deferred for a full robot minute) are not claimed again.
    """
    with transaction.atomic():
        due = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        if team is not None:
            due = due.filter(team=team)
        if handled:
            due = due.exclude(pk__in=handled)
        ids = list(due.order_by("next_attempt_at", "id").select_for_update(skip_locked=True).values_list("pk", flat=True)[:CLAIM_LIMIT])
        if ids:
            Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.PENDING).update(status=DeliveryStatus.SENDING, claimed_at=now)
    return ids


def claimed(ids: Iterable[int], now: datetime):
    """Only rows this flush claimed (status sending, stamped with its `now`): a row reclaimed meanwhile is not touched."""
    return Delivery.objects.filter(pk__in=list(ids), status=DeliveryStatus.SENDING, claimed_at=now)


def claimed_mark_sent(ids: list[int], *, now: datetime, send_id=None) -> int:
    return claimed(ids, now).update(
        status=DeliveryStatus.SENT, sent_at=now, send_id=send_id, attempts=F("attempts") + 1, error_code="", error="", claimed_at=None
    )


def claimed_mark_failed(
    deliveries: list[Delivery], *, now: datetime, code: str, error: str, summary, send_id=None, final: bool = False
) -> None:
    give_up = final
    for delivery in deliveries:
        attempts = delivery.attempts + 1
        final = give_up or attempts >= MAX_ATTEMPTS
        changed = claimed([delivery.pk], now).update(
            status=DeliveryStatus.FAILED if final else DeliveryStatus.PENDING,
            attempts=attempts,
            next_attempt_at=now if final else now + backoff(attempts),
            error_code=code[:40],
            error=error,
            send_id=send_id,
            claimed_at=None,
        )
        if changed:
            if final:
                summary.failed += 1
            else:
                summary.retrying += 1


def claimed_release(ids: list[int], *, now: datetime) -> int:
    """Back to pending untouched (not an attempt): the robot's minute is full, the next flush sends them."""
    return claimed(ids, now).update(status=DeliveryStatus.PENDING, claimed_at=None)
