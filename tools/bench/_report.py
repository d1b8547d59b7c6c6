"""Shared helpers for benchmarks: timing medians, a printed table, JSON output."""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def median_time(
    fn: Callable[[], Any], repeats: int, clock: Callable[[], float] = time.perf_counter
) -> tuple[float, list[float]]:
    """Median time (s; wall time unless ``clock`` says otherwise) of ``repeats`` calls of ``fn`` and the times."""
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times), times


def print_table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Print rows as an aligned text table."""

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v)

    cells = [[fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[k]) for row in cells)) for k, c in enumerate(columns)]
    print(f"\n{title}")
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def write_json(path: str | None, name: str, rows: list[dict[str, Any]], extra: dict | None = None) -> None:
    """Write the rows (and machine facts) to ``path`` if given."""
    if not path:
        return
    doc = {
        "benchmark": name,
        "machine": platform.platform(),
        "python": platform.python_version(),
        "rows": rows,
        **(extra or {}),
    }
    Path(path).write_text(json.dumps(doc, indent=2, default=str) + "\n")
