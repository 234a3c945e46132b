"""Issue 15 (part B1): a typed number, a date at the calendar's edge or a deeply nested body never breaks a page.

One number parser (opsteam.lib.numbers.decimal_parse) checks a value after rounding against its column's digits;
one date helper (opsteam.lib.params) keeps dates within 2001-2100; the API's JSON parser refuses deep nesting.
"""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from checklists.duties.services import task_create
from checklists.models import ChecklistItem, ItemStatus, Task, TaskStatus
from opsteam.lib.numbers import decimal_parse, weights_parse
from opsteam.lib.params import date_parse, id_parse
from opsteam.parsers import MAX_DEPTH, json_depth_exceeds
from roles.models import MetricEntry, Target
from tests.conftest import MONDAY
from tests.factories import PASSWORD

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ROUNDS_UP_A_DIGIT = "999999999999.999"  # passed "< 1e12", then rounded to 13 whole digits (issue 15)
LIMIT_TEXT = "999,999,999,999.99"
EDGE_DATES = ["0001-01-01", "9999-12-31"]


def _client(member) -> Client:
    client = Client()
    assert client.login(username=member.user.username, password=PASSWORD)
    return client


def _api(member) -> APIClient:
    client = APIClient()
    client.force_authenticate(member.user)
    return client


# --- the one number parser ----------------------------------------------------------------------------------------


def test_a_value_that_rounds_past_the_columns_digits_is_refused_with_the_limit_named():
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        decimal_parse(ROUNDS_UP_A_DIGIT)
    assert caught.value.message_dict == {"value": [f"This number is too large: the largest is {LIMIT_TEXT}."]}
    assert decimal_parse("999999999999.994") == Decimal("999999999999.99")


@pytest.mark.parametrize("raw", ["1e1000000", "-1e1000000", "1E+999999999", "9" * 5000, 1e308])
def test_huge_numbers_are_too_large_without_a_decimal_overflow(raw):
    with translation.override("en"), pytest.raises(ValidationError, match=r"too large|Enter a number"):
        decimal_parse(raw)


@pytest.mark.parametrize("raw", ["nan", "NaN", "sNaN", "inf", "-Infinity", float("nan"), float("inf"), "1,5", "12abc", [1], {"a": 1}, True])
def test_nan_infinities_and_non_numbers_are_not_numbers(raw):
    with translation.override("en"), pytest.raises(ValidationError, match="Enter a number"):
        decimal_parse(raw)


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [("3.5", Decimal("3.50")), ("2.345", Decimal("2.35")), ("1,234,567.5", Decimal("1234567.50")), ("¥1234", Decimal("1234.00")),
     ("1e-1000000", Decimal("0.00")), ("-4", Decimal("-4.00")), (7, Decimal("7.00")), ("", None), (None, None)],
)  # fmt: skip
def test_ordinary_numbers_are_rounded_half_up_to_the_columns_places(raw, parsed):
    assert decimal_parse(raw) == parsed


def test_the_limits_come_from_the_column_the_value_is_written_to():
    target = Target._meta.get_field("value")  # DecimalField(16, 4): 12 whole digits
    assert decimal_parse("123456789012.12345", column=target) == Decimal("123456789012.1235")
    with translation.override("en"), pytest.raises(ValidationError, match=r"999,999,999,999\.9999"):
        decimal_parse("1234567890123", column=target)
    entry = MetricEntry._meta.get_field("value")  # DecimalField(16, 2): 14 whole digits
    with translation.override("en"), pytest.raises(ValidationError, match=r"99,999,999,999,999\.99"):
        decimal_parse("99999999999999.999", column=entry, field=None)


def test_the_limit_message_is_in_chinese_for_a_chinese_reader():
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        decimal_parse(ROUNDS_UP_A_DIGIT)
    message = caught.value.message_dict["value"][0]
    assert LIMIT_TEXT in message
    assert "too large" not in message


@pytest.fixture
def count_item(service_member, generate):
    from roles.models import MemberRole, Role

    # SC-CS-5 (10 of 客服's chats checked) is 运营's item since PLAYBOOK v2: this member holds both roles.
    MemberRole.objects.create(member=service_member, role=Role.objects.get(team=service_member.team, code="operations"))
    generate()
    return ChecklistItem.objects.get(checklist__member=service_member, playbook_id="SC-CS-5")


def test_the_page_tick_refuses_a_value_that_rounds_past_the_column_and_stores_nothing(service_member, count_item, frozen):
    client = _client(service_member)
    response = client.post(f"/items/{count_item.pk}/tick/", {"value": ROUNDS_UP_A_DIGIT, "note": "检查完"}, follow=True, **EN)
    assert LIMIT_TEXT in response.content.decode()
    count_item.refresh_from_db()
    assert (count_item.status, count_item.value) == (ItemStatus.OPEN, None)
    assert client.get("/today/").status_code == 200


