"""Feishu (飞书) self-built app: the documented endpoints, shapes and error codes OpsTeam uses.

- Token: POST open.feishu.cn/open-apis/auth/v3/tenant_access_token/internal {app_id, app_secret}
  -> {code, msg, tenant_access_token, expire}
- Message card: POST /open-apis/im/v1/messages?receive_id_type=open_id {receive_id, msg_type: interactive,
  content: the card as a JSON string, uuid} -> {code, data.message_id}; buttons carry `value`
- Sign-in: accounts.feishu.cn/open-apis/authen/v1/authorize (QR in a browser; silent inside Feishu) -> code
  -> POST /open-apis/authen/v2/oauth/token -> user access_token -> GET /open-apis/authen/v1/user_info -> open_id, name, mobile
- Directory: GET /open-apis/contact/v3/departments/0/children?fetch_child=true (every department, with its name),
  then GET /open-apis/contact/v3/users/find_by_department?department_id= for each (direct members; page_token paging)
- Callbacks (事件与回调): with an Encrypt Key the body is {"encrypt"} (AES-256-CBC, key sha256(encrypt_key));
  X-Lark-Signature = sha256(X-Lark-Request-Timestamp + X-Lark-Request-Nonce + encrypt_key + body); the decrypted
  header.token must equal the Verification Token. url_verification is answered with its challenge;
  card.action.trigger (schema 2.0, header.event_id) with a toast and the updated card in the response body.
"""

from __future__ import annotations

import json
import urllib.parse
from datetime import datetime

from checklists.notify.suites.base import (
    CallbackEvent,
    CallbackRefused,
    CallResult,
    Card,
    SuiteAdapter,
    SuiteUser,
    TokenRefused,
    button_key,
    button_key_parse,
)
from checklists.notify.suites.crypto import CryptoError, feishu_decrypt, feishu_signature, signatures_equal
from checklists.notify.suites.http import call, suite_base


