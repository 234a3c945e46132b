"""Business time: the Asia/Shanghai calendar (STYLE §5). Services take `now` and use these."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings


def business_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_date(now: datetime) -> date:
    """The business date of an aware instant (never `now.date()`, which is UTC on a server)."""
    return now.astimezone(business_tz()).date()


def local_time(now: datetime) -> time:
    return now.astimezone(business_tz()).time()


def local_datetime(day: date, at: time) -> datetime:
    """An aware instant for a wall-clock time on a business date."""
    return datetime.combine(day, at, tzinfo=business_tz())


def parse_local(text: str) -> datetime:
    """'YYYY-MM-DD HH:MM' in business time, as the ops command takes it."""
    naive = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")  # noqa: DTZ007 - made aware on the next line
    return naive.replace(tzinfo=business_tz())
