"""Timing and plotting for the lessons' measurements: medians, ratios, labelled charts.

Numbers in the notebooks come from here, computed on the learner's machine; nothing is typed in.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def time_calls(fn: Callable[[], Any], repeat: int = 5, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of ``repeat`` calls of ``fn`` after ``warmup`` unmeasured ones."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def ratio(slow: Sequence[float], fast: Sequence[float]) -> float:
    """How many times faster ``fast`` is than ``slow``, by medians."""
    return statistics.median(slow) / statistics.median(fast)


def summarize(results: Mapping[str, Sequence[float]], unit: str = "ms") -> str:
    """A small table of medians in ``unit`` plus each method's ratio to the slowest."""
    scale = {"s": 1.0, "ms": 1e3, "µs": 1e6}[unit]
    slowest = max(statistics.median(v) for v in results.values())
    width = max(len(name) for name in results)
    lines = [f"{'method':<{width}}  {'median':>10}  {'speed-up':>8}"]
    for name, samples in results.items():
        m = statistics.median(samples)
        lines.append(f"{name:<{width}}  {m * scale:>8.2f} {unit:<2} {slowest / m:>7.1f}x")
    return "\n".join(lines)


def bar_chart(results: Mapping[str, Sequence[float]], title: str, unit: str = "ms",
              log: bool = False) -> Any:
    """A bar per method (its median), with the ratio to the slowest written on each bar."""
    import matplotlib.pyplot as plt

    scale = {"s": 1.0, "ms": 1e3, "µs": 1e6}[unit]
    names = list(results)
    medians = [statistics.median(results[n]) * scale for n in names]
    slowest = max(medians)
    fig, ax = plt.subplots()
    bars = ax.barh(names, medians, color="#336791")
    for bar, value in zip(bars, medians, strict=True):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2,
                f" {value:.2f} {unit} ({slowest / value:.1f}x)", va="center", fontsize=9)
    ax.set_xlabel(f"median time ({unit}){' — log scale' if log else ''}")
    ax.set_title(title)
    if log:
        ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlim(right=(slowest * (30 if log else 1.45)))
    fig.tight_layout()
    return fig


def line_chart(sizes: Sequence[int], series: Mapping[str, Sequence[float]], title: str,
               xlabel: str, unit: str = "s") -> Any:
    """One line per method: time against input size, both axes labelled."""
    import matplotlib.pyplot as plt

    scale = {"s": 1.0, "ms": 1e3, "µs": 1e6}[unit]
    fig, ax = plt.subplots()
    for name, values in series.items():
        ax.plot(sizes, [v * scale for v in values], marker="o", label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"time ({unit})")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig
