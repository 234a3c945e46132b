"""WeCom (企业微信) self-built app: the documented endpoints, shapes and error codes OpsTeam uses.

- Token: GET qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=&corpsecret= -> {errcode, access_token, expires_in: 7200}
- Application message: POST /cgi-bin/message/send (msgtype template_card, card_type button_interaction: main_title,
  sub_title_text, task_id, button_list [{type 0: key | type 1: url}]) -> {errcode, invaliduser, msgid, response_code}
- Card update: POST /cgi-bin/message/update_template_card {userids, agentid, response_code, button.replace_name}
- Sign-in: open.weixin.qq.com/connect/oauth2/authorize (in the app) or login.work.weixin.qq.com/wwlogin/sso/login
  (QR, login_type=CorpApp) -> code -> GET /cgi-bin/auth/getuserinfo -> userid; GET /cgi-bin/user/get -> name, mobile
- Directory: GET /cgi-bin/department/list, GET /cgi-bin/user/list?department_id=&fetch_child=1
- Callbacks (接收消息服务器): GET with echostr to verify the URL; POST XML with <Encrypt>; msg_signature over the
  token, timestamp, nonce and Encrypt; crypto.wx_* with the corp id. template_card_event gives EventKey (our
  button key), TaskId, ResponseCode and FromUserName; change_contact/delete_user tells us someone left.
"""

from __future__ import annotations

import re
import urllib.parse
import xml.etree.ElementTree as ET
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
from checklists.notify.suites.crypto import CryptoError, signatures_equal, wx_decrypt, wx_signature
from checklists.notify.suites.http import call, suite_base

# The outer XML is not parsed (it is not yet authenticated): only its Encrypt element is read.
_ENCRYPT = re.compile(rb"<Encrypt>\s*(?:<!\[CDATA\[)?([A-Za-z0-9+/=]+)(?:\]\]>)?\s*</Encrypt>")


