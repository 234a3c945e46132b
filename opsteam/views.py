"""Project-level pages: the home redirect and the health check."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect


def home(request: HttpRequest) -> HttpResponse:
    return redirect("today" if request.user.is_authenticated else "login")


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for a load balancer: the process answers and the database accepts a query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
