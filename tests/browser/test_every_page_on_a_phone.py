"""Every page at 390 x 844 (issue 17, "made for a thumb"): nothing wider than the screen, and every visible link
and button at least 44 px tall. The pages are listed from the URLconf against the demo world (tests/every_page.py)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login
from tests.every_page import demo_world, page_urls, unlisted_patterns

PHONE_390 = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
MIN_HEIGHT = 44  # px: Apple's and Google's smallest comfortable target for a thumb

# Visible links and buttons (and summaries, which are pressed like one) under MIN_HEIGHT px tall. A link inside
# running text of a user's own words (rendered minutes) is not a control.
SHORT_TARGETS_JS = """(min) => [...document.querySelectorAll('a[href], button, summary, input[type=submit]')]
    .filter(e => e.offsetParent !== null && !e.closest('.markdown, .n-body'))
    .map(e => [e, e.getBoundingClientRect()])
    .filter(([e, r]) => r.width > 0 && r.height < min - 0.5)
    .map(([e, r]) => [e.tagName, (e.innerText || e.value || e.getAttribute('aria-label') || '').trim().slice(0, 30),
                      `${Math.round(r.width)}x${Math.round(r.height)}`].join(' '))"""

# Visible elements reaching past the window's right edge that no scrolling box of their own holds: cut off
# (under `overflow: hidden`) or widening the page.
CUT_OFF_JS = """() => [...document.body.querySelectorAll('*')]
    .filter(e => e.offsetParent !== null)
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .filter(e => { for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll') return false; } return true; })
    .filter(e => !e.parentElement || e.parentElement.getBoundingClientRect().right <= window.innerWidth + 1)
    .map(e => [`${e.tagName}.${[...e.classList].join('.')}`, (e.innerText || '').trim().slice(0, 30),
               `reaches ${Math.round(e.getBoundingClientRect().right)} px`].join(' '))"""


@pytest.fixture
def demo(transactional_db):
    demo_world()


def test_every_page_pattern_is_listed_as_a_page_or_not():
    assert unlisted_patterns() == []


def test_every_page_fits_a_390_px_phone_and_every_target_is_44_px_tall(new_page, demo, screenshots):
    page = new_page(**PHONE_390)
    problems = []
    page.goto("/accounts/login/")
    problems += _check(page, "/accounts/login/")
    login(page, "director", "opsteam-demo")
    urls = [*page_urls(), "/no-such-page/"]
    for url in urls:
        response = page.goto(url)
        assert response.status in (200, 404), f"{url} answered {response.status}"
        problems += _check(page, url)
    page.context.clear_cookies()
    login(page, "warehouse_1", "opsteam-demo")  # staff: the today page with items and duties
    for url in ("/today/", "/history/", "/tasks/"):
        page.goto(url)
        problems += _check(page, f"{url} (staff)")
    assert not problems, f"{len(problems)} problems on {len(urls)} pages:\n" + "\n".join(problems)


def _check(page, url: str) -> list[str]:
    problems = []
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if scroll > inner:
        problems.append(f"{url}: {scroll} px wide in a {inner} px window")
    problems += [f"{url}: {element}" for element in page.evaluate(CUT_OFF_JS)]
    problems += [f"{url}: {target}" for target in page.evaluate(SHORT_TARGETS_JS, MIN_HEIGHT)]
    return problems
