"""The one interface every suite adapter (dingtalk.py, wecom.py, feishu.py) implements, and what they exchange.

An adapter is the vendor's API as documented, and nothing of OpsTeam's rules: it fetches a token, sends a
card to one person, updates it, turns a sign-in code into the suite's user, builds the sign-in address,
opens (verifies, decrypts, parses) a callback and reads the directory. Services (deliver.py, callbacks.py,
signin.py) decide what to do with the answers.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property

from django.conf import settings

from checklists.notify.suites import vault
from checklists.notify.suites.http import HttpAnswer
from checklists.notify.suites.tokens import seen

logger = logging.getLogger("opsteam.suites")


class Failure(StrEnum):
    TOKEN = "token"  # noqa: S105 - expired or revoked: renew once and call again
    RATE = "rate"  # the vendor's rate limit: wait and retry, nothing lost
    USER = "user"  # the person is not (or no longer) in the suite, or outside the app's visibility: retrying cannot help
    NETWORK = "network"
    OTHER = "other"


@dataclass(frozen=True)
class SuiteUser:
    user_id: str
    name: str = ""
    mobile: str = ""
    department: str = ""
    active: bool = True


@dataclass(frozen=True)
class CardButton:
    action: str  # done | ack | open
    label: str
    url: str = ""  # "open", and every DingTalk button (its work-notification cards only carry links)


@dataclass(frozen=True)
class Card:
    notification_id: int
    title: str
    text: str
    url: str
    buttons: tuple[CardButton, ...] = ()
    state: str = ""  # after a button: e.g. "已完成 · 陈仓库 08:05"; the card then shows no action buttons
    urgent: bool = False
    # Unique per delivery attempt: WeCom's task_id and Feishu's uuid (the vendor drops a repeated send).
    send_key: str = ""
    # DingTalk: an OA message carries one link, to OpsTeam's signed card page with the buttons; its status bar
    # says `waiting` until a button's `state` replaces it.
    page_url: str = ""
    waiting: str = ""


@dataclass
class CallResult:
    ok: bool
    failure: str = ""
    code: str = ""
    message: str = ""
    retry_after: int | None = None
    data: dict = field(default_factory=dict)


@dataclass
class CallbackEvent:
    """What a verified callback says. `kind`: verify (the console checking the URL), card, contact, ignored."""

    kind: str
    callback_id: str = ""
    suite_user_id: str = ""
    notification_id: int | None = None
    action: str = ""
    left_user_ids: tuple[str, ...] = ()
    echo: str = ""  # the URL check's answer
    extra: dict = field(default_factory=dict)


class CallbackRefused(Exception):
    """A callback that failed verification (signature, decryption, app, age, replay): answered 403 and logged."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


BUTTON_PREFIX = "ops"


def button_key(notification_id: int, action: str) -> str:
    """What a card button carries back (WeCom's key, Feishu's value): the notification and the action."""
    return f"{BUTTON_PREFIX}:{notification_id}:{action}"


def button_key_parse(key: str) -> tuple[int, str] | None:
    parts = (key or "").split(":")
    if len(parts) != 3 or parts[0] != BUTTON_PREFIX or not parts[1].isdigit() or parts[2] not in ("done", "ack"):
        return None
    return int(parts[1]), parts[2]


