"""The whole OpenAPI schema fuzzed as every role (issue 7): no server error, answers match the schema.

Bounded: a few generated examples per operation and role (OPSTEAM_FUZZ_EXAMPLES, default 4), so the module
runs in about a minute. Dates are drawn with the calendar's edges (0001-01-01, 9999-12-31) among them, and every
operation is also sent, as staff, lead and director, each date, number and id edge and a 50,000-deep JSON body
(issue 15). Checked: no 5xx; a documented status code's body matches its schema; the content type
is the documented one. Not checked: that every 400/403/404 is listed in the schema (drf-spectacular documents
the success answers; the error shapes are documented once in docs/api.md).
"""

from __future__ import annotations

import json
import os
from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from opsteam.wsgi import application
from tests.permissions_world import world  # noqa: F401 - a fixture

EXAMPLES = int(os.environ.get("OPSTEAM_FUZZ_EXAMPLES", "4"))
ROLES = ("staff", "lead", "director", "admin", "other_team")

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# The coverage phase walks every boundary of every field (hundreds of cases per operation): too slow for every
# role on each run. The explicit examples and the bounded fuzzing phase stay.
schema.config.phases.coverage.enabled = False

# The calendar's edges among the generated dates: a day's neighbours or its month left Python's calendar there.
EDGE_DATES = ("0001-01-01", "9999-12-31", "2000-12-31", "2101-01-01")
EDGE_DATETIMES = ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "9999-12-31T23:00:00+08:00")
schemathesis.openapi.format("date", st.one_of(st.sampled_from(EDGE_DATES), st.dates().map(date.isoformat)))
schemathesis.openapi.format("date-time", st.one_of(st.sampled_from(EDGE_DATETIMES), st.datetimes().map(lambda t: t.isoformat() + "Z")))


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_the_api_answers_every_generated_request_without_a_server_error(case, role, world, db):  # noqa: F811
    token, _created = Token.objects.get_or_create(user=world.people[role].user)
    case.call_and_validate(
        headers={"Authorization": f"Token {token.key}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )


# --- the edges, sent to every operation (issue 15) ------------------------------------------------------------------

EDGE_NUMBERS = ("999999999999.999", "1e1000000", "-1e1000000", "NaN", "Infinity", "9" * 5000, 1e308)
HUGE_ID = "1" * 30
DEEP_JSON = "[" * 50_000 + "]" * 50_000
# The world's object of each resource, for the {id} in its paths.
RESOURCE_IDS = {
    "campaigns": "campaign", "checklist-items": "item", "checklists": "checklist", "escalations": "escalation",
    "meetings": "meeting", "plans": "plan", "problem-orders": "problem", "tasks": "task",
}  # fmt: skip


def _resolved(node: dict) -> dict:
    while "$ref" in node:
        node = schema.raw_schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _plain_value(prop: dict):
    """A value of the property's type that passes its own field's checks, so the edge in another field is reached."""
    prop = _resolved(prop)
    if "enum" in prop:
        return prop["enum"][0]
    if "oneOf" in prop or "allOf" in prop:
        return _plain_value((prop.get("oneOf") or prop["allOf"])[0])
    kind, form = prop.get("type"), prop.get("format")
    if form == "date":
        return "2026-11-23"
    if form == "date-time":
        return "2026-11-23T18:00:00+08:00"
    if form == "decimal":
        return "1"
    return {"integer": 1, "number": 1, "boolean": False, "array": [], "object": {}}.get(kind, "x")


def _edge_requests(operation: dict):
    """(description, query, body) for each edge the operation's parameters and JSON body can carry."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "query":
            continue
        form, kind = parameter["schema"].get("format"), parameter["schema"].get("type")
        if form == "date":
            for day in EDGE_DATES:
                yield f"{parameter['name']}={day}", {parameter["name"]: day}, None
        elif kind == "integer":
            yield f"{parameter['name']}={HUGE_ID}", {parameter["name"]: HUGE_ID}, None
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return
    body_schema = _resolved(content["application/json"]["schema"])
    properties = {name: prop for name, prop in body_schema.get("properties", {}).items() if not _resolved(prop).get("readOnly")}
    plain = {name: _plain_value(prop) for name, prop in properties.items()}
    yield "50,000-deep body", {}, DEEP_JSON
    for name, prop in properties.items():
        form = _resolved(prop).get("format")
        edges = EDGE_DATES if form == "date" else EDGE_DATETIMES if form == "date-time" else EDGE_NUMBERS if form == "decimal" else ()
        if _resolved(prop).get("type") == "object" and not _resolved(prop).get("properties"):  # {"figures": {code: value}}
            edges = tuple({"sales": number} for number in EDGE_NUMBERS)
        for edge in edges:
            yield f"{name}={str(edge)[:20]}", {}, json.dumps({**plain, name: edge})


@pytest.mark.parametrize("role", ["staff", "lead", "director"])
def test_every_operation_answers_the_date_number_id_and_nesting_edges_without_a_server_error(role, world, db):  # noqa: F811
    token, _created = Token.objects.get_or_create(user=world.people[role].user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    failures, sent = [], 0
    for path, operations in schema.raw_schema["paths"].items():
        resource = path.removeprefix("/api/v1/").split("/", 1)[0]
        address = path.replace("{id}", str(world.ids.get(RESOURCE_IDS.get(resource, ""), 1)))
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for description, query, body in _edge_requests(operation):
                sent += 1
                try:
                    response = client.generic(
                        method.upper(), address + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""),
                        body or "", content_type="application/json",
                    )  # fmt: skip
                except Exception as exc:  # every uncaught error is the finding, listed with its request
                    failures.append(f"{method.upper()} {path} {description}: {type(exc).__name__}: {exc}"[:300])
                    continue
                if response.status_code >= 500:
                    failures.append(f"{method.upper()} {path} {description}: {response.status_code}")
    assert sent >= 100  # every operation with a date, an id, a number or a JSON body (100 today)
    assert not failures, "\n".join(failures)
