"""Road networks: load time and memory of OpenDRIVE towns and a generated city, and point-to-lane query rate;
real-map robustness: every shared map's load time and peak memory (ours vs pyxodr), route success
rate, and traffic real-time factor.

    python tools/bench/roads.py [--quick] [--json FILE] [--part queries|maps|traffic|synthetic|all]
    python tools/bench/roads.py --part synthetic [--roads N] [--baseline DIR]

Synthetic (``--part synthetic``): load time and max resident memory of the synthetic map, each
load in a fresh process after a warm-up load of a two-road map (imports, compiled kernels);
``--baseline DIR`` times another simcore (e.g. main's) in the same run.

Real maps (``--part maps``): for every map in ../shared/maps and ../shared/esmini/xodr, the
median load time (s) and traced peak memory of one load (MiB) next to pyxodr's (the peer parser:
parse plus every lane centre line at its default 0.1 m step; small maps only with --quick);
route success: the share of graph-connected driving-lane pairs (up to 200 drawn per map, seed 0)
for which a drivable route is built; a synthetic map of 15 000 two-lane roads (2 000 with
--quick) for the size the issue reported; and the traffic real-time factor with 50 and 200
vehicles on the largest shared map (by driving-lane length outside junctions: e6mini, a
motorway) and on the largest town (Town01); 60 s simulated, 20 s with --quick.

Rows per map: warm load time (median, s; the first load of the process is reported as cold),
the network's array memory (MiB), lanes, and point-to-lane queries for 10 000 random points
inside the map's bounds: through the segment grid (``lane_query_kernels.project_points_on_grid``)
and, for comparison, the brute-force projection over every lane (``frenet_kernels``; skipped
with --quick on the big maps). Maps: CARLA Town01/Town02 from ../shared (skipped if absent)
and ``generate_grid(10, 10)``.

``simcore.road.queries.project`` (grid, exact ring search for far points, refinement in the lane
frame) is timed on 10 000 points near lanes (random lane, s, |t| < half a lane width, with yaw) and
on the same random points as above (most of them far from any lane on the grid map, so mostly the
fallback: ring search in the grid; median of 3, 1 with --quick).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _report import median_time, print_table, write_json

from simcore.road.frenet_kernels import project_points_to_lanes
from simcore.road.generate import generate_grid
from simcore.road.lane_query_kernels import project_points_on_grid
from simcore.road.network import RoadNetwork
from simcore.road.opendrive import load_opendrive
from simcore.road.queries import lane_pose, project
from simcore.road.spatial_index import build_segment_grid

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "maps" / "carla"
N_POINTS = 10_000


def _nbytes(net: RoadNetwork) -> int:
    return sum(v.nbytes for v in vars(net).values() if isinstance(v, np.ndarray))


def _grid_query(net: RoadNetwork):
    mask = net.driving_mask()
    t0 = time.perf_counter()
    grid = build_segment_grid(net, mask)
    lanes = np.flatnonzero(mask)
    seg_lane = np.concatenate([np.full(net.lane_start[i + 1] - net.lane_start[i] - 1, i) for i in lanes])
    seg_s0 = np.concatenate([net.pts_s[net.lane_start[i] : net.lane_start[i + 1] - 1] for i in lanes])
    build_s = time.perf_counter() - t0
    out = [np.empty(N_POINTS, np.int64), np.empty(N_POINTS), np.empty(N_POINTS), np.empty(N_POINTS)]

    def run(px, py):
        project_points_on_grid(px, py, *grid.args()[:7], grid.ax, grid.ay, grid.bx, grid.by, seg_lane, seg_s0, *out)
        return out

    return run, build_s


def _brute_query(net: RoadNetwork):
    mask = net.driving_mask()
    out = [np.empty(N_POINTS, np.int64), np.empty(N_POINTS), np.empty(N_POINTS), np.empty(N_POINTS)]

    def run(px, py):
        project_points_to_lanes(
            px, py, np.zeros(px.size), 0.0, mask, net.lane_start, net.pts_x, net.pts_y, net.pts_s, net.pts_heading, *out
        )
        return out

    return run


def bench_map(name: str, load, repeats: int, brute: bool) -> dict:
    """Time loading and querying one map."""
    t0 = time.perf_counter()
    net = load()
    cold = time.perf_counter() - t0
    warm, _ = median_time(load, repeats)
    rng = np.random.default_rng(0)
    xmin, ymin, xmax, ymax = net.bounds()
    px, py = rng.uniform(xmin, xmax, N_POINTS), rng.uniform(ymin, ymax, N_POINTS)
    query, grid_build = _grid_query(net)
    query(px, py)  # compile / load cache
    q_time, _ = median_time(lambda: query(px, py), max(repeats, 5))
    found = float(np.mean(query(px, py)[0] >= 0))
    row = {
        "map": name,
        "lanes": net.n_lanes,
        "load_cold_s": cold,
        "load_warm_s": warm,
        "memory_MiB": _nbytes(net) / 2**20,
        "grid_build_s": grid_build,
        "query_10k_ms": q_time * 1e3,
        "queries_per_s": N_POINTS / q_time,
        "on_lane_frac": found,
    }
    lanes = np.flatnonzero(net.driving_mask())
    lq = rng.choice(lanes, N_POINTS)
    qx, qy, qh = lane_pose(net, lq, rng.uniform(0, 1, N_POINTS) * net.lane_length[lq],
                           rng.uniform(-0.45, 0.45, N_POINTS) * net.lane_width[lq])  # fmt: skip
    project(net, qx[:10], qy[:10], qh[:10])  # compile / build the cached index
    p_time, _ = median_time(lambda: project(net, qx, qy, qh), max(repeats, 5))
    row["project_onlane_10k_ms"] = p_time * 1e3
    row["project_onlane_same_lane_frac"] = float(np.mean(project(net, qx, qy, qh)[0] == lq))
    project(net, px[:100], py[:100])  # compile the far-point paths too
    pr_time, _ = median_time(lambda: project(net, px, py), 3 if brute else 1)
    row["project_random_10k_ms"] = pr_time * 1e3
    if brute:
        b = _brute_query(net)
        b(px[:10], py[:10])
        bt, _ = median_time(lambda: b(px, py), 1)
        row["brute_10k_ms"] = bt * 1e3
    return row


MAP_DIRS = [SHARED.parent, SHARED.parents[1] / "esmini" / "xodr"]


def _shared_maps() -> list[Path]:
    return sorted({p.resolve() for d in MAP_DIRS if d.is_dir() for p in d.rglob("*.xodr")}, key=lambda p: p.name)


def _peak_mib(fn) -> float:
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _pyxodr_load(path: Path) -> None:
    import warnings

    from pyxodr.road_objects.network import RoadNetwork as PyxodrNetwork

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for road in PyxodrNetwork(str(path)).get_roads():
            for section in road.lane_sections:
                for lane in section.lanes:
                    with contextlib.suppress(IndexError):  # pyxodr cannot sample some tiny sections
                        lane.centre_line  # noqa: B018 - sampling is the work timed


def _route_success(net: RoadNetwork, pairs: int = 200) -> tuple[int, int]:
    from simcore.road.lane_graph import NoRouteError, route_path, shortest_route

    rng = np.random.default_rng(0)
    driving = np.flatnonzero(net.driving_mask())
    ok = tried = 0
    for _ in range(pairs * 5):
        if tried == pairs or driving.size < 2:
            break
        a, g = (int(v) for v in rng.choice(driving, 2, replace=False))
        try:
            lanes = shortest_route(net, a, g)
        except NoRouteError:
            continue  # not connected in the lane graph: not counted
        tried += 1
        try:
            route_path(net, lanes, 0.0)
            ok += 1
        except ValueError:
            pass
    return ok, tried


def synthetic_map(n_roads: int, per_row: int = 100) -> str:
    """OpenDRIVE text of ``n_roads`` 50 m two-lane roads (a line and an arc each) linked in rows."""
    parts = ['<?xml version="1.0"?><OpenDRIVE><header revMajor="1" revMinor="6"/>']
    lane = '<lane id="{i}" type="driving"><link><predecessor id="{i}"/><successor id="{i}"/></link>'
    lane += '<width sOffset="0" a="3.5" b="0" c="0" d="0"/></lane>'
    for i in range(n_roads):
        row, col = divmod(i, per_row)
        x, y = col * 50.0, row * 20.0
        link = f'<predecessor elementType="road" elementId="{i - 1}" contactPoint="end"/>' if col else ""
        if col < per_row - 1 and i + 1 < n_roads:
            link += f'<successor elementType="road" elementId="{i + 1}" contactPoint="start"/>'
        parts.append(
            f'<road id="{i}" length="50" junction="-1"><link>{link}</link><planView>'
            f'<geometry s="0" x="{x}" y="{y}" hdg="0" length="30"><line/></geometry>'
            f'<geometry s="30" x="{x + 30}" y="{y}" hdg="0" length="20"><arc curvature="0.0001"/></geometry>'
            f'</planView><lanes><laneSection s="0"><left>{lane.format(i=1)}</left>'
            f'<center><lane id="0" type="none"/></center><right>{lane.format(i=-1)}</right>'
            "</laneSection></lanes></road>"
        )
    parts.append("</OpenDRIVE>")
    return "\n".join(parts)


def bench_real_maps(quick: bool) -> list[dict]:
    """Load time, peak memory (ours vs pyxodr) and route success of every shared map, plus a synthetic one."""
    rows = []
    try:
        import pyxodr  # noqa: F401

        have_pyxodr = True
    except ImportError:
        have_pyxodr = False
    for path in _shared_maps():
        load = lambda p=path: load_opendrive(p)  # noqa: E731
        net = load()
        t, _ = median_time(load, 1 if quick else 3)
        ok, tried = _route_success(net, 50 if quick else 200)
        row = {
            "map": path.name,
            "KiB": path.stat().st_size / 1024,
            "lanes": net.n_lanes,
            "load_s": t,
            "peak_MiB": _peak_mib(load),
            "routes_ok": f"{ok}/{tried}",
            "route_success": ok / tried if tried else float("nan"),
            "warnings": len(net.warnings),
        }
        if have_pyxodr and (not quick or path.stat().st_size < 100_000):
            pt, _ = median_time(lambda p=path: _pyxodr_load(p), 1)
            row["pyxodr_load_s"] = pt
        rows.append(row)
        print(f"  {path.name}: {t:.2f} s", file=sys.stderr)
    n = 2_000 if quick else 15_000
    text = synthetic_map(n)
    t0 = time.perf_counter()
    net = load_opendrive(text=text)
    rows.append(
        {
            "map": f"synthetic {n} roads",
            "KiB": len(text) / 1024,
            "lanes": net.n_lanes,
            "load_s": time.perf_counter() - t0,
            "peak_MiB": _peak_mib(lambda: load_opendrive(text=text)),
        }
    )
    return rows


_SYNTHETIC_CHILD = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from roads import synthetic_map
text = synthetic_map(int(sys.argv[1]))
from simcore.road.opendrive import load_opendrive
load_opendrive(text=synthetic_map(2))  # imports and compiled kernels loaded: not part of the time
times = []
for _ in range(int(sys.argv[3])):
    t0 = time.perf_counter()
    net = load_opendrive(text=text)
    times.append(time.perf_counter() - t0)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
wall = sorted(times)[len(times) // 2]
print(json.dumps({"load_s": wall, "max_rss_MiB": rss, "lanes": net.n_lanes, "KiB": len(text) / 1024}))
"""