class SuiteAdapter(ABC):
    kind: str = ""
    TOKEN_CODES: frozenset[str] = frozenset()
    RATE_CODES: frozenset[str] = frozenset()
    USER_CODES: frozenset[str] = frozenset()

    def __init__(self, app):
        self.app = app
        # Set by fresh_and_new: the verified callback's key, recorded as seen only once its work committed.
        self.replay_key = ""

    # Credentials, opened only when a call needs them.
    @cached_property
    def app_secret(self) -> str:
        return vault.unseal(self.app.app_secret_sealed)

    @cached_property
    def callback_token(self) -> str:
        return vault.unseal(self.app.callback_token_sealed)

    @cached_property
    def callback_key(self) -> str:
        return vault.unseal(self.app.callback_key_sealed)

    # --- the vendor's API ---------------------------------------------------------------------------
    @abstractmethod
    def fetch_token(self) -> tuple[str, int]:
        """(access token, seconds it is valid); raises TokenRefused when the vendor says no."""

    @abstractmethod
    def send_card(self, token: str, *, user_id: str, card: Card) -> CallResult:
        """data: vendor_ref (the message's id) and update_code (what a later update needs), when there are."""

    def update_card(self, token: str, *, user_id: str, vendor_ref: str, update_code: str, card: Card) -> CallResult:
        """Change the card once a button was pressed (WeCom: update_template_card; DingTalk: the OA status bar).

        Default: nothing to call (Feishu's card is replaced in the callback's answer)."""
        return CallResult(ok=True, data={"updated": False})

    @abstractmethod
    def user_from_code(self, token: str, *, code: str, redirect_uri: str, in_app: bool) -> tuple[SuiteUser | None, CallResult]:
        """The suite user behind a sign-in code (免登 authCode, OAuth code), with name and mobile where the app may read them."""

    @abstractmethod
    def authorize_url(self, *, redirect_uri: str, state: str, in_app: bool) -> str:
        """Where the browser goes to sign in: the QR page (in_app False) or the in-suite OAuth page."""

    @abstractmethod
    def callback_open(self, *, method: str, params: dict, headers: dict, body: bytes, now: datetime) -> CallbackEvent:
        """Verify, decrypt and read a callback; raises CallbackRefused."""

    def callback_reply(self, event: CallbackEvent, *, card: Card | None = None, outcome: str = "") -> tuple[str, bytes]:
        """(content type, body) to answer a verified callback with."""
        return "text/plain", b""

    @abstractmethod
    def directory(self, token: str) -> tuple[list[SuiteUser], CallResult]:
        """Everyone the app can see, with their department, for the org import."""

    # --- shared helpers -----------------------------------------------------------------------------
    def result(self, answer: HttpAnswer, *, code_field: str = "errcode", message_field: str = "errmsg") -> CallResult:
        if answer.network_error:
            return CallResult(ok=False, failure=Failure.NETWORK, code="network", message=answer.network_error)
        raw = answer.body.get(code_field)
        message = answer.body.get(message_field, "")
        message = message[:200] if isinstance(message, str) else ""
        if raw is None and answer.status >= 400:
            code = str(answer.status)
        else:
            code = str(raw) if isinstance(raw, int | str) and not isinstance(raw, bool) else ""
        if code == "0" and answer.status < 400:
            return CallResult(ok=True, data=answer.body)
        if code in self.TOKEN_CODES:
            failure = Failure.TOKEN
        elif code in self.RATE_CODES or answer.status == 429:
            failure = Failure.RATE
        elif code in self.USER_CODES:
            failure = Failure.USER
        else:
            failure = Failure.OTHER
        return CallResult(ok=False, failure=failure, code=code or str(answer.status), message=message, retry_after=_retry_after(answer))

    def fresh_and_new(self, *, timestamp: str, nonce: str, signature: str, now: datetime) -> None:
        """Refuse a callback outside the time window, or one already handled (a replay of a captured request)."""
        window = settings.OPSTEAM_SUITE_CALLBACK_WINDOW_SECONDS
        try:
            seconds = int(timestamp)
        except (TypeError, ValueError):
            raise CallbackRefused("no timestamp") from None
        if seconds > 10**11:  # DingTalk sends milliseconds
            seconds //= 1000
        if abs(now.timestamp() - seconds) > window:
            raise CallbackRefused("timestamp outside the window")
        if not nonce:
            raise CallbackRefused("no nonce")
        key = f"{self.kind}:{self.app.pk}:{timestamp}:{nonce}:{signature}"
        if seen(key):
            raise CallbackRefused("replayed")
        # Not recorded here: the caller records it after the callback's work committed (a retry after a crash acts).
        self.replay_key = key


class TokenRefused(Exception):
    def __init__(self, result: CallResult):
        super().__init__(f"{result.code} {result.message}")
        self.result = result


def _retry_after(answer: HttpAnswer) -> int | None:
    for name in ("x-ogw-ratelimit-reset", "Retry-After", "retry-after", "X-Ogw-Ratelimit-Reset"):
        value = answer.headers.get(name)
        if value and str(value).isdigit():
            return int(value)
    return None