def _header(headers: dict, name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return ""


class FeishuAdapter(SuiteAdapter):
    kind = "feishu"
    # 99991663 tenant access token invalid, 99991661 missing, 99991668 user token invalid
    TOKEN_CODES = frozenset({"99991663", "99991661", "99991668"})
    # 99991400 request trigger frequency limit (HTTP 429 with x-ogw-ratelimit-reset), 230020 too many messages
    RATE_CODES = frozenset({"99991400", "230020"})
    # 230013 bot has no availability to this user, 99992361 open_id cross app, 99992360 invalid request param (bad id)
    USER_CODES = frozenset({"230013", "99992361", "99992360"})

    def _api(self, path: str) -> str:
        return suite_base(self.kind, "api") + path

    def result(self, answer, *, code_field: str = "code", message_field: str = "msg") -> CallResult:
        return super().result(answer, code_field=code_field, message_field=message_field)

    def fetch_token(self) -> tuple[str, int]:
        answer = call(
            "POST",
            self._api("/open-apis/auth/v3/tenant_access_token/internal"),
            payload={"app_id": self.app.app_key, "app_secret": self.app_secret},
        )
        result = self.result(answer)
        if not result.ok or not answer.body.get("tenant_access_token"):
            raise TokenRefused(result)
        return answer.body["tenant_access_token"], int(answer.body.get("expire") or 7200)

    def card_json(self, card: Card) -> dict:
        elements: list[dict] = [{"tag": "div", "text": {"tag": "lark_md", "content": card.text}}]
        if card.state:
            elements.append({"tag": "div", "text": {"tag": "lark_md", "content": f"**{card.state}**"}})
        actions = []
        for button in card.buttons:
            if button.action == "open":
                actions.append(
                    {"tag": "button", "text": {"tag": "plain_text", "content": button.label}, "type": "default", "url": button.url}
                )
            elif not card.state:
                actions.append(
                    {
                        "tag": "button",
                        "text": {"tag": "plain_text", "content": button.label},
                        "type": "primary" if button.action == "done" else "default",
                        "value": {"ops": button_key(card.notification_id, button.action)},
                    }
                )
        if actions:
            elements.append({"tag": "action", "actions": actions})
        template = "green" if card.state else ("red" if card.urgent else "blue")
        return {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": card.title}, "template": template},
            "elements": elements,
        }

    def send_card(self, token: str, *, user_id: str, card: Card) -> CallResult:
        payload = {"receive_id": user_id, "msg_type": "interactive", "content": json.dumps(self.card_json(card), ensure_ascii=False)}
        if card.send_key:
            payload["uuid"] = card.send_key[:50]
        answer = call(
            "POST",
            self._api("/open-apis/im/v1/messages"),
            params={"receive_id_type": "open_id"},
            payload=payload,
            headers={"Authorization": f"Bearer {token}"},
        )
        result = self.result(answer)
        if result.ok:
            result.data = {"vendor_ref": str((answer.body.get("data") or {}).get("message_id", "")), "update_code": ""}
        return result

    def user_from_code(self, token: str, *, code: str, redirect_uri: str, in_app: bool) -> tuple[SuiteUser | None, CallResult]:
        answer = call(
            "POST",
            self._api("/open-apis/authen/v2/oauth/token"),
            payload={
                "grant_type": "authorization_code",
                "client_id": self.app.app_key,
                "client_secret": self.app_secret,
                "code": code,
                "redirect_uri": redirect_uri,
            },
        )
        result = self.result(answer)
        user_token = answer.body.get("access_token")
        if not result.ok or not user_token:
            result.ok = False
            result.failure = result.failure or "user"
            return None, result
        answer = call("GET", self._api("/open-apis/authen/v1/user_info"), headers={"Authorization": f"Bearer {user_token}"})
        result = self.result(answer)
        data = answer.body.get("data") or {}
        if not result.ok or not data.get("open_id"):
            return None, result
        mobile = (data.get("mobile") or "").removeprefix("+86")
        return SuiteUser(user_id=data["open_id"], name=data.get("name", ""), mobile=mobile), result

    def authorize_url(self, *, redirect_uri: str, state: str, in_app: bool) -> str:
        query = {"client_id": self.app.app_key, "redirect_uri": redirect_uri, "response_type": "code", "state": state}
        return suite_base(self.kind, "login") + "/open-apis/authen/v1/authorize?" + urllib.parse.urlencode(query)

    def callback_open(self, *, method: str, params: dict, headers: dict, body: bytes, now: datetime) -> CallbackEvent:
        try:
            outer = json.loads(body or b"{}")
        except ValueError:
            raise CallbackRefused("not JSON") from None
        if not isinstance(outer, dict):
            raise CallbackRefused("not an object")
        if not (self.callback_key and self.callback_token):
            raise CallbackRefused("the app has no Encrypt Key and Verification Token")
        timestamp = _header(headers, "X-Lark-Request-Timestamp")
        nonce = _header(headers, "X-Lark-Request-Nonce")
        signature = _header(headers, "X-Lark-Signature")
        encrypt = outer.get("encrypt")
        if not isinstance(encrypt, str):
            raise CallbackRefused("not encrypted")
        try:
            event = json.loads(feishu_decrypt(encrypt_key=self.callback_key, encrypted=encrypt))
        except (CryptoError, ValueError):
            raise CallbackRefused("does not decrypt with this app's Encrypt Key") from None
        if not isinstance(event, dict):
            raise CallbackRefused("not an object")
        if event.get("type") == "url_verification":
            # The console's check carries no signature headers; the Verification Token inside the encryption proves it.
            if not signatures_equal(str(event.get("token", "")), self.callback_token):
                raise CallbackRefused("wrong verification token")
            return CallbackEvent(kind="verify", echo=str(event.get("challenge", "")))
        expected = feishu_signature(timestamp=timestamp, nonce=nonce, encrypt_key=self.callback_key, body=body)
        if not signatures_equal(expected, signature):
            raise CallbackRefused("bad signature")
        header = event.get("header") or {}
        if not signatures_equal(str(header.get("token", "")), self.callback_token):
            raise CallbackRefused("wrong verification token")
        self.fresh_and_new(timestamp=timestamp, nonce=nonce, signature=signature, now=now)
        payload = event.get("event") or {}
        event_type = header.get("event_type", "")
        if event_type == "card.action.trigger":
            value = ((payload.get("action") or {}).get("value")) or {}
            parsed = button_key_parse(value.get("ops", "") if isinstance(value, dict) else "")
            if parsed is None:
                return CallbackEvent(kind="ignored")
            return CallbackEvent(
                kind="card",
                callback_id=f"feishu:{header.get('event_id', '')}",
                suite_user_id=(payload.get("operator") or {}).get("open_id", ""),
                notification_id=parsed[0],
                action=parsed[1],
                extra={"message_id": (payload.get("context") or {}).get("open_message_id", "")},
            )
        if event_type == "contact.user.deleted_v3":
            open_id = ((payload.get("object") or {}).get("open_id")) or ""
            return CallbackEvent(kind="contact", left_user_ids=(open_id,), callback_id=f"feishu:{header.get('event_id', '')}")
        return CallbackEvent(kind="ignored")

    def callback_reply(self, event: CallbackEvent, *, card: Card | None = None, outcome: str = "") -> tuple[str, bytes]:
        if event.kind == "verify":
            return "application/json", json.dumps({"challenge": event.echo}).encode()
        reply: dict = {}
        if event.kind == "card":
            reply["toast"] = {"type": "success" if card and card.state else "info", "content": outcome or (card.state if card else "")}
            if card is not None:
                reply["card"] = {"type": "raw", "data": self.card_json(card)}
        return "application/json", json.dumps(reply, ensure_ascii=False).encode()

    def _pages(self, token: str, path: str, params: dict) -> tuple[list[dict], CallResult]:
        """Every item of a paged contact list (page_token, has_more), to a bound."""
        items: list[dict] = []
        page_token = ""
        for _page in range(50):
            query = {**params, "page_size": "50"}
            if page_token:
                query["page_token"] = page_token
            answer = call("GET", self._api(path), params=query, headers={"Authorization": f"Bearer {token}"})
            result = self.result(answer)
            if not result.ok:
                return [], result
            data = answer.body.get("data") or {}
            items += [row for row in data.get("items") or [] if isinstance(row, dict)]
            if not data.get("has_more"):
                break
            page_token = data.get("page_token", "")
        return items, CallResult(ok=True)

    def directory(self, token: str) -> tuple[list[SuiteUser], CallResult]:
        """Every department under the root (children, fetch_child), then each one's direct members with its name."""
        children, result = self._pages(
            token,
            "/open-apis/contact/v3/departments/0/children",
            {"department_id_type": "open_department_id", "fetch_child": "true"},
        )
        if not result.ok:
            return [], result
        departments = [("0", "")] + [(d["open_department_id"], d.get("name", "")) for d in children if d.get("open_department_id")]
        users: dict[str, SuiteUser] = {}
        for department_id, department_name in departments:
            rows, result = self._pages(
                token,
                "/open-apis/contact/v3/users/find_by_department",
                {"department_id": department_id, "department_id_type": "open_department_id", "user_id_type": "open_id"},
            )
            if not result.ok:
                return [], result
            for row in rows:
                status = row.get("status") or {}
                users.setdefault(
                    row.get("open_id", ""),
                    SuiteUser(
                        user_id=row.get("open_id", ""),
                        name=row.get("name", ""),
                        mobile=(row.get("mobile") or "").removeprefix("+86"),
                        department=department_name,
                        active=not status.get("is_resigned", False),
                    ),
                )
        return list(users.values()), CallResult(ok=True)
