"""Cost of running an in-process agent behind the guard (worker thread, time limit) per ``act``.

    python tools/bench/agent_guard.py [--quick] [--json FILE]

Side by side: a trivial agent's ``act`` called directly (what the runner did before) and
through ``simcore.agents.guard.GuardedAgent`` (what it does now); medians of 5 repeats of N
calls, reported per call in microseconds. And a whole run: the rear-end fixture driven by a
Python agent through ``act`` (steps per second), guard in place.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _report import median_time, print_table, write_json

from simcore.agents.guard import GuardedAgent
from simcore.agents.protocol import Control

ROOT = Path(__file__).resolve().parents[2]


class Trivial:
    name = "trivial"

    def reset(self, info: object) -> None:
        pass

    def act(self, obs: object) -> Control:
        return Control(0.0, 0.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    n = 2_000 if args.quick else 20_000
    agent = Trivial()
    guard = GuardedAgent(agent, "ego")

    def direct() -> None:
        for _ in range(n):
            agent.act(None)

    def guarded() -> None:
        for _ in range(n):
            guard.call("act", None, timeout_s=60.0)

    rows = []
    for label, fn in (("direct call", direct), ("guarded (worker thread)", guarded)):
        fn()
        med, _ = median_time(fn, 5)
        rows.append({"how": label, "calls": n, "us_per_call": med / n * 1e6})
    guard.close()
    rows.append({"how": "guard overhead", "calls": n, "us_per_call": rows[1]["us_per_call"] - rows[0]["us_per_call"]})

    from simcore.api import simulation

    sim = simulation(ROOT / "tests" / "data" / "rear_end.yaml", Trivial(), record_every=0)
    sim.run()
    steps = sim.step_index

    def run() -> None:
        sim.reset()
        sim.run()

    med, _ = median_time(run, 3)
    rows.append({"how": "rear_end run via act (guarded)", "calls": steps, "us_per_call": med / steps * 1e6})
    print_table("In-process agent call cost (us per act)", rows, ["how", "calls", "us_per_call"])
    write_json(args.json, "agent_guard", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
