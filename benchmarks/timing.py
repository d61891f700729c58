"""What the latency benchmarks share: timing each call, and the p50 / p95 / max line they print."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable


def milliseconds(call: Callable[[object], object], items: Iterable[object]) -> list[float]:
    """How long `call(item)` took for each item, in milliseconds, in item order."""
    times = []
    for item in items:
        start = time.perf_counter()
        call(item)
        times.append((time.perf_counter() - start) * 1000)
    return times


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank below) of `values`."""
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))]


def summary(values: list[float]) -> str:
    """ "p50 33 ms, p95 56 ms, max 82 ms" for latencies in milliseconds."""
    return f"p50 {statistics.median(values):.0f} ms, p95 {p95(values):.0f} ms, max {max(values):.0f} ms"
