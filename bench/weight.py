"""Workload 6, page weight: the today page and the board as a phone downloads them, compressed.

The HTML comes from gunicorn (a member's session; the director's for the board); every stylesheet, script
and image it names is read from the static files and added. Each is gzip-compressed (level 6, a usual
front-proxy setting). Any URL pointing at another host fails the row: no request may leave the server.
Target: the today page under 60 KB; the board is measured and shown without a target of its own.
"""

from __future__ import annotations

import gzip
import http.client
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from bench import shared
from bench.lib import Result, Workload
from roles.models import Member

ASSET = re.compile(r"""<(?:script|link|img|iframe|source)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
LIMIT_KB = 60


def _fetch(port: int, path: str, session: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Cookie": f"sessionid={session}", "Accept-Language": "zh-hans"})
    response = conn.getresponse()
    body = response.read()
    assert response.status == 200, (path, response.status, body[:300])
    return body


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def _weigh(port: int, path: str, member: Member) -> tuple[float, list[str], list[str]]:
    client = Client()
    client.force_login(member.user)
    html = _fetch(port, path, client.cookies["sessionid"].value)
    total = _gz(html)
    parts = [f"HTML {_gz(html) / 1024:.1f}"]
    external: list[str] = []
    for url in dict.fromkeys(ASSET.findall(html.decode())):
        parsed = urlsplit(url)
        if parsed.scheme in ("http", "https") or url.startswith("//"):
            external.append(url)
            continue
        if not parsed.path.startswith(settings.STATIC_URL):
            continue  # a page link (<link rel=...> to a page), not a download
        found = finders.find(parsed.path[len(settings.STATIC_URL) :])
        if not found:
            external.append(f"missing {url}")
            continue
        with open(found, "rb") as handle:
            size = _gz(handle.read())
        total += size
        parts.append(f"{parsed.path.rsplit('/', 1)[-1]} {size / 1024:.1f}")
    return total / 1024, parts, external


def run() -> list[Result]:
    org = shared.org()
    shared.lists_ensure()
    port = shared.gunicorn()
    member = Member.objects.select_related("user").get(pk=org.member_ids[2])
    director = Member.objects.select_related("user").get(pk=org.member_ids[0])
    results = []
    for name, path, who, limit in (("weight: today page", "/today/", member, LIMIT_KB), ("weight: board", "/board/", director, None)):
        kb, parts, external = _weigh(port, path, who)
        results.append(
            Result(
                workload=name,
                ours=kb,
                reference=limit or 0,
                unit="KB",
                target=f"< {limit} KB" if limit else "(shown)",
                passed=(limit is None or kb < limit) and not external,
                kind="size",
                limit=limit or 0,
                checks={"no request leaves the server": not external},
                notes=[f"gzip KB: {', '.join(parts)}" + (f"; external: {', '.join(external)}" if external else "")],
            )
        )
    return results


WORKLOADS = [Workload(name="weight", run=run, order=60)]
