"""Access helpers: who is signed in as which member. Views go through these, never ad-hoc ifs."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from roles.selectors import Level, member_get_for_user, member_level


def member_required(view):
    """Login required, and the user must be an active member of an active team (request.member)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        member = member_get_for_user(user=request.user)
        if member is None:
            raise PermissionDenied(_("Your login is not a member of any team. Ask your director to add you."))
        request.member = member
        return view(request, *args, **kwargs)

    return wrapper


def member_is_lead_or_above(member) -> bool:
    return member_level(member=member) in (Level.LEAD, Level.DIRECTOR, Level.ADMIN)