@pytest.mark.parametrize(
    ("value", "message"),
    [(ROUNDS_UP_A_DIGIT, f"This number is too large: the largest is {LIMIT_TEXT}."), ("1e1000000", "This number is too large"),
     ("NaN", "Enter a number, e.g. 10 or 3.5."), ("Infinity", "Enter a number, e.g. 10 or 3.5.")],
)  # fmt: skip
def test_the_api_tick_refuses_out_of_range_values_with_the_pages_message(service_member, count_item, frozen, value, message):
    response = _api(service_member).post(
        f"/api/v1/checklist-items/{count_item.pk}/tick/", {"value": value, "note": "x"}, format="json", **EN
    )
    assert response.status_code == 400, response.content
    assert message in response.json()["value"][0]
    count_item.refresh_from_db()
    assert count_item.value is None


def test_a_json_number_too_large_for_a_float_is_refused_on_the_api(service_member, count_item, frozen):
    body = '{"value": 1e1000000, "note": "x"}'  # json reads it as inf
    response = _api(service_member).generic("POST", f"/api/v1/checklist-items/{count_item.pk}/tick/", body, content_type="application/json")
    assert response.status_code == 400
    assert "value" in response.json()


@pytest.fixture
def duty(team, director):
    return task_create(team=team, title="补货", due_at=MONDAY.replace(hour=18), source="recurring", now=MONDAY, owner=director)


def test_the_duty_form_refuses_a_value_that_rounds_past_the_column(director, duty, frozen):
    response = _client(director).post(f"/tasks/{duty.pk}/", {"value": ROUNDS_UP_A_DIGIT}, **EN)
    assert LIMIT_TEXT in response.content.decode()
    duty.refresh_from_db()
    assert (duty.status, duty.value) == (TaskStatus.OPEN, None)


def test_the_api_duty_completion_refuses_a_value_that_rounds_past_the_column(director, duty, frozen):
    response = _api(director).post(f"/api/v1/tasks/{duty.pk}/complete/", {"value": ROUNDS_UP_A_DIGIT}, format="json", **EN)
    assert response.status_code == 400
    assert LIMIT_TEXT in str(response.json()["value"])
    assert Task.objects.get(pk=duty.pk).status == TaskStatus.OPEN


def test_the_figures_api_and_the_import_refuse_a_figure_past_its_column(client, team, director, frozen):
    api = _api(director)
    response = api.post("/api/v1/kpi/entries/", {"date": "2026-11-23", "figures": {"sales": "99999999999999.999"}}, format="json", **EN)
    assert response.status_code == 400
    assert "99,999,999,999,999.99" in str(response.json())
    upload = io.BytesIO("日期,支付金额\n2026-11-20,1e1000000\n".encode())
    upload.name = "export.csv"
    response = api.post("/api/v1/kpi/import/", {"file": upload}, format="multipart", **EN)
    assert response.status_code == 400
    assert "Row 2: 支付金额 is too large" in str(response.json())
    assert not MetricEntry.objects.exists()


# --- targets: weights and values -----------------------------------------------------------------------------------


@pytest.mark.parametrize("weight", ["nan", "inf", "-inf", "1e1000000", "-1", "abc"])
def test_a_weekday_weight_that_is_not_a_finite_number_is_refused_on_the_targets_page(team, director, frozen, weight):
    client = _client(director)
    weights = {f"w{n}": "1" for n in range(7)} | {"w3": weight}
    response = client.post(
        "/board/targets/", {"month": "2026-12", "metric": "sales", "value": "300000", "split": "weekday", **weights}, **EN
    )
    assert "Weekday weights are numbers from 0" in response.content.decode()
    assert f"“{weight}”" in response.content.decode()
    assert not Target.objects.exists()


def test_weights_parse_reads_blanks_as_zero_and_keeps_ordinary_weights():
    assert weights_parse(["1", "1.5", "", "0", "2", "1", "1"]) == [1.0, 1.5, 0.0, 0.0, 2.0, 1.0, 1.0]


def test_a_target_too_large_for_its_column_is_refused_with_the_limit(team, director, frozen):
    response = _client(director).post("/board/targets/", {"month": "2026-12", "metric": "sales", "value": "1e13", "split": "even"}, **EN)
    assert "999,999,999,999.9999" in response.content.decode()
    assert not Target.objects.exists()


# --- dates at the calendar's edges ---------------------------------------------------------------------------------


