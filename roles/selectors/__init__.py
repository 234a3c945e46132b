"""Reads for teams, members and the working-day calendar."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import chinese_calendar
from django.core.mail import mail_admins
from django.db import IntegrityError, transaction
from django.db.models import Prefetch

from roles.models import CalendarGap, CalendarOverride, Cover, Member, MemberRole, Role, Team

logger = logging.getLogger(__name__)


class Level:
    """Permission levels, lowest first (issue 2)."""

    STAFF = "staff"
    LEAD = "lead"
    DIRECTOR = "director"
    ADMIN = "admin"


def member_level(*, member: Member) -> str:
    if member.user.is_superuser:
        return Level.ADMIN
    if member.is_director:
        return Level.DIRECTOR
    if any(link.is_lead for link in member_role_links(member=member)):
        return Level.LEAD
    return Level.STAFF


def member_role_links(*, member: Member) -> list[MemberRole]:
    """The member's roles, cached on the instance for the request.

    Read here with each link's role; the login (roles.authentication, for tokens and sessions) caches the
    links without their roles, so callers use role_id and is_lead.
    """
    cached = getattr(member, "_role_links", None)
    if cached is None:
        cached = list(member.role_links.select_related("role"))
        member._role_links = cached
    return cached


def member_led_role_ids(*, member: Member) -> set[int]:
    return {link.role_id for link in member_role_links(member=member) if link.is_lead}


def member_get_for_user(*, user) -> Member | None:
    if not user.is_authenticated:
        return None
    if Member.user.field.related_model.member.is_cached(user):
        # Read with the user in the same query (roles.authentication.MemberTokenAuthentication): no second round trip.
        member = getattr(user, "member", None)
        return member if member is not None and member.is_active and member.team.is_active else None
    try:
        return Member.objects.select_related("team", "user").get(user=user, is_active=True, team__is_active=True)
    except Member.DoesNotExist:
        return None


def member_list_with_roles(*, team: Team, members=None):
    qs = members if members is not None else Member.objects.filter(team=team)
    return qs.active().select_related("user").prefetch_related(Prefetch("role_links", queryset=MemberRole.objects.select_related("role")))


def role_lead_get(*, role: Role) -> Member | None:
    link = MemberRole.objects.select_related("member").filter(role=role, is_lead=True).first()
    return link.member if link else None


def cover_map_for_date(*, team: Team, day: date) -> dict[int, int]:
    """{absent member id: covering member id} for the day. One cover per absent member wins: the latest."""
    result: dict[int, int] = {}
    for cover in Cover.objects.filter(team=team).on(day).order_by("start_date", "id"):
        result[cover.absent_id] = cover.cover_id
    return result


def workday_is(*, team: Team, day: date) -> bool:
    """Is `day` a working day for the team? Team overrides, then the Chinese calendar with 调休.

    For a year the calendar package does not know yet, Monday-Friday, and the admins are told once.
    """
    return workdays_in(team=team, start=day, end=day)[day]


def workdays_in(*, team: Team, start: date, end: date) -> dict[date, bool]:
    """Is each day from start to end a working day for the team (workday_is's rule), the overrides in one query?"""
    overrides = dict(CalendarOverride.objects.filter(team=team, date__range=(start, end)).values_list("date", "is_workday"))
    days: dict[date, bool] = {}
    day = start
    while day <= end:
        if day in overrides:
            days[day] = overrides[day]
        else:
            try:
                days[day] = chinese_calendar.is_workday(day)
            except NotImplementedError:
                _calendar_gap_warn(year=day.year)
                days[day] = day.weekday() < 5
        day += timedelta(days=1)
    return days


def _calendar_gap_warn(*, year: int) -> None:
    try:
        with transaction.atomic():
            CalendarGap.objects.create(year=year)
    except IntegrityError:
        return  # already warned: several workers may reach this at once, the unique year decides
    message = (
        f"The holiday calendar does not know {year} yet: OpsTeam treats Monday-Friday as working days. "
        f"Update the chinese-calendar package or add the year's holidays and 调休 days as calendar overrides."
    )
    logger.warning(message)
    mail_admins(f"OpsTeam: no holiday calendar for {year}", message, fail_silently=True)


def member_list_actable_by(*, viewer: Member) -> list[Member]:
    """Members whose day the viewer may open and tick for: a lead's role members, the director's whole team."""
    led = None
    if not (viewer.is_director or viewer.user.is_superuser):
        led = member_led_role_ids(member=viewer)
        if not led:  # staff: nobody (and no query, read on every today page)
            return []
    members = Member.objects.filter(team_id=viewer.team_id).active().exclude(pk=viewer.pk)
    if led is not None:
        members = members.filter(role_links__role_id__in=led).distinct()
    return list(members.order_by("display_name"))
