"""A database outage answers 503 with a friendly page (JSON for the API), not 500; /healthz/ tells the load balancer."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient


def _down(*args, **kwargs):
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")


# transaction=True: the second request must not run inside the test's own transaction, which PostgreSQL (as a
# real outage would) leaves unusable after the first request's error.
@pytest.mark.django_db(transaction=True)
def test_a_page_answers_503_with_the_friendly_page_while_the_database_is_down(warehouse_member, frozen):
    client = Client()
    client.force_login(warehouse_member.user)
    with mock.patch("checklists.daily.views.today_page_read", _down):
        response = client.get("/today/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "系统正在恢复" in response.content.decode()
    assert client.get("/today/").status_code == 200  # and by itself again once it is back


def test_the_api_answers_a_json_503(warehouse_member, frozen):
    client = APIClient()
    client.force_authenticate(warehouse_member.user)
    with mock.patch("checklists.daily.api.checklist_list", _down):
        response = client.get("/api/v1/checklists/")
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert response["Retry-After"] == "30"


def test_an_outage_met_inside_middleware_is_a_503_too(warehouse_member):
    client = Client(raise_request_exception=False)
    client.force_login(warehouse_member.user)
    with mock.patch("opsteam.sessions.SessionStore.load", side_effect=InterfaceError("connection already closed")):
        response = client.get("/today/")
    assert response.status_code == 503
    assert "系统正在恢复" in response.content.decode()


def test_other_errors_still_answer_500(warehouse_member):
    client = Client(raise_request_exception=False)
    client.force_login(warehouse_member.user)
    with mock.patch("checklists.daily.views.today_page_read", side_effect=RuntimeError("a bug")):
        response = client.get("/today/")
    assert response.status_code == 500


@pytest.mark.django_db
def test_healthz_reports_database_broker_and_beat():
    PeriodicTask.objects.filter(name="escalate").update(last_run_at=timezone.now() - timedelta(minutes=2))
    body = Client().get("/healthz/").json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"]
    assert body["checks"]["broker"]["ok"]
    assert body["checks"]["beat"]["ok"]


@pytest.mark.django_db
def test_a_stopped_beat_keeps_the_web_in_the_pool_but_strict_monitoring_sees_it():
    PeriodicTask.objects.update(last_run_at=timezone.now() - timedelta(hours=1))
    response = Client().get("/healthz/")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["beat"]["ok"] is False
    assert Client().get("/healthz/?strict=1").status_code == 503


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_is_down():
    with mock.patch("opsteam.views._database_check", return_value=(False, "OperationalError")):
        response = Client().get("/healthz/")
    assert response.status_code == 503
    assert response.json()["status"] == "down"


@pytest.mark.django_db
def test_healthz_reports_an_unreachable_broker(settings):
    from opsteam.celery import app

    with mock.patch.object(app, "connection_for_write", side_effect=ConnectionRefusedError(111, "refused")):
        body = Client().get("/healthz/?strict=1")
    assert body.status_code == 503
    assert body.json()["checks"]["broker"] == {"ok": False, "detail": "ConnectionRefusedError"}