@pytest.mark.parametrize("day", EDGE_DATES)
@pytest.mark.parametrize(
    "path",
    ["/board/?date={d}", "/board/week/?date={d}", "/board/kpi/?metric=sales&start={d}&end={d}", "/board/kpi/?metric=sales&end={d}",
     "/board/figures/?date={d}", "/board/targets/?month={d}", "/board/items/?date={d}", "/reflection/?week={d}"],
)  # fmt: skip
def test_a_page_given_a_date_outside_2001_to_2100_shows_today_and_says_so(team, director, frozen, path, day):
    response = _client(director).get(path.format(d=day), **EN)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Choose a date between 2001-01-01 and 2100-12-31." in html
    assert day in html  # the message names what was typed


@pytest.mark.parametrize("day", EDGE_DATES)
@pytest.mark.parametrize("path", ["/board/trends/?date={d}", "/board/export.xlsx?date={d}"])
def test_the_chart_data_and_the_export_fall_back_to_today_for_an_edge_date(team, director, frozen, path, day):
    client = _client(director)
    response = client.get(path.format(d=day))
    assert response.status_code == 200
    if "export" in path:
        assert f'filename="board-{MONDAY.date().isoformat()}.xlsx"' in response["Content-Disposition"]
    # No message is left over for the next page: these are not pages.
    assert "Choose a date between" not in client.get("/board/", **EN).content.decode()


@pytest.mark.parametrize("day", [*EDGE_DATES, "2000-12-31", "2101-01-01"])
@pytest.mark.parametrize(
    "path",
    ["/api/v1/kpi/scorecard/?start={d}", "/api/v1/kpi/scorecard/?end={d}", "/api/v1/board/?date={d}", "/api/v1/kpi/entries/?end={d}",
     "/api/v1/tasks/?date={d}", "/api/v1/checklists/?date={d}"],
)  # fmt: skip
def test_the_api_refuses_a_date_outside_2001_to_2100_with_the_range_named(director, frozen, path, day):
    response = _api(director).get(path.format(d=day), **EN)
    assert response.status_code == 400, response.content
    assert "Choose a date between 2001-01-01 and 2100-12-31." in json.dumps(response.json())


@pytest.mark.parametrize("day", EDGE_DATES)
def test_api_bodies_refuse_edge_dates(director, frozen, day):
    api = _api(director)
    response = api.post("/api/v1/tasks/", {"title": "盘点", "due_at": f"{day}T23:00:00+08:00", "owner": director.pk}, format="json", **EN)
    assert response.status_code == 400
    assert "due_at" in response.json()
    response = api.post("/api/v1/kpi/entries/", {"date": day, "figures": {"sales": "1"}}, format="json", **EN)
    assert response.status_code == 400
    assert "date" in response.json()
    assert not Task.objects.exists()


@pytest.mark.parametrize("day", EDGE_DATES)
def test_page_forms_refuse_edge_dates(team, director, frozen, day):
    client = _client(director)
    response = client.post("/tasks/", {"title": "盘点", "due_date": day, "due_time": "23:00", "owner": director.pk}, **EN)
    assert response.status_code in (200, 400)
    assert "Choose a date between 2001-01-01 and 2100-12-31." in response.content.decode()
    assert not Task.objects.exists()
    response = client.post("/board/figures/", {"date": day, "fig-sales": "1"}, follow=True, **EN)
    assert "Choose the day the figures are for." in response.content.decode()
    assert not MetricEntry.objects.exists()


def test_date_parse_takes_only_yyyy_mm_dd_within_the_range():
    assert date_parse("2026-11-23") == date(2026, 11, 23)
    assert date_parse(" ") is None
    for raw in ["20261123", "2026-W48-1", "2026-02-30", "0001-01-01", "2101-01-01"]:
        with pytest.raises(ValidationError):
            date_parse(raw)


# --- ids in an address ---------------------------------------------------------------------------------------------

HUGE = "1" * 30


def test_a_30_digit_series_on_the_meetings_page_lists_every_meeting(team, director, frozen):
    response = _client(director).get(f"/meetings/?series={HUGE}")
    assert response.status_code == 200


# These held before issue 15 (Django's lookups treat an out-of-range integer as no row); kept so, with the series.
@pytest.mark.parametrize(
    "path", [f"/board/?role={HUGE}", f"/board/items/?member={HUGE}", f"/board/trends/?role={HUGE}", f"/audit/?page={HUGE}",
             f"/board/targets/?edit={HUGE}", f"/today/?member={HUGE}", f"/board/trends/?days={HUGE}"],
)  # fmt: skip
def test_an_id_wider_than_any_database_integer_in_a_page_address_is_never_a_500(team, director, frozen, path):
    assert _client(director).get(path).status_code in (200, 404)


