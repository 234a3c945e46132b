"""A remembered phone's session slides on while it is used (issue 17)."""

from __future__ import annotations

from django.utils import timezone

from roles.services.devices import SESSION_FLAG, device_slide


class RememberedDeviceMiddleware:
    """After AuthenticationMiddleware: a session remembered at login is pushed out once a day of use; others untouched.

    Only sessions holding the flag are looked at, so a shared computer's 12-hour session costs nothing here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_FLAG):
            device_slide(request=request, now=timezone.now())
        return self.get_response(request)
