"""Project-level pages: the home redirect, the health check, and the 500 handler that knows a database outage."""

from __future__ import annotations

import sys
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect
from django.template import loader
from django.utils import timezone
from django.views.decorators.cache import never_cache

from opsteam.middleware import DATABASE_ERRORS, database_unavailable_response


def home(request: HttpRequest) -> HttpResponse:
    return redirect("landing" if request.user.is_authenticated else "login")


def _database_check() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DATABASE_ERRORS as exc:
        return False, exc.__class__.__name__
    return True, "ok"


def _broker_check() -> tuple[bool, str]:
    from opsteam.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # kombu raises the transport's own errors; any of them means "not reachable"
        return False, exc.__class__.__name__
    return True, "ok"


def _beat_check(now) -> tuple[bool, str]:
    """The latest run any periodic task recorded; beat saves them every few minutes (django-celery-beat)."""
    from django_celery_beat.models import PeriodicTask

    try:
        last = PeriodicTask.objects.filter(enabled=True).aggregate(last=Max("last_run_at"))["last"]
    except DATABASE_ERRORS:
        return False, "unknown"
    if last is None:
        return False, "never"
    ok = now - last <= timedelta(seconds=settings.OPSTEAM_HEALTH_BEAT_MAX_AGE_SECONDS)
    return ok, last.isoformat()


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For the load balancer: 503 only when this web server cannot serve (no database).

    Broker and beat are reported: without them pages and ticks still work (the outbox keeps notifications until
    the broker is back), so taking every web server out of the pool would only make things worse. Monitoring
    that wants to page someone for them asks ?strict=1, which answers 503 when any of the three fails.
    """
    now = timezone.now()
    db_ok, db_detail = _database_check()
    broker_ok, broker_detail = _broker_check()
    beat_ok, beat_detail = _beat_check(now) if db_ok else (False, "unknown")
    checks = {
        "database": {"ok": db_ok, "detail": db_detail},
        "broker": {"ok": broker_ok, "detail": broker_detail},
        "beat": {"ok": beat_ok, "last_run_at": beat_detail},
    }
    strict = request.GET.get("strict") in ("1", "true", "yes")
    healthy = db_ok and (not strict or (broker_ok and beat_ok))
    status = "ok" if db_ok and broker_ok and beat_ok else ("degraded" if db_ok else "down")
    return JsonResponse({"status": status, "checks": checks}, status=200 if healthy else 503)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage raised inside middleware (sessions, login) is a 503 too, not a 500."""
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_ERRORS):
        return database_unavailable_response(request)
    return HttpResponseServerError(loader.render_to_string("500.html"))


SERVICE_WORKER = settings.BASE_DIR / "static" / "sw.js"


def service_worker(request: HttpRequest) -> HttpResponse:
    """static/sw.js at /sw.js (issue 17): a worker's scope is at most its own folder, and the today page is at /today/."""
    response = HttpResponse(SERVICE_WORKER.read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"  # a new version is picked up at the next visit
    return response
