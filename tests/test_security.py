"""Accounts (issue 7): login throttling per username+IP with a cool-off, CSRF, CSP, sessions, check --deploy, client IPs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone, translation
from rest_framework.test import APIClient

from checklists.models import ChecklistItem
from opsteam.lib.net import client_ip, networks_parse
from roles.services import member_create
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
LOGIN = "/accounts/login/"


def _login(client: Client, username: str, password: str, ip: str = "198.51.100.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


# --- login throttling -------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_that_username_from_that_address(warehouse_member):
    client = Client()
    for _ in range(4):
        assert _login(client, "wh1", "wrong").status_code == 200  # the form again, with its error
    locked = _login(client, "wh1", "wrong")
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(15 * 60)
    # Even the right password is refused during the cool-off.
    assert _login(client, "wh1", PASSWORD).status_code == 429


def test_a_lock_does_not_block_the_same_login_from_another_address_or_colleagues_behind_the_same_ip(warehouse_member, warehouse_teammate):
    client = Client()
    for _ in range(5):
        _login(client, "wh1", "wrong", ip="198.51.100.1")
    assert _login(client, "wh1", "wrong", ip="198.51.100.1").status_code == 429
    # The shop office shares one address: a colleague still logs in.
    assert _login(Client(), "wh2", PASSWORD, ip="198.51.100.1").status_code == 302
    # The same worker on their phone's network.
    assert _login(Client(), "wh1", PASSWORD, ip="203.0.113.9").status_code == 302


def test_the_lock_ends_by_itself_after_the_cool_off(warehouse_member):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            _login(Client(), "wh1", "wrong")
        assert _login(Client(), "wh1", PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert _login(Client(), "wh1", PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert _login(Client(), "wh1", PASSWORD).status_code == 302


def test_the_api_token_endpoint_is_throttled_the_same_way_with_a_clear_message(warehouse_member):
    client = APIClient()
    for _ in range(4):
        response = client.post("/api/v1/auth/token/", {"username": "wh1", "password": "wrong"}, format="json", REMOTE_ADDR="198.51.100.7")
        assert response.status_code == 400
    fifth = client.post("/api/v1/auth/token/", {"username": "wh1", "password": "wrong"}, format="json", REMOTE_ADDR="198.51.100.7")
    assert fifth.status_code == 429
    with translation.override("en"):
        locked = client.post(
            "/api/v1/auth/token/",
            {"username": "wh1", "password": PASSWORD},
            format="json",
            REMOTE_ADDR="198.51.100.7",
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert locked.status_code == 429
    assert "Try again in 15 minutes" in locked.json()["detail"]
    other_ip = client.post("/api/v1/auth/token/", {"username": "wh1", "password": PASSWORD}, format="json", REMOTE_ADDR="198.51.100.8")
    assert other_ip.status_code == 200


def test_the_login_counts_failures_from_the_forwarded_address_of_a_trusted_proxy(warehouse_member):
    with override_settings(OPSTEAM_TRUSTED_PROXIES=["10.0.0.0/8"]):
        for _ in range(5):
            Client().post(LOGIN, {"username": "wh1", "password": "wrong"}, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.20")
        blocked = Client().post(
            LOGIN, {"username": "wh1", "password": PASSWORD}, REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR="198.51.100.20"
        )
        other = Client().post(
            LOGIN, {"username": "wh1", "password": PASSWORD}, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.21"
        )
    assert blocked.status_code == 429  # the client, not the proxy, is what is locked
    assert other.status_code == 302


# --- passwords ----------------------------------------------------------------------------------------


def test_creating_a_login_applies_the_password_validators(team):
    with pytest.raises(ValidationError):
        member_create(team=team, username="newbie", password="12345678", display_name="新人")
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="newbie").exists()
    assert member_create(team=team, username="newbie", password="仓库-早班-2026-安全", display_name="新人").user.check_password(
        "仓库-早班-2026-安全"
    )


# --- CSRF ---------------------------------------------------------------------------------------------


@pytest.fixture
def wh_item(warehouse_member, generate):
    generate()
    return ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")


def test_a_session_authenticated_api_call_without_the_csrf_token_is_refused(warehouse_member, wh_item, frozen):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(warehouse_member.user)
    refused = client.post(f"/api/v1/checklist-items/{wh_item.pk}/tick/", {}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in str(refused.json())
    client.get("/today/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    allowed = client.post(f"/api/v1/checklist-items/{wh_item.pk}/tick/", {}, format="json", HTTP_X_CSRFTOKEN=token)
    assert allowed.status_code == 200


def test_a_token_authenticated_api_call_needs_no_csrf_token(warehouse_member, wh_item, frozen):
    from rest_framework.authtoken.models import Token

    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=warehouse_member.user).key}")
    assert client.post(f"/api/v1/checklist-items/{wh_item.pk}/tick/", {}, format="json").status_code == 200


def test_a_page_form_posted_without_the_csrf_token_is_refused(warehouse_member, wh_item, frozen):
    client = Client(enforce_csrf_checks=True)
    client.force_login(warehouse_member.user)
    assert client.post(f"/items/{wh_item.pk}/tick/").status_code == 403
    wh_item.refresh_from_db()
    assert wh_item.done_at is None


TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
POST_FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.S | re.I)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_post_form_carries_the_csrf_token(path):
    token = "{% csrf_token %}"
    for body in POST_FORM.findall(path.read_text(encoding="utf-8")):
        assert token in body, f"a POST form in {path.name} has no {token}"


# --- Content Security Policy ---------------------------------------------------------------------------

INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_has_inline_script_the_csp_would_block(path):
    text = path.read_text(encoding="utf-8")
    assert not INLINE_HANDLER.search(text), f"{path.name}: inline event handler; use static/js/app.js (data-autosubmit, data-print)"
    assert not INLINE_SCRIPT.search(text), f"{path.name}: inline <script>; move it to a static file"


def test_pages_send_a_content_security_policy_without_inline_script(warehouse_member, frozen):
    client = Client()
    client.force_login(warehouse_member.user)
    policy = client.get("/today/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"


# --- sessions -------------------------------------------------------------------------------------------


def test_a_session_lasts_a_shift_and_ends_when_the_browser_closes(warehouse_member, settings):
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    client = Client()
    response = _login(client, "wh1", PASSWORD)
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert not cookie["expires"]
    assert not cookie["max-age"]
    assert client.session.get_expiry_age() <= 12 * 3600
    with time_machine.travel(timezone.now() + timedelta(hours=12, minutes=1)):
        assert client.get("/today/").status_code == 302  # back to the login page


# --- production settings -----------------------------------------------------------------------------------


def test_check_deploy_is_clean_with_the_production_settings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opsteam.settings.production",
        "SECRET_KEY": "x7!kq2-production-like-secret-for-the-deploy-check-4f9a0c1e8d7b6a5f4e3d2c1b0a9f8e7d",
        "DATABASE_URL": "postgres://opsteam@db.internal:5432/opsteam",
        "CELERY_BROKER_URL": "redis://:secret@redis.internal:6379/0",
        "ALLOWED_HOSTS": "ops.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://ops.example.com",
        "OPSTEAM_BASE_URL": "https://ops.example.com",
        "SECURE_HSTS_SECONDS": "31536000",
        "OPSTEAM_TRUSTED_PROXIES": "10.0.0.0/8",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


# --- the client's address -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.5", "", [], "203.0.113.5"),
        ("203.0.113.5", "1.2.3.4", [], "203.0.113.5"),  # no trusted proxy: the header is anyone's
        ("203.0.113.5", "1.2.3.4", ["10.0.0.0/8"], "203.0.113.5"),  # sent straight to us, not via our proxy
        ("10.0.0.2", "198.51.100.3", ["10.0.0.0/8"], "198.51.100.3"),
        ("10.0.0.2", "6.6.6.6, 198.51.100.3", ["10.0.0.0/8"], "198.51.100.3"),  # a forged left part is ignored
        ("10.0.0.2", "198.51.100.3, 10.0.0.9", ["10.0.0.0/8"], "198.51.100.3"),  # two proxies of ours
        ("10.0.0.2", "not-an-ip", ["10.0.0.0/8"], "10.0.0.2"),
        ("10.0.0.2", "[2001:db8::7]:443", ["10.0.0.2"], "2001:db8::7"),
    ],
)
def test_the_recorded_ip_is_the_client_seen_by_our_trusted_proxies(remote, forwarded, trusted, expected, settings):
    settings.OPSTEAM_TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_a_malformed_trusted_proxy_stops_start_up():
    with pytest.raises(ImproperlyConfigured, match="not an IP address"):
        networks_parse("OPSTEAM_TRUSTED_PROXIES", ["10.0.0.0/8", "proxy.internal"])


def test_ticks_record_the_forwarded_client_address(warehouse_member, wh_item, frozen, settings):
    settings.OPSTEAM_TRUSTED_PROXIES = ["10.0.0.0/8"]
    client = Client()
    client.force_login(warehouse_member.user)
    client.post(f"/items/{wh_item.pk}/tick/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.44")
    assert wh_item.events.get().ip == "198.51.100.44"


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_switches_escaping_off(path):
    """User text (notes, names, minutes) is escaped by the template, or sanitised by the markdown filter (nh3)."""
    text = path.read_text(encoding="utf-8")
    assert "|safe" not in text, f"{path.name}: |safe; render Markdown with |markdown (nh3) or let the template escape"
    assert "autoescape off" not in text, f"{path.name}: autoescape off"


def test_mark_safe_is_used_only_where_the_html_was_built_safely():
    # nh3 allow-list; format_html parts
    audited = {
        "opsteam/lib/text.py",
        "roles/templatetags/board_tags.py",
    }
    found = {
        str(p.relative_to(ROOT))
        for folder in ("opsteam", "roles", "checklists")
        for p in (ROOT / folder).rglob("*.py")
        if "mark_safe(" in p.read_text(encoding="utf-8")
    }
    assert found <= audited, f"new mark_safe in {found - audited}: check that everything in it is escaped or sanitised"
