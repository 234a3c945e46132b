"""When the database is away: 503 with Retry-After (a friendly page, or JSON for the API), never a 500."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 that touches no database: no session, no user, no context processors."""
    # The broken connection must not be reused by the next request on this thread; a new one is opened then.
    close_old_connections()
    retry = str(settings.OPSTEAM_RETRY_AFTER_SECONDS)
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        detail = _("The database is not available for a moment; nothing was changed. Try again shortly.")
        response: HttpResponse = JsonResponse({"detail": detail, "code": "database_unavailable"}, status=503)
    else:
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = retry
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Outermost middleware. process_exception catches the views; exceptions raised inside other middleware
    (sessions, login) become Django's 500 handler, which is opsteam.views.server_error and does the same."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        except DATABASE_ERRORS:  # only when DEBUG_PROPAGATE_EXCEPTIONS lets it come this far
            logger.warning("database unavailable for %s", request.path, exc_info=True)
            return database_unavailable_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_ERRORS):
            logger.warning("database unavailable for %s: %s", request.path, exception)
            return database_unavailable_response(request)
        return None
