"""The import graph has a direction (docs/architecture.md): no circles, no upward import.

Read from the source with ast, every import counted, those inside functions too: an import moved into a
function to dodge a circle is still a circle.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("opsteam", "roles", "checklists")

# Lowest first. A module may import a module of its own rank or of a lower one (models aside, see below).
RANKS = [
    ("opsteam.lib", 0),
    # The project's request plumbing every app's doors use (DRF fields and errors, parsers, paging); no app import.
    *((name, 0) for name in ("opsteam.api", "opsteam.parsers", "opsteam.negotiation", "opsteam.pagination")),
    ("roles", 1),
    ("checklists.daily", 2),
    ("checklists.duties", 3),
    ("checklists.notify", 4),
    ("checklists.escalation", 5),
    ("checklists.meetings", 6),
    ("checklists.board", 7),
    ("checklists.playbook", 8),
    ("checklists", 9),  # the app's glue: the models registry, admin, urls, the Celery registry, run_jobs
    ("opsteam", 10),  # the project: settings, middleware, routing
]
# The doors: they parse a request (or a task's ids, a vendor's callback, a command line) and call one service of
# whichever room owns the action. They may call any room; no module but a door imports a door.
DOORS = {"views", "api", "urls", "api_urls", "tasks", "admin", "callbacks", "apps"}
SHARED_PLUMBING = {"opsteam.api"}
# opsteam imports the apps only to route URLs.
PROJECT_ROUTERS = {"opsteam.urls", "opsteam.api_urls"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


@cache
def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    targets.add(child if child in modules else node.module)
        graph[name] = {target for target in targets if target in modules and target != name}
    return graph


def _rank(module: str) -> int:
    return next(rank for prefix, rank in RANKS if module == prefix or module.startswith(prefix + "."))


def _is_door(module: str) -> bool:
    parts = module.split(".")
    if module in SHARED_PLUMBING or {"models", "services", "selectors"} & set(parts[:-1]):
        return False
    return bool(DOORS & set(parts[1:])) or "templatetags" in parts or "management" in parts


def _is_models(module: str) -> bool:
    return "models" in module.split(".")


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _upward(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, targets in graph.items():
        for target in targets:
            if _is_door(target) and not _is_door(module):
                wrong.append(f"{module} imports the door {target}")
            elif _is_door(module) or _is_models(target):
                continue  # a door calls any room; any room reads any room's tables
            elif _rank(target) > _rank(module):
                wrong.append(f"{module} imports {target}, a room above it")
    return sorted(wrong)


def test_the_reader_finds_every_module_of_the_three_packages():
    graph = _graph()
    assert {"checklists.models", "roles.models", "opsteam.urls"} <= set(graph)
    assert len(graph) > 50


def test_no_module_imports_itself_back_through_others():
    assert _cycles(_graph()) == []


def test_no_module_imports_a_room_above_its_own():
    assert _upward(_graph()) == []


def test_roles_never_imports_checklists():
    graph = _graph()
    assert [f"{m} -> {t}" for m, targets in graph.items() if m.startswith("roles") for t in targets if t.startswith("checklists")] == []


def test_opsteam_imports_the_apps_only_to_route_urls():
    graph = _graph()
    wrong = [
        f"{module} -> {target}"
        for module, targets in graph.items()
        if module.startswith("opsteam") and module not in PROJECT_ROUTERS
        for target in targets
        if target.startswith(("roles", "checklists"))
    ]
    assert wrong == []


def test_the_checker_sees_a_circle_and_an_upward_import():
    # The rules above cannot pass by reading nothing: a made-up graph with both defects is caught.
    graph = {
        "checklists.daily.services": {"checklists.escalation.raise_"},
        "checklists.escalation.raise_": {"checklists.daily.services"},
        "checklists.daily.selectors": {"checklists.daily.views"},
    }
    assert _cycles(graph) == [["checklists.daily.services", "checklists.escalation.raise_"]]
    assert _upward(graph) == [
        "checklists.daily.selectors imports the door checklists.daily.views",
        "checklists.daily.services imports checklists.escalation.raise_, a room above it",
    ]
