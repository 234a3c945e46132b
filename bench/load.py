"""Load generators: wrk when it is installed (`apt-get install wrk`, as issue 8 asks), else a small closed-loop
generator on threads and http.client.

Either way `connections` clients each send one request, read the whole answer and send the next, until the
time is up. gunicorn's sync workers close every connection, so each request opens a new one (both sides
alike). The generator shares the machine with the server; ours and the reference use the same one. wrk, in
C, takes far less of the machine than Python threads, so its figures are the server's own more nearly.
"""

from __future__ import annotations

import http.client
import itertools
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

Request = tuple[str, str, bytes | None, dict[str, str]]  # method, path, body, headers


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    first_error: str = ""
    tool: str = "threads"

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


WRK_SCRIPT = Path(__file__).with_name("wrk_requests.lua")


def generator() -> str:
    """ "wrk" when it is on the PATH, else "threads" (BENCH_LOAD=threads forces the threads)."""
    import os

    if os.environ.get("BENCH_LOAD", "wrk") == "wrk" and shutil.which("wrk"):
        return "wrk"
    return "threads"


def load(*, port: int, requests: list[Request], connections: int, seconds: float) -> LoadResult:
    """`requests` sent `connections` at a time for `seconds`, by wrk or the threads, in order and then again
    from the first (wrk: each of its threads goes through its share of them)."""
    if generator() == "threads":
        return hammer(port=port, requests=itertools.cycle(requests), connections=connections, seconds=seconds)
    return wrk(port=port, requests=requests, connections=connections, seconds=seconds)


def wrk(*, port: int, requests: list[Request], connections: int, seconds: float) -> LoadResult:
    threads = min(2, connections)
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", encoding="utf-8") as listing:
        for method, path, body, headers in requests:
            fields = [method, path, (body or b"").decode(), *(f"{name}: {value}" for name, value in headers.items())]
            assert not any("\t" in field or "\n" in field for field in fields), fields
            listing.write("\t".join(fields) + "\n")
        listing.flush()
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "30s", "-s", str(WRK_SCRIPT)]
        command += [f"http://127.0.0.1:{port}", "--", listing.name, str(threads)]
        out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    total, elapsed = (float(x) for x in re.search(r"(\d+) requests in ([\d.]+)(m?s)", out).groups()[:2])
    if re.search(r"requests in [\d.]+ms", out):
        elapsed /= 1000
    bad = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = bad + (sum(int(x) for x in socket.groups()) if socket else 0)
    first = f"wrk: {bad} non-2xx answers{', ' + socket.group(0) if socket else ''}" if failed else ""
    return LoadResult(requests=int(total) - bad, errors=failed, seconds=elapsed, first_error=first, tool="wrk")
