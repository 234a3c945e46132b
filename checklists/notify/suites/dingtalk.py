"""DingTalk (钉钉) internal app: the documented endpoints, shapes and error codes OpsTeam uses.

- Token: GET oapi.dingtalk.com/gettoken?appkey=&appsecret= -> {errcode, access_token, expires_in: 7200}
- Work notification: POST oapi.dingtalk.com/topapi/message/corpconversation/asyncsend_v2 (msgtype oa: message_url,
  pc_message_url, head {bgcolor, text}, status_bar {status_value, status_bg}, body {title, content})
  -> {errcode, task_id, request_id}
- Its status bar after a press: POST oapi.dingtalk.com/topapi/message/corpconversation/status_bar/update
  {agent_id, task_id, status_value, status_bg} -> {errcode, errmsg} (only an OA message has one)
- 免登 in the workbench: the JSAPI's authCode -> POST oapi.dingtalk.com/topapi/v2/user/getuserinfo {code} -> result.userid
- QR sign-in from a browser: login.dingtalk.com/oauth2/auth -> authCode -> POST api.dingtalk.com/v1.0/oauth2/userAccessToken
  -> GET api.dingtalk.com/v1.0/contact/users/me (unionId) -> POST oapi.dingtalk.com/topapi/user/getbyunionid -> userid
- A user: POST oapi.dingtalk.com/topapi/v2/user/get {userid} -> result {name, mobile, active}
- Directory: POST topapi/v2/department/listsub (one level: walked from the root), topapi/v2/user/list (cursor paging)
- Event subscription (HTTP push): ?msg_signature&timestamp&nonce, body {"encrypt"}; crypto.wx_* with the app key;
  answered with the encrypted "success". OpsTeam listens for check_url and user_leave_org.

A work notification cannot carry callback buttons (DingTalk's interactive cards need a template on its card
platform), but an OA message has a status bar OpsTeam can change later. So a card is an OA message whose
link opens OpsTeam's signed card page (deliver.act_token): its 完成 / 确认收到 buttons act after one tap
and show the result; then OpsTeam sets the message's status bar ("待处理" -> "已完成 · 陈仓库 08:05").
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.parse
from datetime import datetime

from checklists.notify.suites.base import CallbackEvent, CallbackRefused, CallResult, Card, SuiteAdapter, SuiteUser, TokenRefused
from checklists.notify.suites.crypto import CryptoError, signatures_equal, wx_decrypt, wx_encrypt, wx_signature
from checklists.notify.suites.http import call, suite_base

# ARGB colours, as DingTalk's examples write them: a grey head (red when urgent); an orange bar to do, green once done.
HEAD = "FFBBBBBB"
HEAD_URGENT = "FFF65E5E"
BAR_OPEN = "0xFFFF9A2E"
BAR_DONE = "0xFF78C06E"
MAX_DEPARTMENTS = 500  # the org import reads a shop's directory, not a conglomerate's


def _status_bar(card: Card) -> dict:
    if card.state:
        return {"status_value": card.state[:30], "status_bg": BAR_DONE}
    return {"status_value": card.waiting[:30], "status_bg": BAR_OPEN}


class DingTalkAdapter(SuiteAdapter):
    kind = "dingtalk"
    # 40014 不合法的access_token, 42001 access_token超时, 88 (new gateway) 鉴权失败
    TOKEN_CODES = frozenset({"40014", "42001", "88"})
    # 90002 / 90005 / 90006 / 90018: 调用频率超过限制 (per second / per minute / QPS per company)
    RATE_CODES = frozenset({"90002", "90005", "90006", "90018"})
    # 60121 找不到该用户, 33012 无效的userid, 40078 不存在的临时授权码
    USER_CODES = frozenset({"60121", "33012", "40078"})

    def _oapi(self, path: str) -> str:
        return suite_base(self.kind, "oapi") + path

    def fetch_token(self) -> tuple[str, int]:
        answer = call("GET", self._oapi("/gettoken"), params={"appkey": self.app.app_key, "appsecret": self.app_secret})
        result = self.result(answer)
        if not result.ok or not answer.body.get("access_token"):
            raise TokenRefused(result)
        return answer.body["access_token"], int(answer.body.get("expires_in") or 7200)

    def send_card(self, token: str, *, user_id: str, card: Card) -> CallResult:
        link = card.page_url or card.url
        payload = {
            "agent_id": int(self.app.agent_id or 0),
            "userid_list": user_id,
            "msg": {
                "msgtype": "oa",
                "oa": {
                    "message_url": link,
                    "pc_message_url": link,
                    "head": {"bgcolor": HEAD_URGENT if card.urgent else HEAD, "text": card.title[:30]},
                    "status_bar": _status_bar(card),
                    "body": {"title": card.title[:100], "content": card.text[:2000]},
                },
            },
        }
        answer = call("POST", self._oapi("/topapi/message/corpconversation/asyncsend_v2"), params={"access_token": token}, payload=payload)
        result = self.result(answer)
        if result.ok:
            result.data = {"vendor_ref": str(answer.body.get("task_id", "")), "update_code": ""}
        return result

    def update_card(self, token: str, *, user_id: str, vendor_ref: str, update_code: str, card: Card) -> CallResult:
        """The OA message's status bar, by the send's task_id (one person per send, so one message)."""
        if not vendor_ref.isdigit():
            return CallResult(ok=True, data={"updated": False})
        payload = {"agent_id": int(self.app.agent_id or 0), "task_id": int(vendor_ref), **_status_bar(card)}
        answer = call(
            "POST", self._oapi("/topapi/message/corpconversation/status_bar/update"), params={"access_token": token}, payload=payload
        )
        result = self.result(answer)
        result.data = {"updated": result.ok}
        return result

    def _user_get(self, token: str, user_id: str) -> tuple[SuiteUser | None, CallResult]:
        answer = call("POST", self._oapi("/topapi/v2/user/get"), params={"access_token": token}, payload={"userid": user_id})
        result = self.result(answer)
        if not result.ok:
            return None, result
        info = answer.body.get("result") or {}
        return SuiteUser(user_id=user_id, name=info.get("name", ""), mobile=info.get("mobile", ""), active=info.get("active", True)), result

    def user_from_code(self, token: str, *, code: str, redirect_uri: str, in_app: bool) -> tuple[SuiteUser | None, CallResult]:
        if in_app:
            answer = call("POST", self._oapi("/topapi/v2/user/getuserinfo"), params={"access_token": token}, payload={"code": code})
            result = self.result(answer)
            if not result.ok:
                return None, result
            user_id = (answer.body.get("result") or {}).get("userid", "")
        else:
            api = suite_base(self.kind, "api")
            answer = call(
                "POST",
                api + "/v1.0/oauth2/userAccessToken",
                payload={"clientId": self.app.app_key, "clientSecret": self.app_secret, "code": code, "grantType": "authorization_code"},
            )
            user_token = answer.body.get("accessToken")
            if not user_token:
                return None, CallResult(
                    ok=False, failure="user", code=str(answer.body.get("code", answer.status)), message=answer.body.get("message", "")
                )
            me = call("GET", api + "/v1.0/contact/users/me", headers={"x-acs-dingtalk-access-token": user_token})
            union_id = me.body.get("unionId")
            if not union_id:
                return None, CallResult(ok=False, failure="user", code=str(me.body.get("code", me.status)))
            answer = call("POST", self._oapi("/topapi/user/getbyunionid"), params={"access_token": token}, payload={"unionid": union_id})
            result = self.result(answer)
            if not result.ok:
                return None, result
            user_id = (answer.body.get("result") or {}).get("userid", "")
        if not user_id:
            return None, CallResult(ok=False, failure="user", code="no-userid")
        return self._user_get(token, user_id)

    def authorize_url(self, *, redirect_uri: str, state: str, in_app: bool) -> str:
        query = {
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "client_id": self.app.app_key,
            "scope": "openid",
            "state": state,
            "prompt": "consent",
        }
        return suite_base(self.kind, "login") + "/oauth2/auth?" + urllib.parse.urlencode(query)

    def callback_open(self, *, method: str, params: dict, headers: dict, body: bytes, now: datetime) -> CallbackEvent:
        signature = params.get("msg_signature") or params.get("signature") or ""
        timestamp = params.get("timestamp") or params.get("timeStamp") or ""
        nonce = params.get("nonce") or ""
        try:
            encrypt = json.loads(body or b"{}").get("encrypt", "")
        except (ValueError, AttributeError):
            raise CallbackRefused("not JSON") from None
        if not (
            encrypt
            and self.callback_token
            and signatures_equal(wx_signature(token=self.callback_token, timestamp=timestamp, nonce=nonce, encrypt=encrypt), signature)
        ):
            raise CallbackRefused("bad signature")
        self.fresh_and_new(timestamp=timestamp, nonce=nonce, signature=signature, now=now)
        try:
            event = json.loads(wx_decrypt(encoding_aes_key=self.callback_key, receive_id=self.app.app_key, encrypted=encrypt))
        except (CryptoError, ValueError):
            raise CallbackRefused("does not decrypt for this app") from None
        kind = event.get("EventType", "")
        if kind == "check_url":
            return CallbackEvent(kind="verify")
        if kind == "user_leave_org":
            users = tuple(str(u) for u in event.get("UserId") or [])
            return CallbackEvent(kind="contact", left_user_ids=users, callback_id=f"leave:{timestamp}:{nonce}")
        return CallbackEvent(kind="ignored")

    def callback_reply(self, event: CallbackEvent, *, card: Card | None = None, outcome: str = "") -> tuple[str, bytes]:
        """DingTalk waits for the word "success", encrypted and signed like its own pushes."""
        timestamp = str(int(time.time() * 1000))
        nonce = secrets.token_hex(8)
        encrypt = wx_encrypt(encoding_aes_key=self.callback_key, receive_id=self.app.app_key, plaintext=b"success")
        reply = {
            "msg_signature": wx_signature(token=self.callback_token, timestamp=timestamp, nonce=nonce, encrypt=encrypt),
            "timeStamp": timestamp,
            "nonce": nonce,
            "encrypt": encrypt,
        }
        return "application/json", json.dumps(reply).encode()

    def directory(self, token: str) -> tuple[list[SuiteUser], CallResult]:
        # listsub answers one level: walk the tree from the root (1), breadth first, to a bound.
        departments: list[tuple[int, str]] = [(1, "")]
        index = 0
        while index < len(departments) and len(departments) < MAX_DEPARTMENTS:
            answer = call(
                "POST",
                self._oapi("/topapi/v2/department/listsub"),
                params={"access_token": token},
                payload={"dept_id": departments[index][0]},
            )
            result = self.result(answer)
            if not result.ok:
                return [], result
            departments += [(d["dept_id"], d.get("name", "")) for d in answer.body.get("result") or [] if "dept_id" in d]
            index += 1
        users: dict[str, SuiteUser] = {}
        for dept_id, dept_name in departments:
            cursor = 0
            for _page in range(50):
                answer = call(
                    "POST",
                    self._oapi("/topapi/v2/user/list"),
                    params={"access_token": token},
                    payload={"dept_id": dept_id, "cursor": cursor, "size": 100},
                )
                result = self.result(answer)
                if not result.ok:
                    return [], result
                page = answer.body.get("result") or {}
                for row in page.get("list") or []:
                    users.setdefault(
                        row["userid"],
                        SuiteUser(user_id=row["userid"], name=row.get("name", ""), mobile=row.get("mobile", ""), department=dept_name),
                    )
                if not page.get("has_more"):
                    break
                cursor = page.get("next_cursor", 0)
        return list(users.values()), CallResult(ok=True)
