"""Issue 15: a member's photo that is also a script or a page does nothing when the director opens it in Chromium."""

from __future__ import annotations

import time

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from checklists.daily.ticks import tick_record
from checklists.models import ChecklistItem
from tests.browser.conftest import item_ids, login
from tests.test_photos import gif_html_polyglot, gif_javascript_polyglot

# What the uploader's script would do in the director's browser: change the title, mark the window, and call the
# site with the director's session (here: mark every notification read).
PAYLOAD = b"document.title='pwned';window.__pwned=1;fetch('/notifications/read-all/',{method:'POST'});"


def test_a_polyglot_photo_opened_by_the_director_runs_nothing_and_is_only_an_image(
    new_page, settings, tmp_path, today_lists, warehouse_member, director
):
    settings.MEDIA_ROOT = tmp_path
    ids = item_ids(today_lists["warehouse"])
    script_item, page_item = ChecklistItem.objects.get(pk=ids["SC-WH-2"]), ChecklistItem.objects.get(pk=ids["SC-WH-3"])
    script_url, page_url = f"/items/{script_item.pk}/photo/", f"/items/{page_item.pk}/photo/"
    # The member's two uploads, as the attack had them: a GIF that is a script, a GIF that is a page loading it.
    tick_record(
        item=script_item, actor=warehouse_member, now=timezone.now(), photo=SimpleUploadedFile("x.js", gif_javascript_polyglot(PAYLOAD))
    )
    tick_record(
        item=page_item, actor=warehouse_member, now=timezone.now(), photo=SimpleUploadedFile("x.html", gif_html_polyglot(script_url))
    )

    page = new_page()
    login(page, "boss")
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    # One tap on the thumbnail: the photo opens as a page of its own.
    response = page.goto(page_url)
    time.sleep(0.5)  # a script it held would have run by now
    assert response.status == 200
    assert response.headers["content-type"] == "image/gif"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert "pwned" not in page.title()
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("window.origin") == "null"  # sandboxed: not this site's origin, no cookies, no API
    assert not [url for url in requested if script_url in url or "read-all" in url]

    # A page of the site that loads the other photo as a script (script-src 'self' lets it try): the browser refuses.
    page.goto("/today/")  # the director lands on the board (issue 20): today's title is read here
    title_before = page.title()
    outcome = page.evaluate(
        """url => new Promise(resolve => {
            const script = document.createElement('script');
            script.src = url;
            script.onload = () => resolve('ran');
            script.onerror = () => resolve('refused');
            document.head.appendChild(script);
        })""",
        script_url,
    )
    assert outcome == "refused"
    assert page.evaluate("window.__pwned") is None
    assert page.title() != "pwned"
    assert page.title() == title_before
