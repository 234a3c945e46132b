"""Template context shared by every page."""

from django.http import HttpRequest


def member(request: HttpRequest) -> dict:
    """The signed-in user's team membership, or None (admins and anonymous users have none)."""
    user = getattr(request, "user", None)
    return {"current_member": getattr(user, "member", None) if user and user.is_authenticated else None}
