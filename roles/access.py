"""Access helpers: who is signed in as which member. Views go through these, never ad-hoc ifs."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils.translation import gettext as _

from roles.selectors import Level, member_get_for_user, member_level


def login_again_response(request) -> HttpResponse:
    """A request from the page's script (htmx, the tick queue) after the session ended: 401 and where to log in.

    Not the login page itself (it was drawn inside the card, issue 17), and not a login that comes back to the POST's
    address: `next` is the page the request was made from (HX-Current-URL), so the member returns to the same day.
    The page's script keeps what it was sending and sends it again after the login.
    """
    current = request.headers.get("HX-Current-URL", "")
    host = request.get_host()
    path = "/today/"
    for prefix in ("https://" + host, "http://" + host):
        if current.startswith(prefix):
            path = current[len(prefix) :] or "/"
            break
    login_url = redirect_to_login(path).url
    response = HttpResponse(_("Your session has ended. Log in again; what you did is kept and sent after."), status=401)
    response["HX-Redirect"] = login_url
    response["X-Login-URL"] = login_url
    response["Cache-Control"] = "no-store"
    return response


def member_required(view):
    """Login required, and the user must be an active member of an active team (request.member)."""

    @wraps(view)
    def entry(request, *args, **kwargs):
        if not request.user.is_authenticated and request.headers.get("HX-Request"):
            return login_again_response(request)
        return wrapper(request, *args, **kwargs)

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        member = member_get_for_user(user=request.user)
        if member is None:
            raise PermissionDenied(_("Your login is not a member of any team. Ask your director to add you."))
        request.member = member
        return view(request, *args, **kwargs)

    return entry


def member_is_lead_or_above(member) -> bool:
    return member_level(member=member) in (Level.LEAD, Level.DIRECTOR, Level.ADMIN)
