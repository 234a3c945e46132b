"""Group robots: the three vendors' signatures and message shapes (pure), the HTTP call, and managing robots.

The clients are pure functions of (robot settings, messages, clock): tests recompute the signatures
from what a local server received. Vendor references (checked 2026-11):

- DingTalk custom robot, 加签 security setting and message types:
  https://open.dingtalk.com/document/robots/customize-robot-security-settings
  https://open.dingtalk.com/document/robots/custom-robot-access (20 messages a minute per robot;
  "大量发消息的场景可以将这些信息进行整合,通过 markdown 消息以摘要的形式发送到群里")
- WeCom group robot: https://developer.work.weixin.qq.com/document/path/91770
  (text content up to 2048 bytes with mentioned_mobile_list; markdown content up to 4096 bytes;
  20 messages a minute per robot)
- Feishu custom bot and its signature check: https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot
  (card markdown mentions a member with <at id=ou_xxx></at>; 100 a minute, 5 a second per bot)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from checklists.models import Robot, RobotKind, RobotSend
from checklists.notify.models import ROBOT_RATE_LIMITS, robot_webhook_problem
from opsteam.lib.text import text_line
from roles.models import Member, Role, Team

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
RATE_WINDOW = timedelta(seconds=60)
# Bytes a message body may hold, below each vendor's limit (WeCom markdown 4096, text 2048; the others ~20 KB).
MAX_BYTES = {RobotKind.DINGTALK: 15000, RobotKind.WECOM: 1900, RobotKind.FEISHU: 15000}


@dataclass(frozen=True)
class RobotMessage:
    """One notification as a robot shows it: Chinese markdown, a link and who to @."""

    title: str
    text: str
    url: str = ""
    mobile: str = ""
    feishu_open_id: str = ""
    name: str = ""


@dataclass(frozen=True)
class RobotRequest:
    url: str
    payload: dict


@dataclass
class RobotResult:
    ok: bool
    http_status: int | None = None
    error_code: str = ""
    error: str = ""


# --- signatures -------------------------------------------------------------------------------------


def dingtalk_sign(*, secret: str, timestamp_ms: int) -> str:
    """DingTalk 加签: base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")), URL-quoted.

    The timestamp is in milliseconds and must be within an hour of DingTalk's clock.
    """
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def feishu_sign(*, secret: str, timestamp_s: int) -> str:
    """Feishu signature: base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b"")); the timestamp is in seconds."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


# --- message shapes ---------------------------------------------------------------------------------


def _heading(messages: list[RobotMessage]) -> str:
    if len(messages) == 1:
        return messages[0].title
    return _("OpsTeam: %(count)d reminders") % {"count": len(messages)}


def _markdown_entry(message: RobotMessage, *, mention: str) -> str:
    lines = [f"**{message.title}** · {message.name}" if message.name else f"**{message.title}**"]
    if message.text:
        lines.append(message.text)
    if message.url:
        lines.append(f"[{_('Open')}]({message.url})")
    if mention:
        lines.append(mention)
    return "\n\n".join(lines)


def _unique(values) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def dingtalk_request(*, webhook_url: str, secret: str, messages: list[RobotMessage], timestamp_ms: int) -> RobotRequest:
    """markdown with "@mobile" in the text and the same mobiles in at.atMobiles (both are needed for the @ to ring)."""
    title = _heading(messages)
    entries = [_markdown_entry(m, mention=f"@{m.mobile}" if m.mobile else "") for m in messages]
    text = f"### {title}\n\n" + "\n\n---\n\n".join(entries)
    payload = {
        "msgtype": "markdown",
        "markdown": {"title": title, "text": text},
        "at": {"atMobiles": _unique(m.mobile for m in messages), "isAtAll": False},
    }
    url = webhook_url
    if secret:
        separator = "&" if "?" in url else "?"
        url = f"{url}{separator}timestamp={timestamp_ms}&sign={dingtalk_sign(secret=secret, timestamp_ms=timestamp_ms)}"
    return RobotRequest(url=url, payload=payload)


