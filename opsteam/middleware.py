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


class NulCharacterMiddleware:
    """A NUL character in a query string or form field is refused with 400 before any view sees it.

    PostgreSQL text cannot hold NUL: a note typed (or pasted, or fuzzed) with one would fail deep in the
    database as a 500. Django's forms refuse it, but pages that read request.POST directly would not.
    The API's serializers refuse it themselves (DRF's CharField), so JSON bodies are left to them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._has_nul(request.GET) or (request.method == "POST" and self._has_nul(request.POST)):
            message = _("The text contains a character that cannot be saved (NUL). Remove it and try again.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=400)
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _has_nul(data) -> bool:
        return any("\x00" in key or any("\x00" in value for value in data.getlist(key)) for key in data)


class MethodNotAllowedPageMiddleware:
    """A page URL opened with the wrong method (a bookmarked or pasted form address) gets a page saying so.

    Django's require_POST answers 405 with an empty body, which a browser shows as a blank page. The API's
    405 stays DRF's JSON; the Allow header is kept.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or response.content or request.path.startswith("/api/"):
            return response
        page = HttpResponse(loader.render_to_string("405.html", request=request), status=405)
        if response.has_header("Allow"):
            page["Allow"] = response["Allow"]
        return page
