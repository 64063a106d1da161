"""Percentiles (nearest rank) of latency samples in microseconds, reported in milliseconds."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def percentile(ordered: Sequence[int], p: float) -> float:
    """Nearest-rank percentile of already sorted samples."""
    if not ordered:
        return float("nan")
    rank = max(math.ceil(p / 100 * len(ordered)), 1)
    return float(ordered[rank - 1])


def summary_ms(
    samples_us: Iterable[int], points: Sequence[float] = (50, 90, 99)
) -> dict[str, float]:
    """{"p50": ms, ..., "max": ms, "mean": ms, "n": count}; NaN-free (None for no samples)."""
    ordered = sorted(samples_us)
    out: dict[str, float] = {"n": len(ordered)}
    if not ordered:
        return out
    for p in points:
        out[f"p{p:g}"] = round(percentile(ordered, p) / 1000, 2)
    out["max"] = round(ordered[-1] / 1000, 2)
    out["mean"] = round(sum(ordered) / len(ordered) / 1000, 2)
    return out


def ratio(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base == 0 or math.isnan(value) or math.isnan(base):
        return None
    return round(value / base, 2)
