"""Remembered phones (sessions kept for weeks) and changes a phone made under its own key (issue 17)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import IntegrityError, transaction

from opsteam.lib.idempotency import idempotency_key_clean
from roles.models import ClientChange, Member, RememberedDevice

T = TypeVar("T")
SESSION_FLAG = "remembered_device"
# How often a remembered session is written again to slide its end: once a day, not at every request.
SLIDE_EVERY = timedelta(days=1)
UA_MAX = 300


def remember_age() -> timedelta:
    return timedelta(days=settings.OPSTEAM_REMEMBER_DEVICE_DAYS)


def device_remember(*, request, member: Member, now: datetime) -> RememberedDevice:
    """After a login with "记住这台手机": the session lasts OPSTEAM_REMEMBER_DEVICE_DAYS and survives closing the browser."""
    request.session.set_expiry(int(remember_age().total_seconds()))
    request.session[SESSION_FLAG] = now.isoformat()
    request.session.save()  # the key must exist to be recorded (and login() has just cycled it)
    device, _created = RememberedDevice.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "member": member,
            "user_agent": request.headers.get("User-Agent", "")[:UA_MAX],
            "last_seen_at": now,
            "expires_at": now + remember_age(),
        },
    )
    return device


def device_slide(*, request, now: datetime) -> bool:
    """A remembered session used again: once a day its end moves to now + the remembered age. Returns whether it moved."""
    seen = request.session.get(SESSION_FLAG)
    if not seen:
        return False
    try:
        last = datetime.fromisoformat(seen)
    except (TypeError, ValueError):
        last = None
    if last is not None and now - last < SLIDE_EVERY:
        return False
    request.session[SESSION_FLAG] = now.isoformat()  # modified: saved with a fresh expiry by SessionMiddleware
    request.session.set_expiry(int(remember_age().total_seconds()))
    RememberedDevice.objects.filter(session_key=request.session.session_key).update(last_seen_at=now, expires_at=now + remember_age())
    return True


def device_list(*, member: Member, now: datetime) -> list[RememberedDevice]:
    """A member's remembered phones still signed in (expired ones are removed on the way)."""
    RememberedDevice.objects.filter(member=member, expires_at__lte=now).delete()
    return list(RememberedDevice.objects.filter(member=member))


def device_list_for_team(*, team_id: int, now: datetime) -> list[RememberedDevice]:
    """The director's view: every member's remembered phones still signed in."""
    rows = RememberedDevice.objects.filter(member__team_id=team_id, expires_at__gt=now).select_related("member")
    return list(rows.order_by("member__display_name", "-last_seen_at"))


@transaction.atomic
def device_revoke(*, device: RememberedDevice) -> None:
    """Sign the phone out: its session is deleted, so its next request goes to the login page."""
    Session.objects.filter(session_key=device.session_key).delete()
    device.delete()


def device_forget_session(*, session_key: str | None) -> None:
    """At logout: the phone is no longer remembered."""
    if session_key:
        RememberedDevice.objects.filter(session_key=session_key).delete()


def client_change_once(*, member: Member, key: str | None, now: datetime, change: Callable[[], T]) -> tuple[T | None, bool]:
    """Run `change()` once per (member, key). Returns (its result, True), or (None, False) for a key already used.

    The key's row and the change commit together: a change refused (ValidationError) leaves no key behind, so the
    phone may send it again; a change made and its answer lost is, sent again, recognised and not made twice.
    Two sends at once: the unique constraint roles_clientchange_once_per_key lets one insert, the other waits and fails.
    """
    key = idempotency_key_clean(key)
    if key is None:
        return change(), True
    if ClientChange.objects.filter(member=member, key=key).exists():
        return None, False
    try:
        with transaction.atomic():
            ClientChange.objects.create(member=member, key=key, at=now)
            return change(), True
    except IntegrityError:
        if ClientChange.objects.filter(member=member, key=key).exists():
            return None, False
        raise
