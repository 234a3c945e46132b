"""A small closed-loop HTTP load generator on threads and http.client (wrk is not installed here).

Each of `connections` threads sends one request, reads the whole answer, and sends the next, until the time
is up. gunicorn's sync workers close every connection, so each request opens a new one (both sides alike).
The generator shares the machine with the server; it is the same generator for ours and the reference.
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

Request = tuple[str, str, bytes | None, dict[str, str]]  # method, path, body, headers


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    first_error: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def hammer(
    *, port: int, requests: Iterator[Request], connections: int, seconds: float, check: Callable[[int, bytes], bool] | None = None
) -> LoadResult:
    lock = threading.Lock()
    counts = {"ok": 0, "errors": 0}
    first_error: list[str] = []
    check = check or (lambda status, body: status == 200)
    deadline = time.perf_counter() + seconds

    def next_request() -> Request | None:
        with lock:
            return next(requests, None)

    def loop() -> None:
        while time.perf_counter() < deadline:
            request = next_request()
            if request is None:
                return
            method, path, body, headers = request
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request(method, path, body=body, headers={"Connection": "close", **headers})
                response = conn.getresponse()
                data = response.read()
                conn.close()
                ok = check(response.status, data)
            except OSError as exc:
                ok, data, response = False, str(exc).encode(), None
            with lock:
                if ok:
                    counts["ok"] += 1
                else:
                    counts["errors"] += 1
                    if not first_error:
                        status = response.status if response is not None else "-"
                        first_error.append(f"{method} {path}: {status} {data[:200]!r}")

    start = time.perf_counter()
    threads = [threading.Thread(target=loop, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    elapsed = time.perf_counter() - start
    return LoadResult(requests=counts["ok"], errors=counts["errors"], seconds=elapsed, first_error=first_error[0] if first_error else "")


def cycle(items: list[Request]) -> Iterator[Request]:
    return itertools.cycle(items)