def wecom_request(*, webhook_url: str, messages: list[RobotMessage]) -> RobotRequest:
    """WeCom markdown cannot @ by mobile, so a message with people to @ goes as "text" with mentioned_mobile_list.

    Our choice (one message, never a follow-up): with mentions the links stay readable as bare URLs in text;
    without mentions it is markdown.
    """
    mobiles = _unique(m.mobile for m in messages)
    title = _heading(messages)
    if mobiles:
        parts = []
        for m in messages:
            part = [f"【{m.title}】"]
            if m.text:
                part.append(m.text)
            if m.url:
                part.append(m.url)
            parts.append("\n".join(part))
        content = f"{title}\n\n" + "\n\n".join(parts) if len(messages) > 1 else "\n\n".join(parts)
        return RobotRequest(url=webhook_url, payload={"msgtype": "text", "text": {"content": content, "mentioned_mobile_list": mobiles}})
    entries = [_markdown_entry(m, mention="") for m in messages]
    content = f"### {title}\n\n" + "\n\n".join(entries)
    return RobotRequest(url=webhook_url, payload={"msgtype": "markdown", "markdown": {"content": content}})


def feishu_request(*, webhook_url: str, secret: str, messages: list[RobotMessage], timestamp_s: int) -> RobotRequest:
    """An interactive card (lark_md markdown) with <at id=ou_xxx></at>; with a secret, "timestamp" and "sign" in the body."""
    title = _heading(messages)
    entries = [_markdown_entry(m, mention=f"<at id={m.feishu_open_id}></at>" if m.feishu_open_id else "") for m in messages]
    payload: dict = {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": title}, "template": "red"},
            "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": "\n\n---\n\n".join(entries)}}],
        },
    }
    if secret:
        payload = {"timestamp": str(timestamp_s), "sign": feishu_sign(secret=secret, timestamp_s=timestamp_s), **payload}
    return RobotRequest(url=webhook_url, payload=payload)


def robot_request(*, robot: Robot, messages: list[RobotMessage], now: datetime) -> RobotRequest:
    if robot.kind == RobotKind.DINGTALK:
        return dingtalk_request(
            webhook_url=robot.webhook_url, secret=robot.secret, messages=messages, timestamp_ms=int(now.timestamp() * 1000)
        )
    if robot.kind == RobotKind.WECOM:
        return wecom_request(webhook_url=robot.webhook_url, messages=messages)
    return feishu_request(webhook_url=robot.webhook_url, secret=robot.secret, messages=messages, timestamp_s=int(now.timestamp()))


def robot_message_chunks(*, kind: str, messages: list[RobotMessage]) -> list[list[RobotMessage]]:
    """Split a digest so each message stays under the vendor's size limit (never drop one)."""
    limit = MAX_BYTES[kind]
    chunks: list[list[RobotMessage]] = []
    current: list[RobotMessage] = []
    size = 0
    for message in messages:
        entry = len(_markdown_entry(message, mention=message.mobile or message.feishu_open_id).encode()) + 16
        if entry > limit:
            # One message alone over the vendor's limit would be refused on every retry: shorten its text
            # (the full text stays in the app and the email, and the link leads there).
            budget = max(0, len(message.text.encode()) - (entry - limit) - 8)
            message = replace(message, text=message.text.encode()[:budget].decode(errors="ignore").rstrip() + " …")
            entry = limit
        if current and size + entry > limit:
            chunks.append(current)
            current, size = [], 0
        current.append(message)
        size += entry
    if current:
        chunks.append(current)
    return chunks


# --- the HTTP call ----------------------------------------------------------------------------------


def _result_from_body(kind: str, status: int, raw: bytes) -> RobotResult:
    """Only the vendor's code and message fields are kept: the rest of a reply is never stored or shown."""
    try:
        body = json.loads(raw.decode() or "{}")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: a reply nested thousands deep
        body = {}
    if not isinstance(body, dict):
        body = {}
    # DingTalk and WeCom answer {"errcode": 0, "errmsg": "ok"}; Feishu {"code": 0, "msg": "success"}
    # (older Feishu answers carry StatusCode instead).
    if kind == RobotKind.FEISHU:
        code = body.get("code", body.get("StatusCode"))
        message = body.get("msg", body.get("StatusMessage", ""))
    else:
        code = body.get("errcode")
        message = body.get("errmsg", "")
    if not isinstance(code, int | str) or isinstance(code, bool):
        code = None
    message = message[:200] if isinstance(message, str) else ""
    if code == 0:
        return RobotResult(ok=True, http_status=status)
    if code is None:
        # Not the vendor's answer (an HTML error page, a proxy): the HTTP status says enough.
        return RobotResult(ok=False, http_status=status, error_code=str(status))
    return RobotResult(ok=False, http_status=status, error_code=str(code)[:40], error=message)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A vendor webhook never redirects: following one could lead the call off the allowed host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _network_reason(exc: BaseException) -> str:
    """What went wrong on the way, in words (the errno text goes to the log, not the page)."""
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, socket.gaierror):
        return _("the address's host name does not resolve")
    if isinstance(reason, TimeoutError):
        return _("no answer within %(seconds)d seconds") % {"seconds": TIMEOUT_SECONDS}
    if isinstance(reason, ConnectionRefusedError):
        return _("the connection was refused")
    if isinstance(reason, ssl.SSLError):
        return _("the secure connection (TLS) failed")
    return _("the connection failed")


