"""Cost of the per-step state hash: every step's full engine state folded in the compiled step.

    python tools/bench/state_hash.py [--quick] [--json FILE]

Side by side in one process, interleaved: the same compiled steps with the state hash kept (what
``simcore run`` does) and with it off (``Outputs.state_hash`` of length 0: what the gym does), on
a small scenario (tests/data/sweep.yaml, 2 actors) and the 571-actor dense city grid. Each repeat
restores the same snapshot and advances N steps in chunks of ``runner.loop.CHUNK_STEPS``; medians
of the repeats, per step (on a loaded machine this difference is noisy). Also the fold alone,
called 500-20,000 times in a compiled loop (no dispatch): microseconds per step, nanoseconds per
word, and that as a share of the step without the hash.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _report import median_time, print_table, write_json

from simcore._jit import kernel
from simcore.api import simulation
from simcore.record.state_hash import ROUTE_FIELDS, fold_engine_state
from simcore.runner.loop import CHUNK_STEPS

ROOT = Path(__file__).resolve().parents[2]


@kernel
def fold_loop(h, es, n):  # pragma: no cover - compiled
    """``n`` folds of instance 0's state (the cost of the fold without any dispatch)."""
    for _ in range(n):
        h = fold_engine_state(h, es, 0)
    return h


CASES = (
    ("sweep (2 actors)", "tests/data/sweep.yaml"),
    ("dense_city_grid (571 actors)", "scenarios/urban/dense_city_grid.yaml"),
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    repeats = 5 if args.quick else 9
    rows = []
    for label, path in CASES:
        sim = simulation(str(ROOT / path), "autopilot")
        sim.reset()
        n_steps = min(200 if args.quick else 1000, sim.max_steps - 1)
        snap = sim.snapshot()
        on, off = sim.out, sim.out._replace(state_hash=np.zeros(0, dtype=np.uint64))

        def chunks(out, sim=sim, snap=snap, n_steps=n_steps, on=on) -> None:
            sim.out = on
            sim.restore(snap)
            sim.out = out
            left = n_steps
            while left > 0:
                left -= max(sim._advance(min(CHUNK_STEPS, left)), 1)

        times: dict[str, list[float]] = {"on": [], "off": []}
        chunks(on)  # warm
        for _ in range(repeats):  # interleaved: the machine's load drifts alike for both
            for key, out in (("off", off), ("on", on)):
                t0 = time.perf_counter()
                chunks(out)
                times[key].append(time.perf_counter() - t0)
        sim.out = on
        n_touch = int(sim.state.n_touch[0, 0])
        words = sum(
            n_touch if f in ("touch_i", "touch_j") else a[0].size
            for f, a in zip(sim.state._fields, sim.state, strict=True)
            if f not in ROUTE_FIELDS
        )
        h, n_fold = np.uint64(1), max(500, 2_000_000 // words)
        fold_loop(h, sim.state, 1)
        med_fold, _ = median_time(lambda h=h, es=sim.state, n=n_fold: fold_loop(h, es, n), 5)
        med_fold /= n_fold
        t_on, t_off = float(np.median(times["on"])), float(np.median(times["off"]))
        rows.append({
            "scenario": label, "steps": n_steps, "words_per_step": words,
            "us_per_step_off": t_off / n_steps * 1e6, "us_per_step_on": t_on / n_steps * 1e6,
            "overhead_pct": (t_on - t_off) / t_off * 100.0,
            "fold_alone_us": med_fold * 1e6, "ns_per_word": med_fold / words * 1e9,
            "fold_pct_of_step": med_fold / (t_off / n_steps) * 100.0,
        })  # fmt: skip
        print(f"  {label}: done", flush=True)
    print_table("State hash: compiled steps with and without the per-step fold (medians)", rows, list(rows[0]))
    write_json(args.json, "state_hash", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
