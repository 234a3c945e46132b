"""Template context shared by every page."""

from django.http import HttpRequest


def member(request: HttpRequest) -> dict:
    """The signed-in user's team membership (set by roles.access.member_required), else looked up once."""
    current = getattr(request, "member", None)
    if current is None:
        from roles.selectors import member_get_for_user

        user = getattr(request, "user", None)
        current = member_get_for_user(user=user) if user is not None and user.is_authenticated else None
    return {"current_member": current}
