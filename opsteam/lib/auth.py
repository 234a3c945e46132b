"""Login throttling (django-axes) wired to OpsTeam: locked per username + IP, for a cool-off, pages and API alike."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import ModelBackend


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
    whether it covers anyone (Checklist.visible_to): read with the user (opsteam.authentication.user_by_id),
    they cost no further round trip.
    """

    def get_user(self, user_id):
        from opsteam.authentication import user_by_id

        user = user_by_id(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def lockout_minutes() -> int:
    from django.conf import settings

    return max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the cool-off page (429) saying how long to wait."""
    from django.shortcuts import render

    response = render(request, "registration/locked_out.html", {"cooloff_minutes": lockout_minutes()}, status=429)
    response["Retry-After"] = str(lockout_minutes() * 60)
    return response
