"""Issue 15, part C: an id outside the caller's reach is a 400 naming its field, and a create sent twice makes one row.

Every page form and API body that reads an id is walked with another team's id (tests/permissions_world.py builds
the second team): the answer is 400, the field is named, and no row of the model it writes changes. Then every
create is sent twice with one idempotency key (the API's header, the page's hidden field): one row, the same answer.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from rest_framework.test import APIClient

from checklists.models import (
    ActionItem,
    AgendaItem,
    Attendance,
    Campaign,
    CampaignTemplate,
    Decision,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    Plan,
    ProblemOrder,
    Robot,
    Task,
)
from roles.models import Member, MetricEntry, Role, SplitKind, Target
from roles.selectors.kpi import metric_list
from roles.services.kpi import target_set
from tests.permissions_world import WORLD_NOW, world  # noqa: F401 - world is a fixture

NOW = WORLD_NOW


def _other(world) -> dict:  # noqa: F811 - the world fixture
    """Ids of the other team's rows: each a real row, just not the caller's."""
    outsider = world.people["other_team"]
    other_meeting = Meeting.objects.get(pk=world.ids["other_meeting"])
    return {
        "member": outsider.pk,
        "role": Role.objects.filter(team_id=outsider.team_id).order_by("pk").first().pk,
        "template": CampaignTemplate.objects.filter(team_id=outsider.team_id).first().pk,
        "series": MeetingSeries.objects.filter(team_id=outsider.team_id, cadence="on_demand").first().pk,
        "agenda_item": other_meeting.agenda_items.order_by("pk").first().pk,
    }


def _draft_meeting(world) -> Meeting:  # noqa: F811 - the world fixture
    meeting = Meeting.objects.get(pk=world.ids["meeting"])
    Meeting.objects.filter(pk=meeting.pk).update(status=MeetingStatus.DRAFT, published_at=None)
    return meeting


def _snapshot(model) -> list:
    return sorted(model.objects.values_list(*[f.attname for f in model._meta.concrete_fields]), key=lambda row: row[0])


def _names_field(response, field: str) -> bool:
    if response.get("Content-Type", "").startswith("application/json"):
        return field in response.json()
    context = response.context
    if field in (context.get("error_fields") or []):
        return True
    form = context.get("form")
    return bool(getattr(form, "errors", None)) and field in form.errors


def _page(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def _api(member) -> APIClient:
    client = APIClient()
    client.force_login(member.user)
    return client


# (caller, method, url, body, field, the model whose rows must not change)
FOREIGN = [
    (
        "director",
        "post",
        "/tasks/",
        {"title": "给外人派活", "due_date": "2026-11-24", "due_time": "18:00", "owner": "{member}"},
        "owner",
        Task,
    ),
    ("director", "post", "/tasks/", {"title": "给外岗派活", "due_date": "2026-11-24", "due_time": "18:00", "role": "{role}"}, "role", Task),
    ("director", "post", "/campaigns/", {"name": "双十二", "date": "2026-12-12", "template": "{template}"}, "template", Task),
    ("director", "post", "/board/targets/", {"month": "2026-12", "metric": "sales", "value": "1", "role": "{role}"}, "role", Target),
    ("director", "post", "/board/targets/", {"month": "2026-12", "metric": "sales", "value": "1", "member": "{member}"}, "member", Target),
    ("staff", "post", "/meetings/new/", {"series": "{series}", "date": "2026-11-24"}, "series", Meeting),
    (
        "director",
        "post",
        "/meetings/{meeting}/actions/",
        {"title": "补货", "owner": "{member}", "due_date": "2026-11-30"},
        "owner",
        ActionItem,
    ),
    (
        "director",
        "post",
        "/meetings/{meeting}/actions/",
        {"title": "补货", "owner": "{staff}", "due_date": "2026-11-30", "agenda_item": "{agenda_item}"},
        "agenda_item",
        ActionItem,
    ),
    ("director", "post", "/meetings/{meeting}/decisions/", {"text": "就这么定", "agenda_item": "{agenda_item}"}, "agenda_item", Decision),
    ("director", "post", "/meetings/{meeting}/attendance/", {"member": "{member}", "status": "present"}, "member", Attendance),
    (
        "director",
        "post",
        "/robots/",
        {"kind": "feishu", "name": "外岗群", "role": "{role}", "webhook_url": "https://open.feishu.cn/open-apis/bot/v2/hook/x"},
        "role",
        Robot,
    ),
    (
        "director",
        "post",
        "/api/v1/tasks/",
        {"title": "给外人派活", "due_at": "2026-11-24T18:00:00+08:00", "owner": "{member}"},
        "owner",
        Task,
    ),
    ("director", "post", "/api/v1/campaigns/", {"name": "双十二", "date": "2026-12-12", "template": "{template}"}, "template", Task),
    ("staff", "post", "/api/v1/meetings/", {"series": "{series}", "date": "2026-11-24"}, "series", Meeting),
    (
        "director",
        "post",
        "/api/v1/meetings/{meeting}/action-items/",
        {"title": "补货", "owner": "{member}", "due_date": "2026-11-30"},
        "owner",
        ActionItem,
    ),
    (
        "director",
        "post",
        "/api/v1/meetings/{meeting}/action-items/",
        {"title": "补货", "owner": "{staff}", "due_date": "2026-11-30", "agenda_item": "{agenda_item}"},
        "agenda_item",
        ActionItem,
    ),
    ("director", "patch", "/api/v1/meetings/{meeting}/", {"chair": "{member}"}, "chair", Meeting),
    (
        "director",
        "patch",
        "/api/v1/meetings/{meeting}/",
        {"attendance": [{"member": "{member}", "status": "present"}]},
        "attendance",
        Attendance,
    ),
    (
        "director",
        "patch",
        "/api/v1/meetings/{meeting}/",
        {"agenda_items": [{"id": "{agenda_item}", "notes": "外人的"}]},
        "agenda_items",
        AgendaItem,
    ),
    (
        "director",
        "post",
        "/api/v1/kpi/entries/",
        {"date": "2026-11-23", "figures": {"inquiries": 10}, "member": "{member}"},
        "member",
        MetricEntry,
    ),
]


def _fill(value, ids: dict):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


@pytest.mark.parametrize(("caller", "method", "url", "body", "field", "model"), FOREIGN, ids=[f"{c[2]} {c[4]}" for c in FOREIGN])
def test_an_id_outside_the_callers_reach_is_a_400_naming_the_field_and_writes_nothing(
    world,  # noqa: F811 - the world fixture
    db,
    caller,
    method,
    url,
    body,
    field,
    model,
):
    meeting = _draft_meeting(world)
    ids = _other(world) | {"meeting": meeting.pk, "staff": world.ids["staff_member"]}
    url = url.format(**ids)
    member = world.people[caller]
    api = url.startswith("/api/")
    before = _snapshot(model)
    if api:
        response = getattr(_api(member), method)(url, _fill(body, ids), format="json")
    else:
        response = getattr(_page(member), method)(url, {k: str(v) for k, v in _fill(body, ids).items()})
    assert response.status_code == 400, response.content[:500]
    assert _names_field(response, field), response.content[:500]
    assert _snapshot(model) == before


def test_another_teams_role_on_the_targets_page_keeps_the_teams_december_target(world, db):  # noqa: F811 - the world fixture
    """The report's case: the demo shop's 300,000 weekday-split December target became 1 with no split."""
    director = world.people["director"]
    sales = next(m for m in metric_list(team=director.team) if m.code == "sales")
    target_set(
        team=director.team,
        metric=sales,
        month=NOW.date().replace(month=12, day=1),
        value="300000",
        actor=director,
        now=NOW,
        split=SplitKind.WEEKDAY,
        weekday_weights=["1", "1", "1", "1", "1", "2", "2"],
    )
    other_role = _other(world)["role"]
    response = _page(director).post(
        "/board/targets/", {"month": "2026-12", "metric": "sales", "value": "1", "split": "none", "role": other_role}
    )
    assert response.status_code == 400
    target = Target.objects.get(team=director.team, metric=sales, role=None, member=None)
    assert (target.value, target.split) == (Decimal("300000"), SplitKind.WEEKDAY)


def test_a_lead_naming_a_role_they_do_not_lead_is_refused_not_given_the_duty(world, db):  # noqa: F811 - the world fixture
    lead = world.people["lead"]
    service = Role.objects.get(team=lead.team, code="service")
    before = Task.objects.count()
    response = _page(lead).post("/tasks/", {"title": "给客服派活", "due_date": "2026-11-24", "due_time": "18:00", "role": service.pk})
    assert response.status_code == 400
    assert "role" in response.context["error_fields"]
    assert Task.objects.count() == before


def test_an_empty_template_on_the_campaign_form_still_means_the_playbooks(world, db):  # noqa: F811 - the world fixture
    response = _page(world.people["director"]).post("/campaigns/", {"name": "年货节", "date": "2026-12-20", "signup_date": "2026-12-10"})
    assert response.status_code == 302
    assert Campaign.objects.filter(name="年货节").exists()


# --- creating things twice -----------------------------------------------------------------------------------------------


def _api_creates(world) -> list[tuple[str, object, str, dict, type]]:  # noqa: F811 - the world fixture
    meeting = _draft_meeting(world)
    issue = MeetingSeries.objects.get(team=world.people["staff"].team, playbook_id="M-ISSUE")
    return [
        ("director", "/api/v1/tasks/", {"title": "盘点", "due_at": "2026-11-24T18:00:00+08:00", "owner": world.ids["staff_member"]}, Task),
        ("director", "/api/v1/plans/", {"title": "年货节方案"}, Plan),
        ("staff", "/api/v1/meetings/", {"series": issue.pk, "date": "2026-11-24", "title": "发错货"}, Meeting),
        (
            "director",
            f"/api/v1/meetings/{meeting.pk}/action-items/",
            {"title": "补拍主图", "owner": world.ids["staff_member"], "due_date": "2026-11-30"},
            ActionItem,
        ),
    ]


@pytest.mark.parametrize("which", ["tasks", "plans", "meetings", "action-items"])
def test_an_api_create_repeated_with_the_same_idempotency_key_makes_one_row_and_answers_the_same(world, db, which):  # noqa: F811
    caller, url, body, model = next(c for c in _api_creates(world) if which in c[1])
    client = _api(world.people[caller])
    before = model.objects.count()
    key = str(uuid.uuid4())
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    second = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == second.status_code == 201, (first.content, second.content)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert model.objects.count() == before + 1
    assert client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())).status_code == 201  # a new key: a new row
    assert model.objects.count() == before + 2


def test_an_action_item_sent_twice_gives_its_owner_one_duty(world, db):  # noqa: F811 - the world fixture
    meeting = _draft_meeting(world)
    client = _api(world.people["director"])
    body = {"title": "补拍主图", "owner": world.ids["staff_member"], "due_date": "2026-11-30"}
    for _ in range(3):
        client.post(f"/api/v1/meetings/{meeting.pk}/action-items/", body, format="json", HTTP_IDEMPOTENCY_KEY="tap-1")
    assert Task.objects.filter(title="补拍主图").count() == 1


def test_an_idempotency_key_is_the_callers_own(world, db):  # noqa: F811 - the world fixture
    """The same key from another member is their own create, not a look at someone else's duty."""
    body = {"title": "盘点", "due_at": "2026-11-24T18:00:00+08:00", "owner": world.ids["staff_member"]}
    first = _api(world.people["director"]).post("/api/v1/tasks/", body, format="json", HTTP_IDEMPOTENCY_KEY="same-key")
    second = _api(world.people["lead"]).post("/api/v1/tasks/", body, format="json", HTTP_IDEMPOTENCY_KEY="same-key")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert second.json()["created_by"] == world.people["lead"].pk


