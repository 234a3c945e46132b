"""The API: token login, listing a day, ticking through the public endpoints, who may do what."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from checklists.models import ChecklistItem, TemplateItem, TickEvent
from tests.factories import PASSWORD


def client_for(member) -> APIClient:
    client = APIClient()
    client.force_authenticate(member.user)
    return client


@pytest.fixture
def wh_item(warehouse_member, generate):
    generate()
    return ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")


def test_a_token_is_issued_for_a_good_password_only(warehouse_member, frozen):
    client = APIClient()
    bad = client.post("/api/v1/auth/token/", {"username": "wh1", "password": "wrong"}, format="json")
    assert bad.status_code == 400
    assert "用户名或密码错误" in str(bad.json())
    good = client.post("/api/v1/auth/token/", {"username": "wh1", "password": PASSWORD}, format="json")
    assert good.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {good.json()['token']}")
    assert client.get("/api/v1/checklists/?date=2026-11-23").status_code == 200


def test_anonymous_callers_are_refused():
    assert APIClient().get("/api/v1/checklists/").status_code in (401, 403)


def test_listing_a_day_returns_my_lists_with_items(warehouse_member, wh_item, frozen):
    response = client_for(warehouse_member).get("/api/v1/checklists/?date=2026-11-23")
    assert response.status_code == 200
    [listing] = response.json()
    assert listing["role"] == "warehouse"
    assert listing["name"] == "仓库每日自查"
    assert [i["playbook_id"] for i in listing["items"]][:2] == ["SC-WH-1", "SC-WH-1a"]
    assert client_for(warehouse_member).get("/api/v1/checklists/").json() == response.json()  # default: today


@pytest.mark.parametrize("query", ["date=2026-13-40", "date=yesterday", "date=9999-01-01", "member=abc", "member=-1"])
def test_bad_query_parameters_get_a_400_with_a_message(warehouse_member, query):
    response = client_for(warehouse_member).get(f"/api/v1/checklists/?{query}")
    assert response.status_code == 400
    assert response.json()


def test_the_list_costs_the_same_queries_whatever_the_number_of_items(warehouse_member, generate, django_assert_max_num_queries):
    template_items = TemplateItem.objects.filter(template__playbook_id="SC-WH", template__team=warehouse_member.team)
    generate()
    client = client_for(warehouse_member)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/checklists/?date=2026-11-23")
    ChecklistItem.objects.all().delete()
    from checklists.models import Checklist

    Checklist.objects.all().delete()
    template = template_items.first().template
    for n in range(30):
        TemplateItem.objects.create(template=template, order=100 + n, text=f"额外检查 {n}")
    generate()
    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/v1/checklists/?date=2026-11-23")
    assert len(response.json()[0]["items"]) == 39  # SC-WH's 9 (SC-WH-1 and its 6 parts, SC-WH-2, SC-WH-3) and 30
    assert len(many) == len(few)
    assert len(many) <= 6


def test_tick_and_untick_are_idempotent(warehouse_member, wh_item):
    client = client_for(warehouse_member)
    first = client.post(f"/api/v1/checklist-items/{wh_item.pk}/tick/", {"note": "好"}, format="json")
    second = client.post(f"/api/v1/checklist-items/{wh_item.pk}/tick/", {"note": "好"}, format="json")
    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == "done"
    assert TickEvent.objects.filter(action="tick").count() == 1
    for _ in range(2):
        assert client.post(f"/api/v1/checklist-items/{wh_item.pk}/untick/").json()["status"] == "open"
    assert TickEvent.objects.filter(action="untick").count() == 1


def test_a_validation_error_is_a_400_with_the_worker_s_message(operations_member, generate):
    generate()
    item = ChecklistItem.objects.get(checklist__member=operations_member, playbook_id="SC-CS-5")
    response = client_for(operations_member).post(f"/api/v1/checklist-items/{item.pk}/tick/", {"value": 3.5}, format="json")
    assert response.status_code == 400
    assert "整数" in str(response.json())
    too_long = client_for(operations_member).post(f"/api/v1/checklist-items/{item.pk}/tick/", {"note": "长" * 70000}, format="json")
    assert too_long.status_code in (400, 413)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("warehouse_member", 200),  # own item
        ("warehouse_lead", 200),  # lead of the role, on behalf
        ("director", 200),
        ("warehouse_teammate", 404),  # same role, not a lead: cannot even see it
        ("service_member", 404),  # other role
        ("outsider", 404),  # other team
    ],
)
def test_who_may_tick_a_warehouse_item(request, wh_item, who, expected):
    member = request.getfixturevalue(who)
    response = client_for(member).post(f"/api/v1/checklist-items/{wh_item.pk}/tick/", {}, format="json")
    assert response.status_code == expected
    assert TickEvent.objects.exists() == (expected == 200)


def test_a_lead_sees_their_role_and_the_director_the_team(warehouse_member, warehouse_lead, service_member, director, generate, frozen):
    generate()
    lead_view = client_for(warehouse_lead).get("/api/v1/checklists/").json()
    assert {c["member"] for c in lead_view} == {warehouse_member.pk, warehouse_lead.pk}
    director_view = client_for(director).get("/api/v1/checklists/").json()
    # The director's own list (SC-DIR, PLAYBOOK v2 §7.2) is theirs too.
    assert {c["member"] for c in director_view} == {warehouse_member.pk, warehouse_lead.pk, service_member.pk, director.pk}
    only = client_for(director).get(f"/api/v1/checklists/?member={service_member.pk}").json()
    assert {c["member"] for c in only} == {service_member.pk}


def test_another_team_s_list_is_not_found(outsider, wh_item):
    assert client_for(outsider).get(f"/api/v1/checklists/{wh_item.checklist_id}/").status_code == 404


def test_a_user_without_a_team_is_refused(db, wh_item):
    from tests.factories import UserFactory

    client = APIClient()
    client.force_authenticate(UserFactory())
    assert client.get("/api/v1/checklists/").status_code == 403


def test_the_schema_and_the_offline_swagger_ui_are_served(warehouse_member, client):
    client.force_login(warehouse_member.user)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/checklist-items/{id}/tick/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
    assert b"swagger-ui" in docs.content


def test_errors_are_in_chinese_by_default_and_english_on_request(operations_member, generate):
    generate()
    item = ChecklistItem.objects.get(checklist__member=operations_member, playbook_id="SC-CS-5")
    client = client_for(operations_member)
    chinese = client.post(f"/api/v1/checklist-items/{item.pk}/tick/", {"value": 3.5}, format="json")
    english = client.post(f"/api/v1/checklist-items/{item.pk}/tick/", {"value": 3.5}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert "整数" in str(chinese.json())
    assert "A count is a whole number" in str(english.json())


def test_the_hand_built_tick_and_list_answers_equal_the_serializers_the_schema_documents(team, generate, director, tmp_path, settings):
    """checklist_data / item_data (the hot paths, issue 8) give exactly the JSON the serializers give."""
    import io
    from datetime import timedelta

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import translation
    from PIL import Image
    from rest_framework.renderers import JSONRenderer

    from checklists.daily.selectors import checklist_list
    from checklists.daily.serializers import ChecklistSerializer, checklist_data, checklists_data
    from checklists.daily.ticks import tick_record
    from tests.conftest import MONDAY
    from tests.factories import member_with_role

    settings.MEDIA_ROOT = tmp_path
    people = [member_with_role(team, code, username=f"{code}9") for code in ("warehouse", "service", "promotion", "operations")]
    generate()
    items = {item.playbook_id: item for item in ChecklistItem.objects.filter(checklist__member__in=people)}
    late = MONDAY + timedelta(hours=12)
    tick_record(item=items["SC-WH-1a"], actor=director, now=MONDAY)  # a sub-item: parent set
    tick_record(item=items["SC-CS-5"], actor=director, now=late, value="12")  # a count, ticked late
    tick_record(item=items["SC-PRO-7"], actor=director, now=MONDAY, value="1234.5")  # a number with decimals
    tick_record(item=items["SC-CS-2"], actor=director, now=MONDAY, status="not_done", note="等仓库回复 😀")
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, format="PNG")
    tick_record(item=items["SC-OPS-8"], actor=director, now=MONDAY, photo=SimpleUploadedFile("p.png", png.getvalue(), "image/png"))
    lists = list(checklist_list(viewer=director, day=MONDAY.date()))
    assert len(lists) >= 4
    render = JSONRenderer().render
    with translation.override("zh-hans"):
        documented = render(ChecklistSerializer(lists, many=True).data)
        assert render([checklist_data(c) for c in lists]) == documented
        assert render(checklists_data(checklist_list(viewer=director, day=MONDAY.date()))) == documented


def test_a_photo_is_fetched_with_a_token_by_whoever_may_see_the_item(team, generate, warehouse_member, outsider, settings, tmp_path):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image
    from rest_framework.authtoken.models import Token

    from checklists.daily.ticks import tick_record
    from tests.conftest import MONDAY
    from tests.factories import member_with_role

    def token_client(member) -> APIClient:  # a real token, as a phone app has: no session
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=member.user)[0].key}")
        return client

    settings.MEDIA_ROOT = tmp_path
    ops = member_with_role(team, "operations", username="ops9")
    generate()
    item = ChecklistItem.objects.get(checklist__member=ops, playbook_id="SC-OPS-8")
    png = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 10)).save(png, format="PNG")
    tick_record(item=item, actor=ops, now=MONDAY, photo=SimpleUploadedFile("p.png", png.getvalue(), "image/png"))

    ticked = token_client(ops).get(f"/api/v1/checklists/{item.checklist_id}/").json()
    url = next(row["photo_url"] for row in ticked["items"] if row["id"] == item.pk)
    assert url == f"/api/v1/checklist-items/{item.pk}/photo/"
    answer = token_client(ops).get(url, HTTP_ACCEPT="image/jpeg")  # a phone app asking for a picture

    assert answer.status_code == 200
    assert b"".join(answer.streaming_content) == png.getvalue()
    assert token_client(outsider).get(url).status_code == 404
    assert token_client(warehouse_member).get(url).status_code == 404  # same shop, not their item or role
    without = ChecklistItem.objects.filter(checklist__member=ops, photo="").first()
    missing = token_client(ops).get(f"/api/v1/checklist-items/{without.pk}/photo/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "这一项没有照片。"


@pytest.mark.parametrize(
    ("accept", "query"),
    [
        (None, ""),
        ("*/*", ""),
        ("application/json", ""),
        ("text/html", ""),
        ("application/json; indent=4", ""),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", ""),
        ("*/*", "?format=api"),
        (None, "?format=json"),
        ("image/png", ""),
    ],
)
def test_the_quick_content_negotiation_answers_as_drfs_own(accept, query):
    from rest_framework.negotiation import DefaultContentNegotiation
    from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from opsteam.negotiation import ContentNegotiation

    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get(f"/api/v1/checklists/{query}", **headers))
    renderers = [JSONRenderer(), BrowsableAPIRenderer()]

    def answer(negotiation):
        try:
            renderer, media_type = negotiation.select_renderer(request, renderers)
        except Exception as exc:  # NotAcceptable: both must refuse alike
            return type(exc)
        return type(renderer), media_type

    assert answer(ContentNegotiation()) == answer(DefaultContentNegotiation())
