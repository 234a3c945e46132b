"""Login throttling (django-axes) wired to OpsTeam: locked per username + IP, and per IP across usernames, for a
cool-off, pages and API alike."""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db.models import Sum


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses a username+IP that is locked out; authenticates nobody itself (ModelBackend does, after it).

    Every real login passes the request (the login form, the token endpoint). Only code paths without a
    request (the test client's login(), a shell) reach here with None: nothing to throttle, so let them through
    instead of raising as axes does.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class MemberModelBackend(ModelBackend):
    """Django's username/password backend; a logged-in request reads its user with the member in one query.

    Every page asks for the member behind the login (roles.selectors.member_get_for_user), its roles and
    whether it covers anyone (Checklist.visible_to): read with the user (roles.authentication.user_by_id),
    they cost no further round trip.
    """

    def get_user(self, user_id):
        from roles.authentication import user_by_id

        user = user_by_id(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class LoginThrottleHandler(AxesDatabaseHandler):
    """AXES_HANDLER: axes' own count per username + IP, and a second, higher limit per IP across usernames.

    axes compares one count with one limit (AXES_FAILURE_LIMIT), so ten usernames guessed four times each from one
    address locked nothing (issue 15). Here an address with OPSTEAM_LOGIN_IP_FAILURE_LIMIT failures in the cool-off,
    whatever the usernames, counts as at the limit for every username it tries. The limit is higher than the
    per-login one because a shop office shares one address. A successful login clears that login's failures at that
    address (AXES_RESET_ON_SUCCESS), which also takes them out of the address's count; it never clears the failures
    of other usernames, so one valid account does not reset the count for guesses at the others.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        if failures >= settings.AXES_FAILURE_LIMIT:
            return failures
        if address_failures(request) >= settings.OPSTEAM_LOGIN_IP_FAILURE_LIMIT:
            request.opsteam_address_locked = True  # the lock-out page and the token endpoint say why
            return settings.AXES_FAILURE_LIMIT
        return failures


def address_failures(request) -> int:
    """Failed logins from the request's address within the cool-off, all usernames together."""
    recent = AccessAttempt.objects.filter(ip_address=request.axes_ip_address, attempt_time__gte=get_cool_off_threshold(request))
    return recent.aggregate(total=Sum("failures_since_start"))["total"] or 0


def lockout_minutes() -> int:
    return max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the cool-off page (429) saying how long to wait."""
    from django.shortcuts import render

    context = {"cooloff_minutes": lockout_minutes(), "address_locked": getattr(request, "opsteam_address_locked", False)}
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(lockout_minutes() * 60)
    return response
