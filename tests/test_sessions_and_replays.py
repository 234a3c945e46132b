"""Issue 17 (1): a phone stays signed in when asked, can be signed out by its member and the director, a tick sent
after the session ended is answered so the page can log in and send it again, and a phone's key makes a replay one
change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from checklists.models import ChecklistItem, TickEvent
from roles.models import RememberedDevice
from roles.services.devices import SESSION_FLAG
from tests.factories import PASSWORD

PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
DESKTOP_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


def login(client, member, *, remember: bool, ua: str = PHONE_UA):
    data = {"username": member.user.username, "password": PASSWORD}
    if remember:
        data["remember"] = "1"
    response = client.post("/accounts/login/", data, HTTP_USER_AGENT=ua)
    assert response.status_code == 302, response.content[:500]
    return response


def test_the_login_page_ticks_remember_this_phone_on_a_phone_and_not_on_a_computer(client, db):
    phone = client.get("/accounts/login/", HTTP_USER_AGENT=PHONE_UA).content.decode()
    computer = client.get("/accounts/login/", HTTP_USER_AGENT=DESKTOP_UA).content.decode()
    assert 'name="remember" value="1" id="id_remember" checked' in phone
    assert 'name="remember" value="1" id="id_remember" data-remember-phone' in computer
    assert "记住这台手机" in phone


def test_a_remembered_phone_stays_signed_in_for_thirty_days_and_past_closing_the_browser(client, warehouse_member, settings):
    login(client, warehouse_member, remember=True)
    session = client.session
    assert session.get_expire_at_browser_close() is False
    assert abs(session.get_expiry_age() - 30 * 86400) < 5
    device = RememberedDevice.objects.get(member=warehouse_member)
    assert device.session_key == session.session_key
    assert "iPhone" in device.user_agent


def test_a_shared_computer_keeps_the_twelve_hour_rule(client, warehouse_member):
    login(client, warehouse_member, remember=False, ua=DESKTOP_UA)
    session = client.session
    assert session.get_expire_at_browser_close() is True
    assert session.get_expiry_age() == 12 * 3600
    assert not RememberedDevice.objects.exists()


def test_a_remembered_session_slides_on_once_a_day_of_use(client, warehouse_member):
    login(client, warehouse_member, remember=True)
    session = client.session
    session[SESSION_FLAG] = (timezone.now() - timedelta(days=2)).isoformat()
    session.save()
    RememberedDevice.objects.update(expires_at=timezone.now() + timedelta(days=28))
    client.get("/today/")
    device = RememberedDevice.objects.get()
    assert device.expires_at > timezone.now() + timedelta(days=29, hours=23)
    stored = Session.objects.get(session_key=device.session_key)
    assert stored.expire_date > timezone.now() + timedelta(days=29, hours=23)


def test_a_remembered_phone_asking_for_the_health_check_or_the_service_worker_reads_no_session(client, warehouse_member):
    # The sliding read every request's session: /healthz/ then answered the outage page, not its report, with the
    # database away (tests/faults), and each /sw.js check cost a query.
    login(client, warehouse_member, remember=True)
    session = client.session
    session[SESSION_FLAG] = (timezone.now() - timedelta(days=2)).isoformat()
    session.save()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/sw.js").status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]


def test_a_member_signs_a_remembered_phone_out_from_their_page(client, warehouse_member):
    phone = client.__class__()
    login(phone, warehouse_member, remember=True)
    client.force_login(warehouse_member.user)
    device = RememberedDevice.objects.get()
    page = client.get("/account/phones/").content.decode()
    assert f"/account/phones/{device.pk}/revoke/" in page
    assert client.post(f"/account/phones/{device.pk}/revoke/").status_code == 302
    assert not RememberedDevice.objects.exists()
    assert phone.get("/today/")["Location"].startswith("/accounts/login/")


def test_the_director_sees_and_signs_out_a_members_phone_and_nobody_else_can(client, warehouse_member, warehouse_teammate, director):
    phone = client.__class__()
    login(phone, warehouse_member, remember=True)
    device = RememberedDevice.objects.get()
    client.force_login(warehouse_teammate.user)
    assert client.post(f"/account/phones/{device.pk}/revoke/").status_code == 404
    assert client.get(f"/account/phones/?member={warehouse_member.pk}").status_code == 404
    client.force_login(director.user)
    page = client.get("/account/phones/").content.decode()
    assert warehouse_member.display_name in page
    assert f"/account/phones/{device.pk}/revoke/" in page
    assert client.post(f"/account/phones/{device.pk}/revoke/").status_code == 302
    assert phone.get("/today/").status_code == 302


def test_logging_out_forgets_the_phone(client, warehouse_member):
    login(client, warehouse_member, remember=True)
    client.post("/accounts/logout/")
    assert not RememberedDevice.objects.exists()


@pytest.fixture
def wh_item(warehouse_member, generate, frozen):
    generate()
    return ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")


def test_a_tick_after_the_session_ended_is_a_401_sending_the_member_back_to_the_same_day(client, wh_item, warehouse_member):
    response = client.post(
        f"/items/{wh_item.pk}/tick/",
        {"action": "done"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver/today/?member={warehouse_member.pk}",
    )
    assert response.status_code == 401
    assert response["HX-Redirect"] == f"/accounts/login/?next=/today/%3Fmember%3D{warehouse_member.pk}"
    assert "<html" not in response.content.decode()  # not a login page drawn inside the card
    wh_item.refresh_from_db()
    assert wh_item.status == "open"


def test_a_change_sent_again_with_its_key_is_recorded_once_even_after_a_later_change(client, wh_item, warehouse_member):
    client.force_login(warehouse_member.user)
    tick = {"HTTP_HX_REQUEST": "true", "HTTP_X_CLIENT_KEY": "phone-key-1"}
    assert client.post(f"/items/{wh_item.pk}/tick/", {"action": "done"}, **tick).status_code == 200
    assert client.post(f"/items/{wh_item.pk}/untick/", HTTP_HX_REQUEST="true", HTTP_X_CLIENT_KEY="phone-key-2").status_code == 200
    # The tick's answer was lost and the phone sends it again: it was already made, nothing new is recorded.
    assert client.post(f"/items/{wh_item.pk}/tick/", {"action": "done"}, **tick).status_code == 200
    wh_item.refresh_from_db()
    assert wh_item.status == "open"
    assert list(TickEvent.objects.filter(item=wh_item).order_by("at", "id").values_list("action", flat=True)) == ["tick", "untick"]


def test_a_refused_change_from_the_queue_is_a_422_with_its_reason_and_leaves_the_key_free(
    client, wh_item, warehouse_member, warehouse_lead
):
    from checklists.daily.ticks import tick_record

    tick_record(item=wh_item, actor=warehouse_lead, status="not_done", note="仓库停电")
    client.force_login(warehouse_member.user)
    response = client.post(f"/items/{wh_item.pk}/tick/", {"action": "done"}, HTTP_HX_REQUEST="true", HTTP_X_CLIENT_KEY="k-refused")
    assert response.status_code == 422
    from urllib.parse import unquote

    assert "Undo it first" in unquote(response["X-Refusal"]) or "撤销" in unquote(response["X-Refusal"])
    assert 'class="errors"' in response.content.decode()
    from roles.models import ClientChange

    assert not ClientChange.objects.filter(key="k-refused").exists()


def test_the_service_worker_is_served_at_the_root_with_the_whole_site_as_its_scope(client, db):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert b'addEventListener("fetch"' in response.content


def test_the_page_is_installable_with_a_manifest_and_png_icons(logged_in_page_html):
    from pathlib import Path

    from django.conf import settings
    from PIL import Image

    assert 'rel="manifest"' in logged_in_page_html
    import json

    manifest = json.loads((Path(settings.BASE_DIR) / "static" / "manifest.webmanifest").read_text())
    assert manifest["start_url"] == "/today/"
    assert manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        with Image.open(Path(settings.BASE_DIR) / icon["src"].lstrip("/")) as image:
            assert f"{image.width}x{image.height}" == icon["sizes"]


@pytest.fixture
def logged_in_page_html(client, wh_item, warehouse_member):
    client.force_login(warehouse_member.user)
    return client.get("/today/").content.decode()


def test_the_today_page_queues_its_forms_and_says_what_waits(logged_in_page_html, wh_item):
    assert f'data-queue data-item="{wh_item.pk}"' in logged_in_page_html
    assert 'id="sync"' in logged_in_page_html
    assert "待同步" in logged_in_page_html
    assert "js/queue.js" in logged_in_page_html
