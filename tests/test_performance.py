"""What issue 8 pins in `make test`: the statements a tick and a member's day cost, whatever the size of the day.

A tick through the API costs, after authentication, three statements: the item and its list read and
locked with the access check folded in, the item's UPDATE, and the tick record's INSERT. An item with an
unresolved escalation costs one more, the UPDATE that resolves it. Authentication is one query per
request: the token with its user, the user's member and the member's team (MemberTokenAuthentication).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from checklists.escalation.raising import escalation_sweep
from checklists.models import ChecklistItem, Escalation, TickEvent
from tests.conftest import MONDAY

AUTH_QUERIES = 1  # the token with its user, member and team


def token_client(member) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=member.user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def tick_statements(queries) -> list[str]:
    """The statements of a request after authentication (SQLite's BEGIN/COMMIT/SAVEPOINT are not statements on a row)."""
    sql = [q["sql"] for q in queries if not q["sql"].upper().startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK"))]
    return sql[AUTH_QUERIES:]


@pytest.fixture
def own_item(warehouse_member, generate):
    generate()
    return ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")


def test_an_api_tick_costs_three_statements_after_authentication(warehouse_member, own_item, frozen):
    client = token_client(warehouse_member)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/api/v1/checklist-items/{own_item.pk}/tick/", {}, format="json")
    assert response.status_code == 200, response.content
    assert "authtoken_token" in queries.captured_queries[0]["sql"]
    assert "roles_member" in queries.captured_queries[0]["sql"]
    statements = tick_statements(queries.captured_queries)
    assert len(statements) <= 3, "\n".join(statements)
    assert statements[0].startswith("SELECT")
    assert "checklists_checklistitem" in statements[0]
    assert TickEvent.objects.filter(item=own_item).count() == 1


def test_an_api_tick_of_an_escalated_item_adds_only_the_resolving_update(warehouse_member, own_item, director, frozen):
    escalation_sweep(team=warehouse_member.team, now=MONDAY.replace(hour=11))
    assert Escalation.objects.filter(item=own_item, status="open").exists()
    client = token_client(warehouse_member)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/api/v1/checklist-items/{own_item.pk}/tick/", {}, format="json")
    assert response.status_code == 200, response.content
    statements = tick_statements(queries.captured_queries)
    assert len(statements) <= 4, "\n".join(statements)
    assert not Escalation.objects.filter(item=own_item, status="open").exists()


def test_the_api_tick_pins_its_whole_request(warehouse_member, own_item, frozen, django_assert_max_num_queries):
    client = token_client(warehouse_member)
    with django_assert_max_num_queries(AUTH_QUERIES + 3 + 2):  # + SQLite's BEGIN and COMMIT around the tick
        assert client.post(f"/api/v1/checklist-items/{own_item.pk}/tick/", {}, format="json").status_code == 200


def test_ticking_an_item_outside_my_scope_is_a_404_from_the_same_query(outsider, own_item, frozen):
    response = token_client(outsider).post(f"/api/v1/checklist-items/{own_item.pk}/tick/", {}, format="json")
    assert response.status_code == 404
    assert not TickEvent.objects.exists()


def test_a_leads_api_tick_for_a_member_reads_no_roles_after_authentication(warehouse_lead, own_item, frozen):
    """The lead's roles come with the token (MemberTokenAuthentication): the access check spends no query on them."""
    client = token_client(warehouse_lead)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/api/v1/checklist-items/{own_item.pk}/tick/", {}, format="json")
    assert response.status_code == 200, response.content
    statements = tick_statements(queries.captured_queries)
    assert not [sql for sql in statements if "roles_memberrole" in sql], "\n".join(statements)
    assert len(statements) <= 3, "\n".join(statements)
    assert TickEvent.objects.get(item=own_item).on_behalf_of_id == own_item.checklist.assignee_id


def test_the_api_list_of_a_day_is_two_queries_authentication_included(warehouse_member, own_item, frozen):
    client = token_client(warehouse_member)
    day, count = own_item.checklist.date, own_item.checklist.items.count()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/checklists/?date={day}")
    assert response.status_code == 200, response.content
    assert sum(len(row["items"]) for row in response.json()) == count
    assert len(queries.captured_queries) == 2, "\n".join(q["sql"] for q in queries.captured_queries)


def test_a_cover_sees_the_absent_members_lists_through_the_api_and_others_do_not(warehouse_member, warehouse_teammate, own_item, frozen):
    """The token says whether its member covers anyone; with a cover, the list API shows the absent member's lists."""
    from roles.services import cover_create

    day = own_item.checklist.date
    client = token_client(warehouse_teammate)
    absent_lists = {own_item.checklist_id}

    before = {row["id"] for row in client.get(f"/api/v1/checklists/?date={day}").json()}
    cover_create(absent=warehouse_member, cover=warehouse_teammate, start_date=day, end_date=day)
    after = {row["id"] for row in client.get(f"/api/v1/checklists/?date={day}").json()}

    assert not absent_lists & before
    assert absent_lists <= after
    assert client.post(f"/api/v1/checklist-items/{own_item.pk}/tick/", {}, format="json").status_code == 200
