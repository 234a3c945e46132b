"""Browser tier: Debian's Chromium driven by Playwright against pytest-django's live server.

The browser is started once per session; every test gets fresh contexts (cookies, language, viewport).
Screenshots land in test-artifacts/screenshots/ (gitignored); a failing test leaves one per open page.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
from collections.abc import Callable, Iterator
from datetime import time
from pathlib import Path

import pytest
from django.utils import timezone

from checklists.daily.generation import run_generate_due
from checklists.models import Checklist, ChecklistItem, ChecklistTemplate
from opsteam.lib.clock import local_date
from roles.models import CalendarOverride, Member, Team
from tests.factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
INSTALL = "sudo apt-get install chromium chromium-driver fonts-noto-cjk"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
LOCALE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"

PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}

# Playwright expects its browsers and the Chromium a given release was built against; we use Debian's instead.
os.environ.setdefault("PLAYWRIGHT_SKIP_VALIDATE_HOST_REQUIREMENTS", "1")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.exit(f"The browser tests need Debian's Chromium at {CHROMIUM}. Install it with: {INSTALL}", returncode=1)
    fc_list = shutil.which("fc-list")
    if fc_list and not subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, check=False).stdout.strip():
        pytest.exit(f"No Chinese font is installed, so the pages cannot be judged by their screenshots. Install: {INSTALL}", returncode=1)
    catalog = LOCALE / "django.mo"
    if not catalog.exists():
        pytest.exit(f"{catalog.relative_to(ROOT)} is missing: the pages would not be in Chinese. Run `make messages` first.", returncode=1)
    if catalog.stat().st_mtime < (LOCALE / "django.po").stat().st_mtime:
        warnings.warn(f"{catalog.relative_to(ROOT)} is older than django.po: run `make messages`.", stacklevel=1)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between
    # page actions are still plain synchronous calls, so Django's async guard is lifted for this tier only.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser, live_server, screenshots, request) -> Iterator[Callable[..., object]]:
    """Open a page in a new context: new_page(**PHONE), new_page(java_script_enabled=False), ..."""
    contexts = []

    def make(**options):
        options.setdefault("viewport", DESKTOP["viewport"])
        context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai", **options)
        context.set_default_timeout(5_000)
        contexts.append(context)
        return context.new_page()

    yield make
    report = getattr(request.node, "report_call", None)
    failed = report is not None and report.failed
    for n, context in enumerate(contexts):
        if failed:
            for m, page in enumerate(context.pages):
                name = re.sub(r"[^\w.-]+", "_", request.node.name)
                page.screenshot(path=screenshots / f"FAILED-{name}-{n}-{m}.png", full_page=True)
        context.close()


@pytest.fixture
def page(new_page):
    """A desktop-sized page in its own context."""
    return new_page()


@pytest.fixture
def phone_page(new_page):
    """A 375 x 812 touch phone."""
    return new_page(**PHONE)


def login(page, username: str, password: str = PASSWORD) -> None:
    """Log in through the form and land where the member lands (issue 20: the director on the board, a lead on
    their role's board, staff on today)."""
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def language_switch(page, code: str) -> None:
    """Press the language button in the top bar (a plain form post to /i18n/setlang/)."""
    with page.expect_navigation():
        page.locator(f"form.lang button[name=language][value={code}]").click()
    assert page.locator("html").get_attribute("lang") == code


@pytest.fixture
def today_lists(team: Team, warehouse_member: Member, service_member: Member, operations_member: Member) -> dict[str, Checklist]:
    """Today's lists for the warehouse and the service member (and 运营's afternoon list), whatever the real date and time.

    Today (Shanghai) is made a working day for the team and every template is due from 00:00.
    """
    now = timezone.now()
    CalendarOverride.objects.update_or_create(team=team, date=local_date(now), defaults={"is_workday": True, "note": "browser tests"})
    ChecklistTemplate.objects.filter(team=team).update(generate_at=time(0, 0))
    result = run_generate_due(team=team, now=now)
    assert result.checklists_created >= 2, result
    return {
        "warehouse": Checklist.objects.get(assignee=warehouse_member, date=local_date(now)),
        "service": Checklist.objects.get(assignee=service_member, date=local_date(now), template__playbook_id="SC-CS"),
        "operations": Checklist.objects.get(assignee=operations_member, date=local_date(now), template__playbook_id="SC-OPS-PM"),
    }


def item_ids(checklist: Checklist) -> dict[str, int]:
    """{playbook ID: item pk} for one list."""
    return dict(ChecklistItem.objects.filter(checklist=checklist).values_list("playbook_id", "pk"))
