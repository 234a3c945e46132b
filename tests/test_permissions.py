"""docs/permissions.md walked: every page and API endpoint, as each of six callers (issue 7).

Each (row, caller) is one request in its own rolled-back transaction, against one world built once for the
module (tests/permissions_world.py). A URL in the URLconf without a row in the table fails
test_every_url_has_a_row_in_the_permission_table.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework.test import APIClient

from checklists.models import Task
from roles.models import Member, MemberRole
from tests.permissions_world import ROLES, WORLD_NOW, world  # noqa: F401 - world is a fixture

TABLE = Path(__file__).resolve().parent.parent / "docs" / "permissions.md"
ROW = re.compile(r"^\| `(GET|POST|PATCH|PUT|DELETE) ([^`]+)` \|(.+)$")
NOW = WORLD_NOW


def table_rows() -> list[tuple[str, str, dict[str, str]]]:
    rows = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        found = ROW.match(line)
        if found:
            cells = [cell.strip() for cell in found.group(3).split("|")]
            rows.append((found.group(1), found.group(2), dict(zip(ROLES, cells[: len(ROLES)], strict=True))))
    return rows


ROWS = table_rows()
CASES = [
    pytest.param(method, path, role, expected[role], id=f"{method} {path} as {role}") for method, path, expected in ROWS for role in ROLES
]


def outcome(response, *, api: bool, anonymous: bool) -> str:
    code = response.status_code
    if 300 <= code < 400 and "/accounts/login/" in response.get("Location", ""):
        return "login"
    if api and anonymous and code in (401, 403):
        return "denied"
    if code in (401, 403, 404, 405):
        return str(code)
    if code >= 500:
        return f"server error {code}"
    return "ok"


@pytest.mark.parametrize(("method", "path", "role", "expected"), CASES)
def test_the_permission_table(world, db, method, path, role, expected):  # noqa: F811 - the world fixture
    url = path.format(**world.ids)
    api = url.startswith("/api/")
    client = APIClient() if api else Client()
    member = world.people[role]
    if member is not None:
        client.force_login(member.user)
    if method == "GET":
        response = client.get(url)
    elif api:
        response = getattr(client, method.lower())(url, {}, format="json")
    else:
        response = getattr(client, method.lower())(url, {})
    assert outcome(response, api=api, anonymous=member is None) == expected, response.content[:300]


# --- the table covers the URLconf -----------------------------------------------------------------------------

SKIPPED = ("admin/",)  # Django's admin: staff-only by Django itself (is_staff), not OpsTeam's table


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def _normalise(route: str) -> str | None:
    if "(?P<format>" in route or "<drf_format_suffix:format>" in route:
        return None  # DRF's .json suffix variants of the same endpoints
    route = route.replace("^", "").replace("$", "")
    route = re.sub(r"<[^>]+>|\(\?P<\w+>[^)]*\)", "*", route)
    return "/" + route


def test_every_url_has_a_row_in_the_permission_table():
    documented = {re.sub(r"\{[^}]+\}", "*", path.split("?")[0]) for _method, path, _cells in ROWS}
    missing = sorted(
        route
        for route in (_normalise(r) for r in _routes(get_resolver().url_patterns))
        if route and not route.startswith(tuple("/" + s for s in SKIPPED)) and route not in documented
    )
    assert not missing, f"add these to docs/permissions.md (and check who may use them): {missing}"


def test_every_row_of_the_table_is_a_real_url():
    for _method, path, _cells in ROWS:
        resolve(re.sub(r"\{[^}]+\}", "1", path.split("?")[0]))


# --- losing a role, foreign keys in bodies ------------------------------------------------------------------------


def test_a_lead_whose_lead_flag_is_removed_loses_the_board_on_the_next_request(world, db):  # noqa: F811 - the world fixture
    lead = world.people["lead"]
    client = Client()
    client.force_login(lead.user)
    assert client.get("/board/").status_code == 200
    assert client.get(f"/today/?member={world.ids['staff_member']}").status_code == 200
    MemberRole.objects.filter(member=lead).update(is_lead=False)
    assert client.get("/board/").status_code == 403
    assert client.get(f"/today/?member={world.ids['staff_member']}").status_code == 404


def test_a_deactivated_member_loses_everything_on_the_next_request(world, db):  # noqa: F811 - the world fixture
    staff = world.people["staff"]
    client = Client()
    client.force_login(staff.user)
    api = APIClient()
    api.force_login(staff.user)
    assert client.get("/today/").status_code == 200
    Member.objects.filter(pk=staff.pk).update(is_active=False)
    assert client.get("/today/").status_code == 403
    assert client.post(f"/items/{world.ids['item']}/tick/").status_code == 403
    assert api.get("/api/v1/checklists/").status_code == 403


def test_a_foreign_key_to_another_team_is_refused_when_assigning_a_duty(world, db):  # noqa: F811 - the world fixture
    api = APIClient()
    api.force_login(world.people["director"].user)
    before = Task.objects.count()
    response = api.post(
        "/api/v1/tasks/",
        {"title": "给外人派活", "due_at": (NOW + timedelta(hours=2)).isoformat(), "owner": world.ids["other_member"]},
        format="json",
    )
    assert response.status_code in (400, 404), response.content
    assert Task.objects.count() == before
    page = Client()
    page.force_login(world.people["director"].user)
    page.post("/tasks/", {"title": "给外人派活", "due_date": "2026-11-23", "due_time": "20:00", "owner": world.ids["other_member"]})
    assert Task.objects.count() == before


def test_a_foreign_key_to_another_team_is_refused_when_listing_a_members_day(world, db):  # noqa: F811 - the world fixture
    api = APIClient()
    api.force_login(world.people["director"].user)
    response = api.get(f"/api/v1/checklists/?date=2026-11-23&member={world.ids['other_member']}")
    assert response.status_code in (200, 400, 404)
    if response.status_code == 200:
        assert response.json() == []
