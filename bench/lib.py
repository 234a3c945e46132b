"""The shape every workload shares, the timing rules, the table and bench/results.json.

A workload measures the product and its reference in the same run, interleaved, and keeps the best
(lowest) time of each: on a noisy machine the minimum is the figure least disturbed by neighbours.
Workloads live in bench/<name>.py and expose `WORKLOADS: list[Workload]`; bench/run.py collects them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass
class Result:
    """One row of the table. `kind` says how to read the ratio: time (lower is better) or throughput (higher is better)."""

    workload: str
    ours: float
    reference: float
    unit: str
    target: str
    passed: bool
    kind: str = "time"  # "time": ours/reference must be <= limit; "rate": ours/reference must be >= limit; "size": ours <= limit
    limit: float = 0.0
    notes: list[str] = field(default_factory=list)
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.kind == "size" or not self.reference:
            return None
        return self.ours / self.reference


@dataclass
class Workload:
    """A named measurement: `run()` returns its rows. `order` decides when it runs (data sets are built once, in order)."""

    name: str
    run: Callable[[], list[Result]]
    order: int = 50


def time_ratio(*, workload: str, ours: float, reference: float, limit: float, checks: dict[str, bool] | None = None, notes=()) -> Result:
    checks = dict(checks or {})
    ok = ours <= limit * reference and all(checks.values())
    return Result(
        workload=workload,
        ours=ours,
        reference=reference,
        unit="s",
        target=f"<= {limit:g}x",
        passed=ok,
        kind="time",
        limit=limit,
        checks=checks,
        notes=list(notes),
    )


def rate_ratio(*, workload: str, ours: float, reference: float, limit: float, checks: dict[str, bool] | None = None, notes=()) -> Result:
    checks = dict(checks or {})
    ok = ours >= limit * reference and all(checks.values())
    return Result(
        workload=workload,
        ours=ours,
        reference=reference,
        unit="req/s",
        target=f">= {limit:g}x",
        passed=ok,
        kind="rate",
        limit=limit,
        checks=checks,
        notes=list(notes),
    )


class Timer:
    """`with Timer() as t: ...`; then t.seconds."""

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


def best_of(rounds: int, *pairs: tuple[Callable[[], None] | None, Callable[[], float]]) -> list[float]:
    """Run each (setup, measure) pair in turn, `rounds` times, interleaved; the best time of each measure.

    `setup` (untimed) puts the database back to the state the measure expects; `measure` returns seconds.
    """
    best = [float("inf")] * len(pairs)
    for _ in range(rounds):
        for index, (setup, measure) in enumerate(pairs):
            if setup is not None:
                setup()
            best[index] = min(best[index], measure())
    return best


def _fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "req/s":
        return f"{value:.0f} req/s"
    if unit == "KB":
        return f"{value:.1f} KB"
    return f"{value:g} {unit}"


def table(results: list[Result]) -> str:
    rows = [("workload", "ours", "reference", "ratio", "target", "result")]
    for r in results:
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}x"
        failed_checks = [name for name, ok in r.checks.items() if not ok]
        verdict = "pass" if r.passed else "FAIL" + (f" ({', '.join(failed_checks)})" if failed_checks else "")
        reference = "" if r.kind == "size" else _fmt(r.reference, r.unit)
        rows.append((r.workload, _fmt(r.ours, r.unit), reference, ratio, r.target, verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    notes = [f"  {r.workload}: {note}" for r in results for note in r.notes]
    return "\n".join(lines + (["", "notes:", *notes] if notes else []))


def results_write(results: list[Result], *, machine: dict, seconds: float, path: Path = RESULTS) -> None:
    payload = {
        "machine": machine,
        "total_seconds": round(seconds, 1),
        "passed": all(r.passed for r in results),
        "workloads": [{**asdict(r), "ratio": None if r.ratio is None else round(r.ratio, 3)} for r in results],
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