def robot_post(*, kind: str, request: RobotRequest, timeout: float = TIMEOUT_SECONDS) -> RobotResult:
    """POST the JSON; a refused address, a vendor error code, an HTTP status or a network error becomes a failed result (never raises)."""
    problem = robot_webhook_problem(kind=kind, url=request.url)
    if problem:
        # SSRF: the address was checked when the robot was saved, but a row saved before that rule must not be called.
        logger.warning("robot call refused: %s is not an allowed %s address", request.url.split("?")[0], kind)
        return RobotResult(ok=False, error_code="address", error=problem)
    data = json.dumps(request.payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    http_request = urllib.request.Request(request.url, data=data, method="POST", headers=headers)  # noqa: S310 - host checked above
    try:
        with _opener.open(http_request, timeout=timeout) as response:
            return _result_from_body(kind, response.status, response.read(64 * 1024))
    except urllib.error.HTTPError as exc:
        raw = exc.read(64 * 1024) if exc.fp else b""
        result = _result_from_body(kind, exc.code, raw)
        result.ok = False
        result.error_code = str(exc.code)
        return result
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        logger.info("robot call to %s failed: %s", request.url.split("?")[0], exc)
        return RobotResult(ok=False, error_code="network", error=_network_reason(exc))


def robot_window_used(*, robot: Robot, now: datetime) -> int:
    """Sends to this robot in the last minute: what its rate limit counts."""
    return RobotSend.objects.filter(robot=robot, at__gt=now - RATE_WINDOW, at__lte=now).count()


def robot_reserve_sends(*, robot: Robot, wanted: int, now: datetime, is_test: bool = False) -> list[RobotSend]:
    """Reserve up to `wanted` sends inside the robot's rate window, under a lock on the robot row.

    Two flushes for the same robot could otherwise both count 19 and both send: the lock makes the
    count-and-insert one step; the HTTP calls happen after the commit, on the reserved rows.
    """
    with transaction.atomic():
        Robot.objects.select_for_update().filter(pk=robot.pk).first()
        room = max(0, robot.rate_per_minute - robot_window_used(robot=robot, now=now))
        count = min(room, wanted)
        sends = [RobotSend(robot=robot, send_id=uuid.uuid4(), at=now, messages=1, ok=False, is_test=is_test) for _ in range(count)]
        RobotSend.objects.bulk_create(sends)
    return sends


def robot_send_record(*, send: RobotSend, result: RobotResult, messages: int) -> None:
    send.ok = result.ok
    send.http_status = result.http_status
    send.error_code = result.error_code
    send.error = result.error
    send.messages = messages
    send.save(update_fields=["ok", "http_status", "error_code", "error", "messages"])


def robot_deliver(*, robot: Robot, send: RobotSend, messages: list[RobotMessage], now: datetime) -> RobotResult:
    """One reserved send: build, sign, POST, record the result on the RobotSend."""
    try:
        # Groups read Chinese: the words around the notifications are in the site's language, not the clicker's;
        # so is a failure's reason, which is stored on the send and the deliveries for everyone to read.
        with translation.override(settings.LANGUAGE_CODE):
            request = robot_request(robot=robot, messages=messages, now=now)
            result = robot_post(kind=robot.kind, request=request)
    except Exception:  # a bug must not leave the reserved send looking like it is still in flight
        logger.exception("robot %s: building or sending the message failed", robot.pk)
        result = RobotResult(ok=False, error_code="error")
    robot_send_record(send=send, result=result, messages=len(messages))
    return result


# --- managing robots (the director's page) ----------------------------------------------------------


def _require_director(actor: Member) -> None:
    if not (actor.is_director or actor.user.is_superuser):
        raise PermissionDenied(_("Only the director manages the group robots."))


def _robot_clean(robot: Robot) -> None:
    """The name is one line of text; the role must be the team's; the webhook must be on the vendor's host (Robot.clean)."""
    robot.name = text_line(robot.name, field="name")
    if robot.role_id and not Role.objects.filter(pk=robot.role_id, team_id=robot.team_id).exists():
        raise ValidationError({"role": _("Choose one of your team's roles.")})
    if robot.rate_per_minute is None:
        # Left empty on the form: the vendor's own limit (DingTalk and WeCom 20, Feishu 100).
        robot.rate_per_minute = ROBOT_RATE_LIMITS.get(robot.kind, 20)
    robot.full_clean()


ROBOT_FIELDS = ("kind", "name", "webhook_url", "secret", "role", "rate_per_minute", "is_active")


def robot_create(*, team: Team, actor: Member, **fields) -> Robot:
    """`rate_per_minute=None` (or left out) takes the vendor's limit."""
    _require_director(actor)
    fields.setdefault("rate_per_minute", None)
    robot = Robot(team=team, **{k: v for k, v in fields.items() if k in ROBOT_FIELDS})
    _robot_clean(robot)
    robot.save()
    return robot


def robot_update(*, robot: Robot, actor: Member, **fields) -> Robot:
    """An empty secret keeps the stored one: the page never shows a secret back; `rate_per_minute=None` is the vendor's limit."""
    _require_director(actor)
    for name, value in fields.items():
        if name not in ROBOT_FIELDS or (name == "secret" and not value):
            continue
        setattr(robot, name, value)
    _robot_clean(robot)
    robot.save()
    return robot


def robot_send_test(*, robot: Robot, actor: Member, now: datetime) -> RobotSend:
    """Send a test message now (it counts against the rate limit, like any message)."""
    _require_director(actor)
    problem = robot_webhook_problem(kind=robot.kind, url=robot.webhook_url)
    if problem:
        # Saved before addresses were checked: refuse before taking a send from the robot's minute.
        raise ValidationError(problem)
    sends = robot_reserve_sends(robot=robot, wanted=1, now=now, is_test=True)
    if not sends:
        raise ValidationError(
            _("This robot has sent its %(limit)d messages of the last minute. Try again in a minute.") % {"limit": robot.rate_per_minute}
        )
    base = settings.OPSTEAM_BASE_URL
    message = RobotMessage(
        title=_("OpsTeam test message"),
        text=_("%(name)s sent this test from OpsTeam. Reminders and escalations for %(team)s will arrive here.")
        % {"name": actor.display_name, "team": robot.team.name},
        url=f"{base}/robots/",
        mobile=actor.mobile,
        feishu_open_id=actor.feishu_open_id,
    )
    robot_deliver(robot=robot, send=sends[0], messages=[message], now=now)
    return sends[0]


def delivery_failure_label(*, channel: str, error_code: str) -> str:
    """What a failed or retrying message's error code means, in the reader's language (the detail beside it is
    stored as it came, at send time)."""
    if error_code == "network":
        return _("Not reached (network)")
    if error_code == "address":
        return _("Not sent: the address is not allowed for this kind of robot")
    if error_code == "error" or not error_code:
        return _("Not sent: an error inside OpsTeam; the server log has the details.")
    if channel == "email":
        return _("Refused by the mail server (%(code)s)") % {"code": error_code}
    if channel == "suite":
        # Issue 21: a personal card through DingTalk / WeCom / Feishu (docs/integrations.md lists the codes).
        return _("The workplace app refused the message (code %(code)s).") % {"code": error_code}
    if error_code.isdigit() and 400 <= int(error_code) <= 599:
        return _("The robot's server refused the message (HTTP %(status)s).") % {"status": error_code}
    return _("The robot refused the message (code %(code)s).") % {"code": error_code}


def robot_send_outcome(*, send: RobotSend) -> str:
    """One sentence for the director about a send that failed: not reached (network), refused (code), or not allowed."""
    if send.ok:
        return _("Test message delivered.")
    if send.error_code == "address":
        return _("Not sent: %(reason)s") % {"reason": send.error}
    if send.error_code == "network":
        return _("Could not reach the robot (network): %(reason)s. The robot did not get the message.") % {
            "reason": send.error or _("the connection failed")
        }
    if send.error_code == "error":
        return _("Not sent: an error inside OpsTeam; the server log has the details.")
    if send.http_status and send.error_code == str(send.http_status):
        return _("The robot's server refused the message (HTTP %(status)s).") % {"status": send.http_status}
    if send.error:
        return _("The robot refused the message (code %(code)s): %(message)s") % {"code": send.error_code, "message": send.error}
    return _("The robot refused the message (code %(code)s).") % {"code": send.error_code or "?"}
