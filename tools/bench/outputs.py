"""Cost of what ``simcore run SCENARIO --out DIR`` writes, per catalog scenario, against the run itself.

    python tools/bench/outputs.py [--quick] [--json FILE] [--repeats N] [--clock cpu|wall] [--old-ref REF]
                                  [--no-old] [SCENARIO ...]

Per scenario (autopilot ego, the scenario's own end, compile excluded by a warm-up run): the
simulation's time, then ``write_run_outputs`` as `simcore run --out` calls it (``outputs_s``: first, so
the road network's caches are as the run log left them, and with the pictures' texts not yet rendered, as
in a fresh process; imports and font loading stay excluded), then each writer on that run's result, timed
separately (medians of ``repeats``): the ego series (shared by junit.xml and report.html), result.json, junit.xml,
topdown.png, report.html (of which: the SVG plots, the critical-moment picture and the embedded
viewer) and run.mcap (opening it with its map scene, the writer's time inside the run, ``finish``).
Side by side, in the same process, topdown.png and report.html as drawn before this change (loaded from
git at ``--old-ref``): ``old_*`` columns. ``outputs_s``: everything but run.mcap (``outputs/run`` over the
run); ``out/run``: all outputs over the run's time (target: at most 1); ``out/(build+run)``: the same over
the whole `simcore run` without ``--out`` (scenario load and world build, ``build_s``, plus the run).
``--quick``: three small scenarios (under a minute warm). ``--clock cpu`` (default): CPU time of this
process (``time.process_time``, all threads), which other load on a shared machine changes less than wall
time; ``--clock wall``: wall time (``time.perf_counter``).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _report import print_table, write_json

from simcore._data import catalog_dir
from simcore.api import simulation
from simcore.report.html import critical_picture, plot_series, write_report
from simcore.report.junit import case_from_result, write_junit
from simcore.report.outputs import write_run_outputs
from simcore.report.runlog import RUN_MCAP, RunLogWriter
from simcore.report.series import critical_moment, ego_series
from simcore.report.viewer import fragment, run_payload

REPO = Path(__file__).resolve().parents[2]
#: The commit compared against by default: main before wave 4's cuts to the pictures and the report
#: (``--old-ref 7b4afb4``: the last pictures drawn with matplotlib).
OLD_REF = "bbb5b94"
QUICK = ("urban/signalized_intersection", "urban/cut_in", "ncap/ccrs")


def catalog() -> list[str]:
    """Every catalog scenario, as ``simcore list`` names them (without .yaml)."""
    base = catalog_dir("scenarios")
    return [p.relative_to(base).with_suffix("").as_posix() for p in sorted(base.rglob("*.yaml"))]


def _git_module(ref: str, name: str) -> types.ModuleType | None:
    """Module ``name`` (a path) as it was at commit ``ref``, run under the name ``old_<stem>``; None
    where git or the file is missing."""
    try:
        src = subprocess.run(["git", "-C", str(REPO), "show", f"{ref}:{name}"], capture_output=True, text=True,
                             check=True).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    mod = types.ModuleType(f"old_{Path(name).stem}")
    mod.__file__ = f"<{ref}:{name}>"
    sys.modules[mod.__name__] = mod  # dataclasses look their module up
    exec(compile(src, mod.__file__, "exec"), mod.__dict__)  # our own code at an older commit
    return mod


def old_modules(ref: str) -> tuple[types.ModuleType, types.ModuleType] | None:
    """``render.topdown`` and ``report.html`` of commit ``ref`` (the report built on that commit's
    ``render.svg`` where it had one); None without git."""
    topdown = _git_module(ref, "simcore/render/topdown.py")
    svg = _git_module(ref, "simcore/render/svg.py")
    saved = sys.modules["simcore.render.svg"]
    if svg is not None:
        sys.modules["simcore.render.svg"] = svg  # the old report imports its chart functions from it
    try:
        html = _git_module(ref, "simcore/report/html.py")
    finally:
        sys.modules["simcore.render.svg"] = saved
    return None if topdown is None or html is None else (topdown, html)


@contextlib.contextmanager
def old_topdown_active(old_topdown: types.ModuleType) -> Iterator[None]:
    """The old report imports ``draw_run`` from ``simcore.render.topdown`` when it runs: give it the old one."""
    saved = sys.modules["simcore.render.topdown"]
    sys.modules["simcore.render.topdown"] = old_topdown
    try:
        yield
    finally:
        sys.modules["simcore.render.topdown"] = saved


#: The clock of every timing (``--clock``): CPU time of the process or wall time.
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}
clock = CLOCKS["cpu"]


def timed(fn: Callable[[], Any]) -> float:
    t0 = clock()
    fn()
    return clock() - t0


def time_log_writer(sim: Any, writer: RunLogWriter) -> list[float]:
    """Time the writer's calls inside the run with ``clock`` (its own ``busy_s`` is wall time): returns a
    one-element list holding the seconds so far."""
    spent = [0.0]
    hooks = sim.on_advance
    for k, hook in enumerate(hooks):
        if getattr(hook, "__self__", None) is writer:

            def timed_hook(s: Any, hook: Callable[[Any], None] = hook) -> None:
                t0 = clock()
                hook(s)
                spent[0] += clock() - t0

            hooks[k] = timed_hook
    return spent


def fresh_texts() -> None:
    """Forget the pictures' rendered texts (``render.topdown`` keeps them per process), as in a process that
    has drawn none yet: a repeat of the same run would find its title and ids rendered already."""
    import simcore.render.topdown as td

    for cache in ("_text_mask", "_text_length"):
        fn = getattr(td, cache, None)
        if fn is not None and hasattr(fn, "cache_clear"):
            fn.cache_clear()


def one(name: str, out: Path, repeats: int, old: tuple[types.ModuleType, types.ModuleType] | None) -> dict:
    """Timings (s) of one scenario's run and of each output."""
    simulation(name, "autopilot").run()  # warm-up: kernels compiled or loaded
    t: dict[str, list[float]] = {}

    def add(key: str, seconds: float) -> None:
        t.setdefault(key, []).append(seconds)

    for _ in range(repeats):
        t0 = clock()
        sim = simulation(name, "autopilot")
        sim.prepare()
        add("build_s", clock() - t0)  # scenario load and world build (what `simcore run` does first)
        t0 = clock()
        writer = RunLogWriter(out / RUN_MCAP, sim.world)
        writer.attach(sim)
        opened = clock() - t0  # the log's header, schemas, map scene and first rows
        busy = time_log_writer(sim, writer)
        t0 = clock()
        res = sim.run()
        run_with_log = clock() - t0
        add("mcap_s", opened + busy[0] + timed(lambda: writer.finish(res)))  # noqa: B023
        add("run_s", run_with_log - busy[0])
        w = sim.world
        # everything but run.mcap, first: as in `simcore run --out` (the network's caches are as the log left
        # them, the texts of the pictures not rendered yet; the parts timed below draw on the caches it fills)
        fresh_texts()
        add("outputs_s", timed(lambda: write_run_outputs(w, res, out)))  # noqa: B023
        series = ego_series(w, res)
        add("series_s", timed(lambda: ego_series(w, res)))  # noqa: B023
        add("json_s", timed(lambda: res.write_json(out / "result.json")))  # noqa: B023
        add("junit_s", timed(lambda: write_junit([case_from_result(res.to_json(), wall_time=res.wall_time)],  # noqa: B023
                                                 out / "junit.xml")))  # fmt: skip
        from simcore.render.topdown import draw_run

        add("topdown_s", timed(lambda: draw_run(w, res, out / "topdown.png")))  # noqa: B023
        add("report_s", timed(lambda: write_report(w, res, out / "report.html", series)))  # noqa: B023
        crit = critical_moment(res, series)
        if series is not None:
            add("plots_s", timed(lambda: plot_series(w, series, res, crit)))  # noqa: B023
        add("critical_s", timed(lambda: critical_picture(w, res, crit)))  # noqa: B023
        add("viewer_s", timed(lambda: fragment(run_payload(w, res))))  # noqa: B023
        if old is not None:
            old_topdown, old_html = old
            add("old_topdown_s", timed(lambda: old_topdown.draw_run(w, res, out / "old_topdown.png")))  # noqa: B023
            with old_topdown_active(old_topdown):
                add("old_report_s", timed(lambda: old_html.write_report(w, res, out / "old_report.html", series)))  # noqa: B023
                if series is not None and hasattr(old_html, "critical_picture"):
                    add("old_plots_s", timed(lambda: old_html.plot_series(w, series, res, crit)))  # noqa: B023
                    add("old_critical_s", timed(lambda: old_html.critical_picture(w, res, crit)))  # noqa: B023
    row: dict[str, Any] = {"scenario": name, "actors": len(w.actor_ids), "sim_time_s": round(res.sim_time, 2)}
    row |= {k: statistics.median(v) for k, v in t.items()}
    row["out_s"] = row["outputs_s"] + row["mcap_s"]
    row["out/run"] = row["out_s"] / row["run_s"]
    row["outputs/run"] = row["outputs_s"] / row["run_s"]  # everything but run.mcap
    row["out/(build+run)"] = row["out_s"] / (row["build_s"] + row["run_s"])
    if old is not None:
        row["old_out_s"] = (
            row["out_s"] - row["topdown_s"] - row["report_s"] + row["old_topdown_s"] + row["old_report_s"]
        )
        row["old_out/run"] = row["old_out_s"] / row["run_s"]
        row["old_outputs_s"] = row["old_out_s"] - row["mcap_s"]
    row["repeats"] = repeats
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*", help="catalog names (default: every catalog scenario; --quick: three)")
    ap.add_argument("--quick", action="store_true", help="three small scenarios (< 1 minute warm)")
    ap.add_argument("--repeats", type=int, default=None, help="repeats per scenario (default 3)")
    ap.add_argument("--old-ref", default=OLD_REF, help="git commit of the pictures compared against")
    ap.add_argument("--no-old", action="store_true", help="skip the old pictures")
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="cpu", help="CPU time (default) or wall time")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    global clock
    clock = CLOCKS[args.clock]
    names = args.scenarios or (list(QUICK) if args.quick else catalog())
    repeats = args.repeats or 3
    old = None if args.no_old else old_modules(args.old_ref)
    if old is None and not args.no_old:
        print(f"old pictures unavailable (git show {args.old_ref} failed): new only", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory(prefix="simcore-bench-outputs-") as tmp:
        for name in names:
            print(f"{name} ...", file=sys.stderr, flush=True)
            out = Path(tmp) / name.replace("/", "_")
            out.mkdir(parents=True)
            rows.append(one(name, out, repeats, old))
    cols = ["scenario", "actors", "sim_time_s", "build_s", "run_s", "mcap_s", "json_s", "junit_s", "series_s",
            "topdown_s", "report_s", "plots_s", "critical_s", "viewer_s", "outputs_s", "outputs/run", "out_s",
            "out/run", "out/(build+run)"]  # fmt: skip
    if old is not None:
        cols += ["old_topdown_s", "old_report_s", "old_plots_s", "old_critical_s", "old_outputs_s", "old_out_s",
                 "old_out/run"]  # fmt: skip
    print_table(f"outputs of `simcore run --out` (medians of {repeats}; {args.clock} s)", rows, cols)
    for key in ("outputs/run", "out/run", "out/(build+run)"):
        met = sum(r[key] <= 1.0 for r in rows)
        print(
            f"{key} <= 1: {met} of {len(rows)}; median {statistics.median(r[key] for r in rows):.2f}, "
            f"worst {max(r[key] for r in rows):.2f}"
        )
    write_json(args.json, "outputs", rows, {"old_ref": args.old_ref if old is not None else None, "clock": args.clock})
    return 0


if __name__ == "__main__":
    sys.exit(main())
