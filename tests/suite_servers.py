"""Local HTTP servers standing in for DingTalk, WeCom and Feishu: the endpoints OpsTeam calls, answered with the
documented shapes and error codes, and every request recorded. Also each vendor's side of a callback: a signed,
encrypted request to OpsTeam, built the way the vendor documents it (tests/test_suites_crypto.py pins the crypto
to the vendors' published vectors).

Scripts: `expire(token)` (the next call with it answers "token expired"), `rate_limit(n)` (the next n sends are
rate limited), `users` (who exists; anyone else is "user not found"), `oauth_user` (whom the fake QR page signs in).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from checklists.notify.suites.crypto import feishu_encrypt, feishu_signature, wx_encrypt, wx_signature

EXPIRED = {
    "dingtalk": (200, {"errcode": 42001, "errmsg": "access_token超时"}),
    "wecom": (200, {"errcode": 42001, "errmsg": "access_token expired"}),
    "feishu": (400, {"code": 99991663, "msg": "Invalid access token for authorization."}),
}
RATE = {
    "dingtalk": (200, {"errcode": 90018, "errmsg": "当前企业调用该接口的QPS超过限制"}),
    "wecom": (200, {"errcode": 45009, "errmsg": "api freq out of limit"}),
    "feishu": (429, {"code": 99991400, "msg": "request trigger frequency limit"}),
}


@dataclass
class Received:
    method: str
    path: str
    query: dict
    body: dict
    headers: dict


@dataclass
class SuiteServer:
    kind: str
    app_key: str = "app-key-1"
    app_secret: str = "app-secret-0123456789"
    corp_id: str = "corp-1"
    users: dict = field(default_factory=dict)  # user id -> {"name", "mobile", "active", "department"}
    received: list = field(default_factory=list)
    tokens_issued: list = field(default_factory=list)
    expired: set = field(default_factory=set)
    rate_limited: int = 0
    rate_reset: int = 1
    oauth_user: str = ""
    codes: dict = field(default_factory=dict)
    # The directory's departments below the root: id -> (name, parent id); a user's "department" is a name.
    departments: dict = field(default_factory=lambda: {2: ("仓库部", 1)})
    task_ids: dict = field(default_factory=dict)  # DingTalk: the work notifications sent, task_id -> msgtype
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    token_delay: float = 0.0
    expired_barrier: threading.Barrier | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def code_for(self, user_id: str) -> str:
        code = "code-" + secrets.token_hex(6)
        self.codes[code] = user_id
        return code

    def expire(self, token: str) -> None:
        self.expired.add(token)

    def rate_limit(self, times: int, reset: int = 1) -> None:
        self.rate_limited, self.rate_reset = times, reset

    def calls(self, path_part: str) -> list[Received]:
        return [r for r in self.received if path_part in r.path]

    # --- the HTTP side ------------------------------------------------------------------------------
    def start(self) -> SuiteServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self, method):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parsed = urllib.parse.urlparse(self.path)
                query = {k: v[0] for k, v in urllib.parse.parse_qs(parsed.query).items()}
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                received = Received(method, parsed.path, query, body, {k.lower(): v for k, v in self.headers.items()})
                with owner.lock:
                    owner.received.append(received)
                status, answer, headers = owner.answer(received)
                data = answer.encode() if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Location" not in headers:
                    self.send_header("Content-Type", "text/html; charset=utf-8" if isinstance(answer, str) else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True, name=f"suite-{self.kind}").start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def _new_token(self) -> str:
        if self.token_delay:
            time.sleep(self.token_delay)
        with self.lock:
            token = f"tok-{len(self.tokens_issued) + 1}-{secrets.token_hex(4)}"
            self.tokens_issued.append(token)
        return token

    def _department_id(self, info: dict) -> int:
        """A user's department id from its name (the root, 1, when it names none)."""
        return next((d for d, (name, _parent) in self.departments.items() if name == info.get("department")), 1)

    def hold_expired(self, callers: int, timeout: float = 60) -> None:
        """Answer "token expired" only once `callers` requests carrying an expired token are waiting: they met it at once."""
        self.expired_barrier = threading.Barrier(callers, timeout=timeout)

    def _token_problem(self, token: str):
        if token in self.expired:
            if self.expired_barrier is not None:
                with contextlib.suppress(threading.BrokenBarrierError):
                    self.expired_barrier.wait()
            return EXPIRED[self.kind]
        if token not in self.tokens_issued:
            return EXPIRED[self.kind]
        return None

    def _rate_problem(self):
        with self.lock:
            if self.rate_limited > 0:
                self.rate_limited -= 1
                status, body = RATE[self.kind]
                return status, body, {"x-ogw-ratelimit-reset": str(self.rate_reset)} if self.kind == "feishu" else {}
        return None

    def _oauth_page(self, r: Received):
        redirect = r.query.get("redirect_uri", "")
        state = r.query.get("state", "")
        code = self.code_for(self.oauth_user)
        name = "authCode" if self.kind == "dingtalk" else "code"
        target = redirect + ("&" if "?" in redirect else "?") + urllib.parse.urlencode({name: code, "state": state})
        page = f'<html><body><h1>{self.kind} QR</h1><a id="scan" href="{target}">扫码确认登录</a></body></html>'
        return 200, page, {}

    def answer(self, r: Received):
        return getattr(self, f"_{self.kind}")(r)

    # --- DingTalk -------------------------------------------------------------------------------------
    def _dingtalk(self, r: Received):
        p, q, b = r.path, r.query, r.body
        if p == "/gettoken":
            if q.get("appkey") != self.app_key or q.get("appsecret") != self.app_secret:
                return 200, {"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"}, {}
            return 200, {"errcode": 0, "errmsg": "ok", "access_token": self._new_token(), "expires_in": 7200}, {}
        if p == "/oauth2/auth":
            return self._oauth_page(r)
        if p == "/v1.0/oauth2/userAccessToken":
            user = self.codes.pop(b.get("code", ""), None)
            if user is None or b.get("clientSecret") != self.app_secret:
                return 400, {"code": "invalidAuthCode", "message": "无效的临时授权码"}, {}
            return 200, {"accessToken": "user-" + user, "expireIn": 7200, "refreshToken": "r"}, {}
        if p == "/v1.0/contact/users/me":
            user = r.headers.get("x-acs-dingtalk-access-token", "").removeprefix("user-")
            return 200, {"nick": self.users.get(user, {}).get("name", ""), "unionId": "union-" + user}, {}
        problem = self._token_problem(q.get("access_token", ""))
        if problem:
            return problem[0], problem[1], {}
        if p == "/topapi/message/corpconversation/asyncsend_v2":
            rate = self._rate_problem()
            if rate:
                return rate
            task_id = 10000 + len(self.received)
            with self.lock:
                self.task_ids[task_id] = (b.get("msg") or {}).get("msgtype", "")
            return 200, {"errcode": 0, "errmsg": "ok", "task_id": task_id, "request_id": "req"}, {}
        if p == "/topapi/message/corpconversation/status_bar/update":
            # Only an OA message sent by this app has a status bar; agent_id, task_id and status_value are required.
            if not (b.get("agent_id") and b.get("task_id") and b.get("status_value")):
                return 200, {"errcode": 40035, "errmsg": "缺少参数"}, {}
            if self.task_ids.get(b["task_id"]) != "oa":
                return 200, {"errcode": 400002, "errmsg": "无效的task_id或消息不是OA消息"}, {}
            return 200, {"errcode": 0, "errmsg": "成功"}, {}
        if p == "/topapi/v2/user/getuserinfo":
            user = self.codes.pop(b.get("code", ""), None)
            if user is None:
                return 200, {"errcode": 40078, "errmsg": "不存在的临时授权码"}, {}
            return 200, {"errcode": 0, "errmsg": "ok", "result": {"userid": user, "name": self.users.get(user, {}).get("name", "")}}, {}
        if p == "/topapi/user/getbyunionid":
            user = b.get("unionid", "").removeprefix("union-")
            if user not in self.users:
                return 200, {"errcode": 60121, "errmsg": "找不到该用户"}, {}
            return 200, {"errcode": 0, "errmsg": "ok", "result": {"contact_type": 0, "userid": user}}, {}
        if p == "/topapi/v2/user/get":
            info = self.users.get(b.get("userid", ""))
            if info is None:
                return 200, {"errcode": 60121, "errmsg": "找不到该用户"}, {}
            return (
                200,
                {
                    "errcode": 0,
                    "errmsg": "ok",
                    "result": {
                        "userid": b["userid"],
                        "name": info.get("name", ""),
                        "mobile": info.get("mobile", ""),
                        "active": info.get("active", True),
                    },
                },
                {},
            )
        if p == "/topapi/v2/department/listsub":
            # One level, as documented: the direct sub-departments of dept_id.
            rows = [
                {"dept_id": d, "name": name, "parent_id": parent}
                for d, (name, parent) in self.departments.items()
                if parent == b.get("dept_id")
            ]
            return 200, {"errcode": 0, "errmsg": "ok", "result": rows}, {}
        if p == "/topapi/v2/user/list":
            rows = [
                {"userid": u, "name": i.get("name", ""), "mobile": i.get("mobile", "")}
                for u, i in self.users.items()
                if self._department_id(i) == b.get("dept_id")
            ]
            return 200, {"errcode": 0, "errmsg": "ok", "result": {"has_more": False, "list": rows}}, {}
        return 404, {"errcode": 404, "errmsg": "not found"}, {}

    # --- WeCom ---------------------------------------------------------------------------------------------
    def _wecom(self, r: Received):
        p, q, b = r.path, r.query, r.body
        if p == "/cgi-bin/gettoken":
            if q.get("corpid") != self.corp_id or q.get("corpsecret") != self.app_secret:
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}, {}
            return 200, {"errcode": 0, "errmsg": "ok", "access_token": self._new_token(), "expires_in": 7200}, {}
        if p in ("/wwlogin/sso/login", "/connect/oauth2/authorize"):
            return self._oauth_page(r)
        problem = self._token_problem(q.get("access_token", ""))
        if problem:
            return problem[0], problem[1], {}
        if p == "/cgi-bin/message/send":
            rate = self._rate_problem()
            if rate:
                return rate
            if b.get("touser") not in self.users:
                return 200, {"errcode": 81013, "errmsg": "user & party & tag all invalid", "invaliduser": b.get("touser", "")}, {}
            return (
                200,
                {
                    "errcode": 0,
                    "errmsg": "ok",
                    "invaliduser": "",
                    "msgid": f"msg{len(self.received)}",
                    "response_code": "rc-" + secrets.token_hex(4),
                },
                {},
            )
        if p == "/cgi-bin/message/update_template_card":
            return 200, {"errcode": 0, "errmsg": "ok", "invaliduser": []}, {}
        if p == "/cgi-bin/auth/getuserinfo":
            user = self.codes.pop(q.get("code", ""), None)
            if user is None:
                return 200, {"errcode": 40029, "errmsg": "invalid code"}, {}
            return 200, {"errcode": 0, "errmsg": "ok", "userid": user, "user_ticket": "t"}, {}
        if p == "/cgi-bin/user/get":
            info = self.users.get(q.get("userid", ""))
            if info is None:
                return 200, {"errcode": 60111, "errmsg": "invalid string value `userid`"}, {}
            return (
                200,
                {
                    "errcode": 0,
                    "errmsg": "ok",
                    "userid": q["userid"],
                    "name": info.get("name", ""),
                    "mobile": info.get("mobile", ""),
                    "status": 1 if info.get("active", True) else 5,
                },
                {},
            )
        if p == "/cgi-bin/department/list":
            return (
                200,
                {
                    "errcode": 0,
                    "errmsg": "ok",
                    "department": [{"id": 1, "name": "总部", "parentid": 0}, {"id": 2, "name": "仓库部", "parentid": 1}],
                },
                {},
            )
        if p == "/cgi-bin/user/list":
            rows = [
                {
                    "userid": u,
                    "name": i.get("name", ""),
                    "mobile": i.get("mobile", ""),
                    "department": [2 if i.get("department") == "仓库部" else 1],
                    "status": 1,
                }
                for u, i in self.users.items()
            ]
            return 200, {"errcode": 0, "errmsg": "ok", "userlist": rows}, {}
        return 404, {"errcode": 404, "errmsg": "not found"}, {}

    # --- Feishu --------------------------------------------------------------------------------------------
    def _feishu(self, r: Received):
        p, _q, b = r.path, r.query, r.body
        if p == "/open-apis/auth/v3/tenant_access_token/internal":
            if b.get("app_id") != self.app_key or b.get("app_secret") != self.app_secret:
                return 400, {"code": 10014, "msg": "app secret invalid"}, {}
            return 200, {"code": 0, "msg": "ok", "tenant_access_token": self._new_token(), "expire": 7200}, {}
        if p == "/open-apis/authen/v1/authorize":
            return self._oauth_page(r)
        if p == "/open-apis/authen/v2/oauth/token":
            user = self.codes.pop(b.get("code", ""), None)
            if user is None or b.get("client_secret") != self.app_secret:
                return 400, {"code": 20003, "error": "invalid_grant", "error_description": "code is invalid"}, {}
            return 200, {"code": 0, "access_token": "user-" + user, "expires_in": 7200, "token_type": "Bearer"}, {}
        if p == "/open-apis/authen/v1/user_info":
            user = r.headers.get("authorization", "").removeprefix("Bearer user-")
            info = self.users.get(user)
            if info is None:
                return 400, {"code": 99991668, "msg": "Invalid access token"}, {}
            return (
                200,
                {
                    "code": 0,
                    "msg": "success",
                    "data": {"open_id": user, "name": info.get("name", ""), "mobile": "+86" + info.get("mobile", "")},
                },
                {},
            )
        problem = self._token_problem(r.headers.get("authorization", "").removeprefix("Bearer "))
        if problem:
            return problem[0], problem[1], {}
        if p == "/open-apis/im/v1/messages":
            rate = self._rate_problem()
            if rate:
                return rate
            if b.get("receive_id") not in self.users:
                return 400, {"code": 230013, "msg": "Bot has NO availability to this user."}, {}
            return 200, {"code": 0, "msg": "success", "data": {"message_id": f"om_{len(self.received)}"}}, {}
        if p == "/open-apis/contact/v3/departments/0/children":
            # fetch_child=true: every department below the root; else its direct children.
            every = _q.get("fetch_child") == "true"
            items = [
                {"name": name, "open_department_id": f"od-{d}", "department_id": str(d), "parent_department_id": f"od-{parent}"}
                for d, (name, parent) in self.departments.items()
                if every or parent == 1
            ]
            return 200, {"code": 0, "msg": "success", "data": {"has_more": False, "items": items}}, {}
        if p == "/open-apis/contact/v3/users/find_by_department":
            # Direct members only, as documented; the root is "0".
            wanted = _q.get("department_id", "")
            items = [
                {"open_id": u, "name": i.get("name", ""), "mobile": "+86" + i.get("mobile", ""), "status": {"is_resigned": False}}
                for u, i in self.users.items()
                if (wanted == "0" and self._department_id(i) == 1) or wanted == f"od-{self._department_id(i)}"
            ]
            return 200, {"code": 0, "msg": "success", "data": {"has_more": False, "items": items}}, {}
        return 404, {"code": 404, "msg": "not found"}, {}