def bench_synthetic(n_roads: int, baseline: str | None, repeats: int) -> list[dict]:
    """Median load time of ``repeats`` loads and max resident memory of the synthetic ``n_roads``
    map, each version in a fresh process (so the memory is its load's); with ``baseline`` (a folder
    holding another simcore, e.g. ``git archive main simcore | tar -x -C /tmp/base``) the same loads
    by that version, side by side."""
    import json
    import os
    import subprocess

    rows = []
    here = str(Path(__file__).resolve().parents[2])
    for name, root in (("this tree", here), ("baseline", baseline)):
        if root is None:
            continue
        env = dict(os.environ, PYTHONPATH=root)
        print(f"  synthetic {n_roads} roads ({name}) ...", file=sys.stderr)
        out = subprocess.run(
            [sys.executable, "-c", _SYNTHETIC_CHILD, str(n_roads), str(Path(__file__).parent), str(repeats)],
            env=env,
            cwd=root,  # "python -c" puts the working folder first on sys.path: the simcore measured
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append({"map": f"synthetic {n_roads} roads", "simcore": name} | json.loads(out.stdout.splitlines()[-1]))
    return rows


def bench_traffic(quick: bool) -> list[dict]:
    """Real-time factor of traffic-only runs (50 and 200 vehicles) on the largest shared map."""
    import json
    import tempfile

    from simcore.api import simulation

    maps = _shared_maps()
    if not maps:
        return []

    def driving_m(p: Path) -> float:
        net = load_opendrive(p)
        return float(net.lane_length[net.driving_mask() & (net.lane_junction < 0)].sum())

    largest = max(maps, key=driving_m)
    towns = [p for p in maps if p.name == "Town01.xodr" and p != largest]
    sim_s = 20.0 if quick else 60.0
    rows = []
    for road_map, n in [(m, n) for m in [largest, *towns] for n in (50, 200)]:
        with tempfile.TemporaryDirectory() as tmp:
            f = Path(tmp) / "traffic.yaml"
            doc = {"simcore": 1, "name": "bench", "seed": 1, "map": {"file": str(road_map)}}
            doc |= {"traffic": {"vehicles": n, "route_length_m": [500, 5000]}, "end": {"timeout_s": sim_s}}
            f.write_text(json.dumps(doc))
            try:
                sim = simulation(f, allow_paths=[road_map.parent])
            except Exception as exc:  # a map too small for n vehicles is reported, not fatal
                rows.append({"map": road_map.name, "vehicles": n, "error": str(exc).splitlines()[0]})
                continue
            sim.prepare()
            t0 = time.perf_counter()
            res = sim.run()
            wall = time.perf_counter() - t0
        collisions = sum(e.kind.name == "COLLISION" for e in res.events)
        rows.append({"map": road_map.name, "vehicles": n, "sim_s": sim_s, "wall_s": wall, "rtf": sim_s / wall,
                     "collisions": collisions})  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; prints a table and optionally writes JSON."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repeats, no brute-force comparison (< 1 min)")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument(
        "--part", choices=("queries", "maps", "traffic", "synthetic", "all"), default="all", help="which tables to run"
    )
    ap.add_argument("--roads", type=int, help="synthetic map size (default 15 000, 2 000 with --quick)")
    ap.add_argument("--baseline", metavar="DIR", help="a folder holding another simcore to time the synthetic map with")
    args = ap.parse_args(argv)
    extra: dict = {"quick": args.quick, "n_points": N_POINTS}
    if args.part == "synthetic":
        n_roads = args.roads or (2_000 if args.quick else 15_000)
        syn = bench_synthetic(n_roads, args.baseline, 1 if n_roads > 5_000 else 3)
        cols = ["map", "simcore", "KiB", "lanes", "load_s", "max_rss_MiB"]
        print_table("Synthetic map load (fresh process each)", syn, cols)
        write_json(args.json, "roads", [], extra | {"synthetic": syn})
        return 0
    if args.part == "traffic":
        traffic = bench_traffic(args.quick)
        print_table(
            "Traffic real-time factor", traffic, ["map", "vehicles", "sim_s", "wall_s", "rtf", "collisions", "error"]
        )
        write_json(args.json, "roads", [], extra | {"traffic": traffic})
        return 0
    if args.part in ("maps", "all"):
        real = bench_real_maps(args.quick)
        print_table(
            "Real maps: load (ours vs pyxodr), peak memory, route success",
            real,
            ["map", "KiB", "lanes", "load_s", "pyxodr_load_s", "peak_MiB", "routes_ok", "route_success", "warnings"],
        )
        traffic = bench_traffic(args.quick)
        print_table(
            "Traffic real-time factor", traffic, ["map", "vehicles", "sim_s", "wall_s", "rtf", "collisions", "error"]
        )
        extra |= {"real_maps": real, "traffic": traffic}
        if args.part == "maps":
            write_json(args.json, "roads", [], extra)
            return 0
    repeats = 3 if args.quick else 7
    rows = []
    for town in ("Town01", "Town02"):
        path = SHARED / f"{town}.xodr"
        if path.is_file():
            rows.append(bench_map(town, lambda p=path: load_opendrive(p), repeats, brute=not args.quick))
        else:
            print(f"skipping {town}: {path} not found")
    rows.append(bench_map("grid 10x10", lambda: generate_grid(10, 10), repeats, brute=not args.quick))
    cols = [
        "map",
        "lanes",
        "load_cold_s",
        "load_warm_s",
        "memory_MiB",
        "grid_build_s",
        "query_10k_ms",
        "queries_per_s",
        "on_lane_frac",
        "project_onlane_10k_ms",
        "project_onlane_same_lane_frac",
        "project_random_10k_ms",
    ] + (["brute_10k_ms"] if not args.quick else [])
    print_table("Road networks (10 000 point-to-lane queries)", rows, cols)
    write_json(args.json, "roads", rows, extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
