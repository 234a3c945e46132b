"""API authentication: the token, its user and the user's member in one query (issue 8)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


class MemberTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`: the token, its user and the user's member and team in one query.

    DRF's own reads the token and user, then every view reads the member: two round trips before any work,
    a third of a tick's (issue 8). roles.selectors.member_get_for_user uses the member read here.
    """

    def authenticate_credentials(self, key):
        try:
            token = Token.objects.select_related("user__member__team").get(key=key)
        except (Token.DoesNotExist, ValueError):
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token