# --- the vendor's side of a callback ---------------------------------------------------------------------


@dataclass
class SignedCallback:
    path_query: str
    body: bytes
    headers: dict
    content_type: str


def card_callback(
    kind: str, *, token: str, key: str, receive_id: str, user_id: str, button: str, callback_id: str, now: float | None = None
) -> SignedCallback:
    """A card button press as the vendor sends it (WeCom template_card_event; Feishu card.action.trigger)."""
    now = int(now or time.time())
    nonce = secrets.token_hex(6)
    if kind == "wecom":
        xml = (
            f"<xml><ToUserName><![CDATA[{receive_id}]]></ToUserName><FromUserName><![CDATA[{user_id}]]></FromUserName>"
            f"<CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event>"
            f"<EventKey><![CDATA[{button}]]></EventKey><TaskId><![CDATA[task]]></TaskId><CardType><![CDATA[button_interaction]]></CardType>"
            f"<ResponseCode><![CDATA[{callback_id}]]></ResponseCode><AgentID>1000002</AgentID></xml>"
        )
        encrypt = wx_encrypt(encoding_aes_key=key, receive_id=receive_id, plaintext=xml.encode())
        signature = wx_signature(token=token, timestamp=str(now), nonce=nonce, encrypt=encrypt)
        body = (
            f"<xml><ToUserName><![CDATA[{receive_id}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
            "<AgentID><![CDATA[1000002]]></AgentID></xml>"
        )
        query = urllib.parse.urlencode({"msg_signature": signature, "timestamp": now, "nonce": nonce})
        return SignedCallback("?" + query, body.encode(), {}, "text/xml")
    event = {
        "schema": "2.0",
        "header": {
            "event_id": callback_id,
            "token": token,
            "create_time": str(now * 1000),
            "event_type": "card.action.trigger",
            "tenant_key": "t",
            "app_id": receive_id,
        },
        "event": {
            "operator": {"open_id": user_id},
            "token": "c-update",
            "action": {"tag": "button", "value": {"ops": button}},
            "context": {"open_message_id": "om_1"},
        },
    }
    body = json.dumps({"encrypt": feishu_encrypt(encrypt_key=key, plaintext=json.dumps(event).encode())}).encode()
    headers = {
        "X-Lark-Request-Timestamp": str(now),
        "X-Lark-Request-Nonce": nonce,
        "X-Lark-Signature": feishu_signature(timestamp=str(now), nonce=nonce, encrypt_key=key, body=body),
    }
    return SignedCallback("", body, headers, "application/json")


def dingtalk_event(*, token: str, key: str, app_key: str, event: dict, now_ms: int | None = None) -> SignedCallback:
    now_ms = now_ms or int(time.time() * 1000)
    nonce = secrets.token_hex(6)
    encrypt = wx_encrypt(encoding_aes_key=key, receive_id=app_key, plaintext=json.dumps(event).encode())
    signature = wx_signature(token=token, timestamp=str(now_ms), nonce=nonce, encrypt=encrypt)
    query = urllib.parse.urlencode({"msg_signature": signature, "timestamp": now_ms, "nonce": nonce})
    return SignedCallback("?" + query, json.dumps({"encrypt": encrypt}).encode(), {}, "application/json")
