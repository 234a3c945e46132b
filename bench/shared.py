"""What several workloads share within one run: the organisation, the worker and gunicorn, started once."""

from __future__ import annotations

from bench import stack
from bench.data import Org, org_create

# The shop group: 500 shops, 10,000 staff, 20 items each every morning.
TEAMS = 500
MEMBERS_PER_TEAM = 20
ITEMS = 20

_state: dict = {}


def org() -> Org:
    if "org" not in _state:
        _state["org"] = org_create(teams=TEAMS, members_per_team=MEMBERS_PER_TEAM, items_per_template=ITEMS)
    return _state["org"]


def worker() -> stack.Process:
    if "worker" not in _state:
        _state["worker"] = stack.worker_start(concurrency=2)
    return _state["worker"]


def gunicorn() -> int:
    if "gunicorn" not in _state:
        _state["gunicorn"] = stack.gunicorn_start()
    return _state["gunicorn"][1]


def stop_all() -> None:
    if "worker" in _state:
        _state.pop("worker").stop()
    if "gunicorn" in _state:
        _state.pop("gunicorn")[0].stop()