def test_id_parse_keeps_what_a_database_integer_holds():
    assert id_parse("42") == 42
    assert [id_parse(raw) for raw in (HUGE, "0", "-3", "abc", None, str(2**63))] == [None] * 6


def test_a_meeting_form_with_a_30_digit_owner_is_refused_on_the_field(team, director, frozen):
    from checklists.meetings.services import meetings_create_due
    from checklists.models import Meeting

    meetings_create_due(team=team, now=MONDAY)
    meeting = Meeting.objects.filter(series__team=team).first()
    response = _client(director).post(
        f"/meetings/{meeting.pk}/actions/", {"title": "补货", "owner": HUGE, "due_date": "2026-11-30"}, follow=True, **EN
    )
    assert response.status_code in (200, 400)  # the form redrawn with its error
    assert "Choose a member of your team." in response.content.decode()


# --- deeply nested JSON ------------------------------------------------------------------------------------------

DEEP = "[" * 50_000 + "]" * 50_000


def test_a_deeply_nested_body_on_the_anonymous_token_url_is_a_400():
    response = APIClient().generic("POST", "/api/v1/auth/token/", DEEP, content_type="application/json", **EN)
    assert response.status_code == 400
    assert "nested deeper than" in response.json()["detail"]


@pytest.mark.parametrize("body", [DEEP, '{"a":' * 40 + "1" + "}" * 40])
def test_a_deeply_nested_body_on_an_authenticated_endpoint_is_a_400(service_member, count_item, frozen, body):
    response = _api(service_member).generic(
        "POST", f"/api/v1/checklist-items/{count_item.pk}/tick/", body, content_type="application/json", **EN
    )
    assert response.status_code == 400
    assert f"nested deeper than {MAX_DEPTH} levels" in response.json()["detail"]
    assert ChecklistItem.objects.get(pk=count_item.pk).status == ItemStatus.OPEN


def test_the_depth_check_counts_lists_and_objects_without_recursion():
    deep = []
    for _ in range(100_000):
        deep = [deep]
    assert json_depth_exceeds(deep)
    assert not json_depth_exceeds({"figures": {"sales": "1"}, "list": [[1, 2], {"a": [3]}]})


def test_a_robot_reply_nested_thousands_deep_is_a_failed_send_not_a_crash():
    from checklists.notify.robots import _result_from_body

    result = _result_from_body("dingtalk", 200, DEEP.encode())
    assert not result.ok


# --- rows stored before the fix -----------------------------------------------------------------------------------


def _migration(app: str, name: str):
    import importlib

    return importlib.import_module(f"{app}.migrations.{name}").values_past_their_columns_clear


def _clear(app: str, name: str) -> None:
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    # The migration only reads the editor's connection; SQLite's schema editor cannot open inside a test's transaction.
    _migration(app, name)(apps, SimpleNamespace(connection=connection))


def test_a_tick_value_stored_past_its_column_before_the_fix_is_cleared_and_the_pages_read_again(service_member, count_item, frozen):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("only SQLite stored such values")
    with connection.cursor() as cursor:  # what SQLite stored before the fix: 13 whole digits in a (14, 2) column
        cursor.execute("UPDATE checklists_checklistitem SET value = '1000000000000.00' WHERE id = %s", [count_item.pk])
    with pytest.raises(Exception):  # noqa: B017 - the read that made every page of the day a 500
        ChecklistItem.objects.get(pk=count_item.pk)
    _clear("checklists", "0014_values_past_their_columns_cleared")
    assert ChecklistItem.objects.get(pk=count_item.pk).value is None
    assert _client(service_member).get("/today/").status_code == 200


def test_a_figure_and_a_target_stored_past_their_columns_before_the_fix_are_removed(team, director, frozen):
    from django.db import connection

    from roles.models import Metric
    from roles.services.kpi import entry_save, target_set

    if connection.vendor != "sqlite":
        pytest.skip("only SQLite stored such values")
    entry_save(team=team, day=date(2026, 11, 20), figures={"sales": "100", "visitors": "10"}, actor=None, now=MONDAY)
    target_set(team=team, metric=Metric.objects.get(team=team, code="sales"), month=date(2026, 11, 1), value="1", actor=None, now=MONDAY)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE roles_metricentry SET value = '100000000000000.00' WHERE value = 100")
        cursor.execute("UPDATE roles_target SET value = '1000000000000.0000'")
    _clear("roles", "0007_values_past_their_columns_cleared")
    assert list(MetricEntry.objects.values_list("metric__code", "value")) == [("visitors", Decimal("10.00"))]
    assert not Target.objects.exists()
    assert _client(director).get("/board/", {"date": "2026-11-20"}).status_code == 200
