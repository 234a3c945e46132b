"""A local HTTP server standing in for a DingTalk / WeCom / Feishu robot: records every POST, answers as scripted."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

OK_BODIES = {
    "dingtalk": {"errcode": 0, "errmsg": "ok"},
    "wecom": {"errcode": 0, "errmsg": "ok"},
    "feishu": {"code": 0, "msg": "success", "data": {}},
}


@dataclass
class Received:
    path: str
    query: dict[str, str]
    body: dict
    raw: bytes


@dataclass
class RobotServer:
    """`answers` is a queue of (status, body, headers) used in order; when empty, every call gets (200, ok for `kind`).

    A dict body is sent as JSON; bytes as they are (text/html), like a server that is not the vendor's.
    """

    kind: str
    received: list[Received] = field(default_factory=list)
    answers: list[tuple[int, dict | bytes, dict]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/robot/send?access_token=tok"

    def start(self) -> RobotServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parsed = urlparse(self.path)
                with owner.lock:
                    owner.received.append(
                        Received(
                            path=parsed.path, query={k: v[0] for k, v in parse_qs(parsed.query).items()}, body=json.loads(raw), raw=raw
                        )
                    )
                    status, body, headers = owner.answers.pop(0) if owner.answers else (200, OK_BODIES[owner.kind], {})
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html" if isinstance(body, bytes) else "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True, name=f"robot-{self.kind}").start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def successes(self) -> int:
        """POSTs that were answered with success (the scripted failures were popped first)."""
        return len(self.received) - self._failures

    _failures: int = 0

    def fail_next(self, status: int, body: dict | bytes, times: int = 1, headers: dict | None = None) -> None:
        self.answers.extend([(status, body, headers or {})] * times)
        self._failures += times
