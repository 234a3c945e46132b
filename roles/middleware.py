"""A remembered phone's session slides on while it is used (issue 17)."""

from __future__ import annotations

from django.utils import timezone

from roles.services.devices import SESSION_FLAG, device_slide


class RememberedDeviceMiddleware:
    """After AuthenticationMiddleware: a session remembered at login is pushed out once a day of use; others untouched.

    Only sessions holding the flag are looked at, so a shared computer's 12-hour session costs nothing here. Only a
    request that read its session anyway is looked at (after its view, before SessionMiddleware saves it): reading
    it for every request made /healthz/ and /sw.js read the database, so the health check answered the outage page
    instead of its own report while the database was away.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.accessed and session.get(SESSION_FLAG):
            device_slide(request=request, now=timezone.now())
        return response
