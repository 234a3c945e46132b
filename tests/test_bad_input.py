"""Bad input gets a 4xx with a message a shop worker understands, never a 500 (issue 7)."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from checklists.models import ChecklistItem, TickEvent

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def api(warehouse_member):
    client = APIClient()
    client.force_authenticate(warehouse_member.user)
    return client


@pytest.fixture
def wh_item(warehouse_member, generate):
    generate()
    return ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")


def _tick(api, item, body, **extra):
    return api.post(f"/api/v1/checklist-items/{item.pk}/tick/", body, format="json", **EN, **extra)


def test_a_64_kb_note_is_refused_with_its_limit(api, wh_item, frozen):
    response = _tick(api, wh_item, {"note": "备" * 64 * 1024})
    assert response.status_code == 400
    assert "2000" in str(response.json()["note"])
    assert not TickEvent.objects.exists()


def test_a_body_over_the_upload_limit_is_refused_before_the_view(api, wh_item, frozen):
    body = json.dumps({"note": "x" * (3 * 1024 * 1024)})
    response = api.generic("POST", f"/api/v1/checklist-items/{wh_item.pk}/tick/", body, content_type="application/json", **EN)
    assert 400 <= response.status_code < 500
    assert not TickEvent.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "maybe"}, "status"),
        ({"value": "twelve"}, "value"),
        ({"value": [1, 2]}, "value"),
        ({"value": "1e400"}, "value"),
        ({"note": {"nested": True}}, "note"),
        ({"text_value": "x" * 501}, "text_value"),
    ],
)
def test_wrong_types_are_refused_with_the_field_named(api, wh_item, frozen, body, field):
    response = _tick(api, wh_item, body)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_a_body_that_is_not_json_is_refused(api, wh_item, frozen):
    response = api.generic("POST", f"/api/v1/checklist-items/{wh_item.pk}/tick/", "{not json", content_type="application/json", **EN)
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2026-02-30", "yesterday", "2026-11-23T08:00"])
def test_far_future_far_past_and_impossible_dates_are_refused(api, frozen, day):
    response = api.get(f"/api/v1/checklists/?date={day}", **EN)
    assert response.status_code == 400
    assert "date" in response.json()


@pytest.mark.parametrize(
    "path", ["/api/v1/checklist-items/999999/tick/", "/api/v1/checklist-items/abc/tick/", "/api/v1/tasks/999999/complete/"]
)
def test_unknown_ids_are_404(api, frozen, path):
    assert api.post(path, {}, format="json").status_code == 404


HUGE = "10274140084317931717708677644288"  # wider than any database integer (schemathesis found it)


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/meetings/?series={HUGE}",
        f"/api/v1/board/?role={HUGE}",
        f"/api/v1/checklists/?member={HUGE}",
        "/api/v1/meetings/?series=0",
    ],
)
def test_an_id_no_database_can_hold_is_refused_with_a_clear_message(api, frozen, path):
    response = api.get(path, **EN)
    assert response.status_code == 400, response.content
    assert "Not a valid ID" in json.dumps(response.json())


def test_a_page_size_no_database_can_hold_is_capped(api, director, frozen):
    from checklists.duties.services import task_create
    from tests.conftest import MONDAY

    for n in range(3):
        task_create(team=director.team, title=f"补货 {n}", due_at=MONDAY.replace(hour=18), source="recurring", now=MONDAY, owner=director)
    api.force_authenticate(director.user)
    response = api.get(f"/api/v1/tasks/?limit={HUGE}&offset=1")
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == 2


@pytest.mark.parametrize("path", [f"/api/v1/checklist-items/{HUGE}/tick/", f"/api/v1/tasks/{HUGE}/complete/"])
def test_an_id_too_wide_for_the_database_in_the_address_is_404(api, frozen, path):
    assert api.post(path, {}, format="json").status_code == 404


def test_unknown_ids_on_pages_are_404(warehouse_member, frozen):
    client = Client()
    client.force_login(warehouse_member.user)
    assert client.post("/items/999999/tick/").status_code == 404
    assert client.get("/tasks/999999/").status_code == 404
    assert client.get("/today/?member=abc").status_code == 404


@pytest.mark.parametrize(
    "note",
    [
        "✅📦🚚 补货完成 👍🏽",  # emoji, with a skin-tone modifier
        "مرحبا بالعالم ‮evil‬",  # right-to-left text and a bidi override
        "a\u0000b",  # NUL: PostgreSQL refuses it in text
        "e\u0301\u200d\ufeff",  # combining accent, zero-width joiner, BOM
    ],
)
def test_unicode_edge_cases_in_a_note_are_kept_or_refused_never_a_500(api, wh_item, frozen, note):
    response = _tick(api, wh_item, {"note": note})
    assert response.status_code in (200, 400), response.content
    if response.status_code == 200:
        assert TickEvent.objects.get().changes.get("note", note) == note or response.json()["note"] == note
    else:
        assert "note" in response.json()


def test_a_tick_note_is_escaped_where_it_is_shown(warehouse_member, wh_item, frozen):
    client = Client()
    client.force_login(warehouse_member.user)
    client.post(f"/items/{wh_item.pk}/tick/", {"note": '<script>alert("x")</script><img src=x onerror=alert(1)>'})
    page = client.get("/today/").content.decode()
    assert "<script>alert" not in page
    assert "<img src=x onerror" not in page


def test_a_nul_character_in_a_form_or_query_is_refused_before_it_reaches_the_database(warehouse_member, wh_item, frozen):
    client = Client()
    client.force_login(warehouse_member.user)
    response = client.post(f"/items/{wh_item.pk}/tick/", {"note": "a\x00b"}, **EN)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    assert not TickEvent.objects.exists()
    assert client.get("/today/?member=1%00", **EN).status_code == 400
