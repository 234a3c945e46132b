"""The one way OpsTeam calls a suite's API: JSON over HTTPS, a bounded wait, never raising for the vendor's answers."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from django.conf import settings

logger = logging.getLogger("opsteam.suites")

TIMEOUT_SECONDS = 8.0


@dataclass
class HttpAnswer:
    status: int
    body: dict
    headers: dict = field(default_factory=dict)
    network_error: str = ""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def suite_base(kind: str, part: str) -> str:
    """The vendor's host for `part` (api, oapi, login…), from settings.OPSTEAM_SUITE_HOSTS (tests point it at a fake)."""
    return settings.OPSTEAM_SUITE_HOSTS[kind][part].rstrip("/")


def call(method: str, url: str, *, params: dict | None = None, payload: dict | None = None, headers: dict | None = None) -> HttpAnswer:
    if params:
        url = f"{url}{'&' if '?' in url else '?'}{urllib.parse.urlencode(params)}"
    data = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - hosts come from settings only
    request.add_header("Content-Type", "application/json; charset=utf-8")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return HttpAnswer(response.status, _json(response.read(256 * 1024)), dict(response.headers))
    except urllib.error.HTTPError as exc:
        raw = exc.read(256 * 1024) if exc.fp else b""
        return HttpAnswer(exc.code, _json(raw), dict(exc.headers or {}))
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        logger.info("suite call %s %s failed: %s", method, url.split("?")[0], exc)
        return HttpAnswer(0, {}, {}, network_error=str(getattr(exc, "reason", exc))[:200])


def _json(raw: bytes) -> dict:
    try:
        body = json.loads(raw.decode() or "{}")
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}
    return body if isinstance(body, dict) else {}