class WeComAdapter(SuiteAdapter):
    kind = "wecom"
    # 40014 invalid access_token, 42001 access_token expired, 40082 invalid suite_token
    TOKEN_CODES = frozenset({"40014", "42001", "40082"})
    # 45009 api freq out of limit, 45011 API调用太频繁, 45033 接口并发调用超过限制
    RATE_CODES = frozenset({"45009", "45011", "45033"})
    # 60111 UserID不存在, 81013 UserID、部门ID、标签ID全部非法或无权限, 60011 no privilege to access/modify contact, 40029 invalid code
    USER_CODES = frozenset({"60111", "81013", "60011", "40029"})

    def _api(self, path: str) -> str:
        return suite_base(self.kind, "api") + path

    def fetch_token(self) -> tuple[str, int]:
        answer = call("GET", self._api("/cgi-bin/gettoken"), params={"corpid": self.app.corp_id, "corpsecret": self.app_secret})
        result = self.result(answer)
        if not result.ok or not answer.body.get("access_token"):
            raise TokenRefused(result)
        return answer.body["access_token"], int(answer.body.get("expires_in") or 7200)

    def send_card(self, token: str, *, user_id: str, card: Card) -> CallResult:
        buttons = []
        for button in card.buttons:
            if button.action == "open":
                buttons.append({"type": 1, "text": button.label, "style": 4, "url": button.url})
            else:
                buttons.append({"type": 0, "text": button.label, "style": 1, "key": button_key(card.notification_id, button.action)})
        template_card = {
            "card_type": "button_interaction",
            "main_title": {"title": card.title[:36], "desc": card.state[:44]},
            "sub_title_text": card.text[:600],
            "card_action": {"type": 1, "url": card.url},
            "task_id": card.send_key[:128],
            "button_list": buttons[:6],
        }
        payload = {
            "touser": user_id,
            "msgtype": "template_card",
            "agentid": int(self.app.agent_id or 0),
            "template_card": template_card,
            "enable_duplicate_check": 1,
            "duplicate_check_interval": 1800,
        }
        answer = call("POST", self._api("/cgi-bin/message/send"), params={"access_token": token}, payload=payload)
        result = self.result(answer)
        if result.ok and answer.body.get("invaliduser"):
            # errcode 0 with the person listed as invalid: WeCom accepted the call but nobody gets the card.
            return CallResult(ok=False, failure="user", code="81013", message="invaliduser")
        if result.ok:
            result.data = {"vendor_ref": str(answer.body.get("msgid", "")), "update_code": str(answer.body.get("response_code", ""))}
        return result

    def update_card(self, token: str, *, user_id: str, vendor_ref: str, update_code: str, card: Card) -> CallResult:
        if not update_code:
            return CallResult(ok=True, data={"updated": False})
        payload = {
            "userids": [user_id],
            "agentid": int(self.app.agent_id or 0),
            "response_code": update_code,
            "button": {"replace_name": card.state[:20]},
        }
        answer = call("POST", self._api("/cgi-bin/message/update_template_card"), params={"access_token": token}, payload=payload)
        result = self.result(answer)
        result.data = {"updated": result.ok}
        return result

    def user_from_code(self, token: str, *, code: str, redirect_uri: str, in_app: bool) -> tuple[SuiteUser | None, CallResult]:
        answer = call("GET", self._api("/cgi-bin/auth/getuserinfo"), params={"access_token": token, "code": code})
        result = self.result(answer)
        if not result.ok:
            return None, result
        user_id = answer.body.get("userid") or answer.body.get("UserId")
        if not user_id:
            # An openid instead of a userid: a WeChat user who is not a member of the corp.
            return None, CallResult(ok=False, failure="user", code="not-a-member")
        answer = call("GET", self._api("/cgi-bin/user/get"), params={"access_token": token, "userid": user_id})
        result = self.result(answer)
        if not result.ok:
            return None, result
        body = answer.body
        # status: 1 activated, 2 disabled, 4 not activated, 5 left
        return SuiteUser(
            user_id=user_id, name=body.get("name", ""), mobile=body.get("mobile", ""), active=body.get("status", 1) == 1
        ), result

    def authorize_url(self, *, redirect_uri: str, state: str, in_app: bool) -> str:
        if in_app:
            query = {
                "appid": self.app.corp_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": "snsapi_base",
                "state": state,
                "agentid": self.app.agent_id,
            }
            return suite_base(self.kind, "oauth") + "/connect/oauth2/authorize?" + urllib.parse.urlencode(query) + "#wechat_redirect"
        query = {
            "login_type": "CorpApp",
            "appid": self.app.corp_id,
            "agentid": self.app.agent_id,
            "redirect_uri": redirect_uri,
            "state": state,
        }
        return suite_base(self.kind, "login") + "/wwlogin/sso/login?" + urllib.parse.urlencode(query)

    def _open(self, *, encrypt: str, params: dict) -> bytes:
        signature = params.get("msg_signature", "")
        timestamp = params.get("timestamp", "")
        nonce = params.get("nonce", "")
        if not (
            encrypt
            and self.callback_token
            and signatures_equal(wx_signature(token=self.callback_token, timestamp=timestamp, nonce=nonce, encrypt=encrypt), signature)
        ):
            raise CallbackRefused("bad signature")
        try:
            plain = wx_decrypt(encoding_aes_key=self.callback_key, receive_id=self.app.corp_id, encrypted=encrypt)
        except CryptoError:
            raise CallbackRefused("does not decrypt for this corp") from None
        return plain

    def callback_open(self, *, method: str, params: dict, headers: dict, body: bytes, now: datetime) -> CallbackEvent:
        if method == "GET":
            # The console's URL check: answer the decrypted echostr within a second.
            plain = self._open(encrypt=params.get("echostr", ""), params=params)
            return CallbackEvent(kind="verify", echo=plain.decode())
        found = _ENCRYPT.search(body or b"")
        plain = self._open(encrypt=found.group(1).decode() if found else "", params=params)
        self.fresh_and_new(
            timestamp=params.get("timestamp", ""), nonce=params.get("nonce", ""), signature=params.get("msg_signature", ""), now=now
        )
        try:
            root = ET.fromstring(plain)  # noqa: S314 - authenticated above
        except ET.ParseError:
            raise CallbackRefused("decrypted text is not XML") from None
        field = lambda name: (root.findtext(name) or "").strip()  # noqa: E731
        event, user = field("Event"), field("FromUserName")
        if event == "template_card_event":
            parsed = button_key_parse(field("EventKey"))
            if parsed is None:
                return CallbackEvent(kind="ignored")
            response_code = field("ResponseCode")
            callback_id = response_code or f"{field('TaskId')}:{user}:{field('CreateTime')}:{field('EventKey')}"
            return CallbackEvent(
                kind="card",
                callback_id=f"wecom:{callback_id}",
                suite_user_id=user,
                notification_id=parsed[0],
                action=parsed[1],
                extra={"response_code": response_code, "task_id": field("TaskId")},
            )
        if event == "change_contact" and field("ChangeType") == "delete_user":
            return CallbackEvent(
                kind="contact", left_user_ids=(field("UserID"),), callback_id=f"leave:{field('UserID')}:{field('CreateTime')}"
            )
        return CallbackEvent(kind="ignored")

    def callback_reply(self, event: CallbackEvent, *, card: Card | None = None, outcome: str = "") -> tuple[str, bytes]:
        """The URL check is answered with the decrypted echostr; an event with an empty body (WeCom then retries nothing)."""
        if event.kind == "verify":
            return "text/plain", event.echo.encode()
        return "text/plain", b""

    def directory(self, token: str) -> tuple[list[SuiteUser], CallResult]:
        answer = call("GET", self._api("/cgi-bin/department/list"), params={"access_token": token})
        result = self.result(answer)
        if not result.ok:
            return [], result
        names = {d["id"]: d.get("name", "") for d in answer.body.get("department") or []}
        answer = call("GET", self._api("/cgi-bin/user/list"), params={"access_token": token, "department_id": 1, "fetch_child": 1})
        result = self.result(answer)
        if not result.ok:
            return [], result
        users = [
            SuiteUser(
                user_id=row["userid"],
                name=row.get("name", ""),
                mobile=row.get("mobile", ""),
                department=names.get((row.get("department") or [None])[0], ""),
                active=row.get("status", 1) == 1,
            )
            for row in answer.body.get("userlist") or []
        ]
        return users, CallResult(ok=True)