def test_a_malformed_idempotency_key_is_a_400_naming_it_and_writes_nothing(world, db):  # noqa: F811 - the world fixture
    before = Task.objects.count()
    response = _api(world.people["director"]).post(
        "/api/v1/tasks/",
        {"title": "盘点", "due_at": "2026-11-24T18:00:00+08:00", "owner": world.ids["staff_member"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="x" * 65,
    )
    assert response.status_code == 400
    assert "idempotency_key" in response.json()
    assert Task.objects.count() == before


def test_a_create_without_a_key_still_creates_each_time(world, db):  # noqa: F811 - the world fixture
    client = _api(world.people["director"])
    before = Plan.objects.count()
    for _ in range(2):
        assert client.post("/api/v1/plans/", {"title": "没有钥匙"}, format="json").status_code == 201
    assert Plan.objects.count() == before + 2


def _page_creates(world) -> list[tuple[str, str, dict, type]]:  # noqa: F811 - the world fixture
    meeting = _draft_meeting(world)
    issue = MeetingSeries.objects.get(team=world.people["staff"].team, playbook_id="M-ISSUE")
    return [
        ("director", "/tasks/", {"title": "盘点", "due_date": "2026-11-24", "due_time": "18:00", "owner": world.ids["staff_member"]}, Task),
        ("director", "/plans/", {"title": "年货节方案"}, Plan),
        ("staff", "/meetings/new/", {"series": issue.pk, "date": "2026-11-24", "title": "发错货"}, Meeting),
        (
            "director",
            f"/meetings/{meeting.pk}/actions/",
            {"title": "补拍主图", "owner": world.ids["staff_member"], "due_date": "2026-11-30"},
            ActionItem,
        ),
        ("director", f"/meetings/{meeting.pk}/decisions/", {"text": "下周起每天复盘"}, Decision),
        ("director", f"/meetings/{meeting.pk}/agenda/", {"title": "退货率"}, AgendaItem),
    ]


@pytest.mark.parametrize("which", ["/tasks/", "/plans/", "/meetings/new/", "/actions/", "/decisions/", "/agenda/"])
def test_a_page_form_sent_twice_makes_one_row_and_goes_to_the_first_result(world, db, which):  # noqa: F811 - the world fixture
    caller, url, body, model = next(c for c in _page_creates(world) if c[1].endswith(which))
    client = _page(world.people[caller])
    before = model.objects.count()
    body = body | {"idempotency_key": str(uuid.uuid4())}
    first = client.post(url, body)
    second = client.post(url, body)
    assert first.status_code == second.status_code == 302, (first.content[:300], second.content[:300])
    assert second["Location"] == first["Location"]
    assert model.objects.count() == before + 1


@pytest.mark.parametrize(
    ("caller", "url"),
    [("director", "/tasks/"), ("director", "/plans/"), ("staff", "/meetings/"), ("director", "/meetings/{meeting}/")],
)
def test_every_create_form_is_drawn_with_a_fresh_idempotency_key(world, db, caller, url):  # noqa: F811 - the world fixture
    client = _page(world.people[caller])
    url = url.format(meeting=_draft_meeting(world).pk)
    first, second = client.get(url).content.decode(), client.get(url).content.decode()
    assert 'name="idempotency_key"' in first
    keys = {line for line in first.split("<input") if 'name="idempotency_key"' in line}
    assert keys.isdisjoint({line for line in second.split("<input") if 'name="idempotency_key"' in line})


def test_problem_orders_and_campaigns_sent_twice_still_make_one(world, db):  # noqa: F811 - the world fixture
    """Already safe before issue 15 (their own unique constraints): kept so."""
    client = _api(world.people["admin"])
    before = ProblemOrder.objects.count()
    for _ in range(2):
        client.post("/api/v1/problem-orders/", {"order_no": "3021999", "kind": "refund"}, format="json")
    assert ProblemOrder.objects.count() == before + 1
    director = _api(world.people["director"])
    for _ in range(2):
        director.post("/api/v1/campaigns/", {"name": "腊八", "date": "2026-12-27", "signup_date": "2026-12-20"}, format="json")
    assert Campaign.objects.filter(name="腊八").count() == 1


def test_a_repeat_is_answered_even_after_the_first_duty_moved_on(world, db):  # noqa: F811 - the world fixture
    """A retry that arrives after the duty was done still finds it, instead of assigning it again."""
    client = _api(world.people["director"])
    body = {"title": "盘点", "due_at": (NOW + timedelta(hours=2)).isoformat(), "owner": world.ids["staff_member"]}
    first = client.post("/api/v1/tasks/", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    client.post(f"/api/v1/tasks/{first.json()['id']}/complete/", {}, format="json")
    again = client.post("/api/v1/tasks/", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Task.objects.filter(title="盘点", created_by=world.people["director"]).count() == 1
    assert Member.objects.filter(pk=world.ids["staff_member"]).exists()
