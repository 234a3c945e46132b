"""Every page of the product, listed from the URLconf against the demo world (issue 17).

`demo_world()` loads what `make run` loads (the demo shop, its duties, history and the day's jobs);
`page_urls()` walks the URLconf and gives one URL per page: patterns without arguments as they are, patterns
with an id filled from the demo world (PAGE_ARGS). A pattern that is not a page (a POST action, a file, the API)
is named in NOT_PAGES with why; a new pattern that is in neither fails `unlisted_patterns()`, so a new page is
never left out of the phone and language checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse

# Not pages a person opens: POST-only actions, machine endpoints, partials and links signed for one message.
NOT_PAGES = {
    "healthz": "machine check",
    "service-worker": "a script",
    "set_language": "POST action",
    "logout": "POST action",
    "phone-revoke": "POST action",
    "item-tick": "POST action",
    "item-untick": "POST action",
    "item-photo": "a photo file",
    "task-tick": "POST action",
    "problem-close": "POST action",
    "escalations-ack-mine": "POST action",
    "escalation-ack": "POST action",
    "ack-link": "signed one-message link (tests/test_escalation.py)",
    "notifications-read-all": "POST action",
    "notification-open": "redirects to what it names",
    "notification-mark-read": "POST action",
    "robot-test": "POST action",
    "robot-active": "POST action",
    "delivery-retry": "POST action",
    "meeting-attendance": "POST action",
    "meeting-agenda-add": "POST action",
    "meeting-agenda-notes": "POST action",
    "meeting-decision-add": "POST action",
    "meeting-action-add": "POST action",
    "meeting-decision-edit": "POST action",
    "meeting-decision-remove": "POST action",
    "meeting-action-remove": "POST action",
    "meeting-publish": "POST action",
    "meeting-approve": "POST action",
    "suite-act": "signed one-message link (tests/test_suites_callbacks.py)",
    "suite-login": "redirects to a suite's OAuth",
    "suite-app": "redirects to a suite's OAuth",
    "suite-signin": "a suite's OAuth callback",
    "suite-confirm": "POST action",
    "suite-callback": "a suite's event callback",
    "board-live": "a partial of the board (polled)",
    "board-nudge-member": "POST action",
    "board-nudge-role": "POST action",
    "nudge-banner": "a partial of the today page",
    "landing": "redirects to the member's first page",
    "board-export": "a spreadsheet",
    "board-trends": "the charts' figures (JSON)",
    "home": "redirects to the member's first page",
    "schema": "the API's schema",
    "api-docs": "Swagger UI, the API's reference for developers (drf-spectacular's own page)",
    "meeting-new": "POST action",
}


def _first_pk(model_path: str, **filters) -> Callable[[], int]:
    def get() -> int:
        from django.apps import apps

        model = apps.get_model(*model_path.split("."))
        return model.objects.filter(**filters).order_by("pk").values_list("pk", flat=True).first()

    return get


# Pages with an id: which object of the demo world fills it.
PAGE_ARGS: dict[str, Callable[[], int]] = {
    "task-detail": _first_pk("checklists.Task"),
    "campaign-detail": _first_pk("checklists.Campaign"),
    "plan-detail": _first_pk("checklists.Plan"),
    "meeting-detail": _first_pk("checklists.Meeting"),
    "meeting-print": _first_pk("checklists.Meeting"),
    "robot-edit": _first_pk("checklists.Robot"),
}


def _first_metric() -> str:
    from roles.models import Metric

    return "?metric=" + Metric.objects.order_by("pk").values_list("code", flat=True).first()


# Pages that need a query to show anything (a 404 without it).
PAGE_QUERIES: dict[str, Callable[[], str]] = {"board-kpi": _first_metric}
# Pages worth a second look with a query (tabs and views that change the layout).
EXTRA_URLS = ["/tasks/?scope=team", "/escalations/?status=acknowledged", "/board/?view=role"]


def _walk(patterns, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            route = prefix + str(pattern.pattern)
            if route.startswith(("api/v1/", "admin/", "i18n/")):
                continue
            yield from _walk(pattern.url_patterns, route)
        else:
            yield prefix + str(pattern.pattern), pattern


def unlisted_patterns() -> list[str]:
    """Patterns that are neither a known page, in PAGE_ARGS, nor in NOT_PAGES."""
    unlisted = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if pattern.name in NOT_PAGES or pattern.name in PAGE_ARGS:
            continue
        if "<" in route or pattern.name is None:
            unlisted.append(route)
    return unlisted


def page_urls() -> list[str]:
    """One URL per page (plus EXTRA_URLS), in URLconf order."""
    urls = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if pattern.name in NOT_PAGES or pattern.name is None:
            continue
        if pattern.name in PAGE_ARGS:
            pk = PAGE_ARGS[pattern.name]()
            assert pk, f"the demo world has nothing for {pattern.name}"
            urls.append(reverse(pattern.name, args=[pk]))
        elif "<" not in route:
            urls.append(reverse(pattern.name) + (PAGE_QUERIES[pattern.name]() if pattern.name in PAGE_QUERIES else ""))
    return urls + EXTRA_URLS


def demo_world() -> None:
    """What `make run` loads: the demo shop, its duties and history, and the day's jobs (lists, duties,
    escalations, meetings); plus a robot, so the robot page has one to show."""
    for command in ("load_demo", "load_demo_duties", "load_demo_history"):
        call_command(command, verbosity=0, stdout=_Null())
    call_command(
        "run_jobs",
        job=["generate_checklists", "generate_duties", "escalate", "create_meetings"],
        verbosity=0,
        stdout=_Null(),
    )
    from checklists.notify.models import Robot
    from roles.models import Team

    team = Team.objects.get(slug="demo")
    if not Robot.objects.filter(team=team).exists():
        Robot.objects.create(
            team=team, name="仓库群", kind="wecom", webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=demo"
        )


class _Null:
    def write(self, *_args) -> None:
        pass

    def flush(self) -> None:
        pass
