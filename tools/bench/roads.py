"""Road networks: load time and memory of OpenDRIVE towns and a generated city, and point-to-lane query rate.

    python tools/bench/roads.py [--quick] [--json FILE]

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


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; prints a table and optionally writes JSON."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repeats, no brute-force comparison (< 1 min)")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)
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
    write_json(args.json, "roads", rows, {"quick": args.quick, "n_points": N_POINTS})
    return 0


if __name__ == "__main__":
    sys.exit(main())
