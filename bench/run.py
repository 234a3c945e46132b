"""`make bench`: python -m bench.run [--only NAME ...] [--keep-db].

Creates its own PostgreSQL database (opsteam_bench), uses Redis database 10, starts a Celery worker,
runs every workload (ours and the reference side by side), prints the table and writes bench/results.json.
Exit code 0 when every workload meets its target, 1 when one does not, 2 when a server is missing.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import subprocess
import sys
import time
import traceback

from bench import stack
from bench.lib import Result, Workload, results_write, table

# Each module exposes WORKLOADS. The board's module may come from issue 5 (bench/board.py); bench/board_workload.py
# is this suite's own, used when bench/board.py is not there.
MODULES = ["bench.generation", "bench.tick", "bench.myday", "bench.sweep", "bench.board", "bench.weight"]
FALLBACKS = {"bench.board": "bench.board_workload"}
TIME_LIMIT = 600


def machine() -> dict:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo", encoding="utf-8") if line.startswith("model name")),  # noqa: SIM115
        platform.processor(),
    )
    mem_kb = next((int(line.split()[1]) for line in open("/proc/meminfo", encoding="utf-8") if line.startswith("MemTotal")), 0)  # noqa: SIM115
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(mem_kb / 1048576, 1),
        "python": platform.python_version(),
        "postgresql_client": pg,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def workloads(only: list[str]) -> list[Workload]:
    found: list[Workload] = []
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            if name not in FALLBACKS:
                print(f"bench: no module {name}, skipped", file=sys.stderr)
                continue
            module = importlib.import_module(FALLBACKS[name])
        if not getattr(module, "WORKLOADS", None) and name in FALLBACKS:
            module = importlib.import_module(FALLBACKS[name])
        found += getattr(module, "WORKLOADS", [])
    if only:
        found = [w for w in found if any(w.name.startswith(prefix) for prefix in only)]
    return sorted(found, key=lambda w: w.order)


def merged(fresh: list[Result]) -> list[Result]:
    """The previous results with the rows of this (partial) run put in their place."""
    import json

    from bench.lib import RESULTS

    if not RESULTS.exists():
        return fresh
    names = {r.workload for r in fresh}
    keep = [
        Result(**{k: v for k, v in row.items() if k != "ratio"}) for row in json.loads(RESULTS.read_text(encoding="utf-8"))["workloads"]
    ]
    out = [r for r in keep if r.workload not in names]
    for row in fresh:
        index = next((i for i, r in enumerate(keep) if r.workload == row.workload), len(keep))
        out.insert(min(index, len(out)), row)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="run the workloads whose name starts with this (repeatable)")
    parser.add_argument("--keep-db", action="store_true", help="leave the opsteam_bench database for a look afterwards")
    parser.add_argument("--merge", action="store_true", help="with --only: replace these rows in bench/results.json, keep the others")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if not stack.bench_prepare("make bench"):
        return 2
    from bench.load import generator

    if generator() != "wrk" and os.environ.get("BENCH_LOAD", "wrk") == "wrk":
        # The Python generator shares the two cores with the server: its ratios are not the README's.
        print("bench: wrk is not installed (apt-get install wrk); the HTTP workloads use the Python load generator", flush=True)

    results: list[Result] = []
    try:
        for workload in workloads(args.only):
            print(f"bench: {workload.name} ...", flush=True)
            t0 = time.monotonic()
            try:
                rows = workload.run()
            except Exception as exc:  # one broken workload still leaves a row in the table
                traceback.print_exc()
                rows = [Result(workload=workload.name, ours=0, reference=0, unit="s", target="-", passed=False, notes=[f"error: {exc}"])]
            for row in rows:
                print(f"   {row.workload}: ours {row.ours:.4g} {row.unit}, reference {row.reference:.4g}, passed={row.passed}", flush=True)
            print(f"bench: {workload.name} took {time.monotonic() - t0:.0f} s", flush=True)
            results += rows
    finally:
        from bench import shared

        shared.stop_all()
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            stack.database_drop()
    seconds = time.monotonic() - started
    info = machine()
    print()
    print(table(results))
    print()
    print(f"{info['nproc']} cores, {info['cpu']}, {info['memory_gb']} GB; {seconds:.0f} s in all (limit {TIME_LIMIT} s)")
    if seconds > TIME_LIMIT:
        results.append(
            Result(
                workload="whole run", ours=seconds, reference=TIME_LIMIT, unit="s", target=f"<= {TIME_LIMIT} s", passed=False, kind="size"
            )
        )
    if args.merge:
        results = merged(results)
    results_write(results, machine=info, seconds=seconds)
    print(f"written {os.path.relpath(stack.BASE_DIR / 'bench' / 'results.json')}")
    return 0 if results and all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
