"""Workload 2, tick: the real API tick (token authentication, access check, lock, update, audit record) on gunicorn.

Ours: POST /api/v1/checklist-items/<id>/tick/ with `Authorization: Token ...`, each request a different open
item of one of 2,000 members, so every request really ticks. Reference: a plain Django view on the same
gunicorn, middleware and database doing one UPDATE by primary key (bench/reference_views.py).
4 and 16 connections, each side for a fixed time, interleaved, best of 4.
"""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench import shared
from bench.lib import Result, Workload, rate_ratio
from bench.load import generator, load
from checklists.models import ChecklistItem, TickEvent

# Six short rounds rather than two long ones: on a shared machine the capacity moves within a minute, and each
# side's best of six is less likely to come from a slow or a quiet moment the other side did not get (with
# four, the same code read 0.50-0.76x over one afternoon here).
SECONDS = 3.0
ROUNDS = 6
CONNECTIONS = (4, 16)
# Enough members for 12 runs of CHUNK open items each (20 items per member).
MEMBERS = 3000
# Open items handed to each run of ours: more than 3 s of ticks at any rate seen here (about 1,000 a second).
CHUNK = 4000


def _pool() -> list[tuple[str, int]]:
    org = shared.org()
    # Staff (not the director, not the lead) of the first 100 shops, ticking their own items.
    members = [m for i, m in enumerate(org.member_ids) if i % org.members_per_team >= 2][:MEMBERS]
    tokens = shared.tokens_for(members)
    items = ChecklistItem.objects.filter(checklist__assignee_id__in=members, checklist__date=org.day, status="open", is_group=False)
    rows = list(items.order_by("id").values_list("id", "checklist__assignee_id"))
    # Interleave members so that concurrent requests touch different lists (as on a shop floor).
    rows.sort(key=lambda row: (row[0] % 97, row[0]))
    return [(tokens[member_id], item_id) for item_id, member_id in rows]


def _tick_queries(token: str, item_id: int) -> list[str]:
    """The statements one API tick costs on PostgreSQL, counted in-process with the test client."""
    from rest_framework.test import APIClient

    client = APIClient(HTTP_HOST="127.0.0.1")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/api/v1/checklist-items/{item_id}/tick/", {}, format="json")
    assert response.status_code == 200, response.content
    return [q["sql"] for q in queries.captured_queries]


def run() -> list[Result]:
    shared.lists_ensure()
    pool = _pool()
    shared.settle()
    assert len(pool) > len(CONNECTIONS) * ROUNDS * CHUNK, f"{len(pool)} open items are too few for {len(CONNECTIONS) * ROUNDS} runs"
    port = shared.gunicorn()
    statements = _tick_queries(*pool.pop())
    # BEGIN and COMMIT (none on the one-statement path) would be counted by Django but touch no row.
    counted = len([sql for sql in statements if sql not in ("BEGIN", "COMMIT")])
    ref_ids = [item_id for _, item_id in pool]
    results: list[Result] = []
    events_before = TickEvent.objects.count()
    ticked = 0
    offset = 0
    for connections in CONNECTIONS:
        best_ours = best_ref = 0.0
        errors: list[str] = []
        for _ in range(ROUNDS):
            # A fresh share of open items for each run: every request really ticks (none is sent twice).
            share, offset = pool[offset : offset + CHUNK], offset + CHUNK
            ours = load(
                port=port,
                requests=[
                    (
                        "POST",
                        f"/api/v1/checklist-items/{item_id}/tick/",
                        b"{}",
                        {"Authorization": f"Token {token}", "Content-Type": "application/json"},
                    )
                    for token, item_id in share
                ],
                connections=connections,
                seconds=SECONDS,
            )
            ticked += ours.requests
            if ours.requests >= len(share):
                errors.append(f"{ours.requests} ticks asked for more than the {len(share)} open items given")
            ref = load(
                port=port,
                requests=[("POST", f"/bench/ref/tick/{item_id}/", b"", {}) for item_id in ref_ids[:CHUNK]],
                connections=connections,
                seconds=SECONDS,
            )
            best_ours, best_ref = max(best_ours, ours.rate), max(best_ref, ref.rate)
            errors += [e for e in (ours.first_error, ref.first_error) if e]
        results.append(
            rate_ratio(
                workload=f"tick: {connections} connections",
                ours=best_ours,
                reference=best_ref,
                limit=0.6,
                checks={"no errors": not errors, "<= 3 queries per tick, authentication included": counted <= 3},
                notes=[f"first error: {errors[0]}"] if errors else [],
            )
        )
    recorded = TickEvent.objects.count() - events_before
    results[0].notes.append(
        f"one API tick = {counted} statements on PostgreSQL: the token with its user, member and team, then the tick "
        "(update and tick record in one statement, prepared per connection); "
        f"gunicorn 2 sync workers, load by {generator()}, {SECONDS:g} s per side, best of {ROUNDS}"
    )
    results[0].checks["every 200 recorded one tick"] = recorded >= ticked
    results[0].notes.append("statements: " + " | ".join(" ".join(sql.split()[:6])[:70] for sql in statements))
    return results


WORKLOADS = [Workload(name="tick", run=run, order=20)]
