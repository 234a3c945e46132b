"""Workload 3, my day: the today page and GET /api/v1/checklists/?date= for a member with 25 items.

Reference: a view returning the same rows from the same two queries as plain dicts (bench/reference_views.py).
Ours is the product as served: the page with session login, the template, the bell and the day's duties;
the API with token authentication and its serializer. 4 connections, each side for a fixed time, interleaved, best of 4.
"""

from __future__ import annotations

from django.test import Client
from django.utils import timezone

from bench import shared
from bench.data import org_create
from bench.lib import Result, Workload, rate_ratio
from bench.load import generator, load
from checklists.daily.generation import run_generate_due
from checklists.models import ChecklistItem
from roles.models import Member, Team

# As bench/tick.py: six short interleaved rounds, each side's best.
SECONDS = 3.0
ROUNDS = 6
CONNECTIONS = 4
ITEMS = 25


def _member() -> Member:
    org = org_create(teams=1, members_per_team=3, items_per_template=ITEMS, prefix="myday")
    run_generate_due(team=Team.objects.get(pk=org.team_ids[0]), now=timezone.now())
    member = Member.objects.select_related("user").get(pk=org.member_ids[2])
    assert ChecklistItem.objects.filter(checklist__assignee=member, checklist__date=org.day).count() == ITEMS
    return member


def _measure(port: int, ours_request, ref_request) -> tuple[float, float, list[str]]:
    best_ours = best_ref = 0.0
    errors: list[str] = []
    for _ in range(ROUNDS):
        for request, is_ours in ((ours_request, True), (ref_request, False)):
            result = load(port=port, requests=[request], connections=CONNECTIONS, seconds=SECONDS)
            if result.first_error:
                errors.append(result.first_error)
            if is_ours:
                best_ours = max(best_ours, result.rate)
            else:
                best_ref = max(best_ref, result.rate)
    return best_ours, best_ref, errors


def _content_check(port: int, *requests) -> None:
    """Before timing: each side answers with the member's 25 items."""
    import http.client
    import json

    for method, path, _body, headers in requests:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200, (path, response.status, body[:300])
        if path.startswith("/today/"):
            assert body.decode().count('id="item-') >= ITEMS, "the today page does not show the 25 items"
        else:
            assert sum(len(row["items"]) for row in json.loads(body)) == ITEMS, path


def run() -> list[Result]:
    member = _member()
    shared.settle()
    day = timezone.localdate().isoformat()
    token = shared.tokens_for([member.pk])[member.pk]
    client = Client()
    client.force_login(member.user)
    session = client.cookies["sessionid"].value
    port = shared.gunicorn()
    reference = ("GET", f"/bench/ref/my-day/{member.pk}/?date={day}", None, {})

    page = ("GET", "/today/", None, {"Cookie": f"sessionid={session}", "Accept-Language": "zh-hans"})
    api = ("GET", f"/api/v1/checklists/?date={day}", None, {"Authorization": f"Token {token}"})
    _content_check(port, page, api, reference)
    results = []
    for name, ours in (("my day: today page", page), ("my day: API list", api)):
        best_ours, best_ref, errors = _measure(port, ours, reference)
        results.append(
            rate_ratio(
                workload=name,
                ours=best_ours,
                reference=best_ref,
                limit=0.6,
                checks={"no errors": not errors},
                notes=[f"first error: {errors[0]}"] if errors else [],
            )
        )
    results[0].notes.append(
        f"{ITEMS} items; {CONNECTIONS} connections, load by {generator()}, {SECONDS:g} s per side, best of {ROUNDS}; "
        "fixed query counts pinned in tests/test_pages.py and tests/test_api.py"
    )
    return results


WORKLOADS = [Workload(name="myday", run=run, order=30)]
