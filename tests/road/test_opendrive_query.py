"""Grid point-to-lane queries on imported maps against the brute-force projection kernel."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from simcore.road.frenet_kernels import project_points_to_lanes
from simcore.road.lane_query_kernels import project_points_on_grid
from simcore.road.opendrive import load_opendrive
from simcore.road.spatial_index import build_segment_grid

FIXTURE = Path(__file__).parent / "data" / "small_town.xodr"
#: Agreement of lane s and t between the two kernels (m).
QUERY_TOL_M = 1e-9


def test_grid_query_matches_brute_force_projection_inside_lanes():
    net = load_opendrive(FIXTURE)
    mask = net.driving_mask()
    grid = build_segment_grid(net, mask)
    lanes = np.flatnonzero(mask)
    seg_lane = np.concatenate([np.full(net.lane_start[i + 1] - net.lane_start[i] - 1, i) for i in lanes])
    seg_s0 = np.concatenate([net.pts_s[net.lane_start[i] : net.lane_start[i + 1] - 1] for i in lanes])
    rng = np.random.default_rng(7)
    xmin, ymin, xmax, ymax = net.bounds()
    px = rng.uniform(xmin - 5, xmax + 5, 4000)
    py = rng.uniform(ymin - 5, ymax + 5, 4000)
    n = px.size
    lane, s, t, d = np.empty(n, np.int64), np.empty(n), np.empty(n), np.empty(n)
    project_points_on_grid(
        px, py, *grid.args()[:7], grid.ax, grid.ay, grid.bx, grid.by, seg_lane, seg_s0, lane, s, t, d
    )
    ref_lane, ref_s, ref_t, ref_h = np.empty(n, np.int64), np.empty(n), np.empty(n), np.empty(n)
    project_points_to_lanes(
        px,
        py,
        np.zeros(n),
        0.0,
        mask,
        net.lane_start,
        net.pts_x,
        net.pts_y,
        net.pts_s,
        net.pts_heading,
        ref_lane,
        ref_s,
        ref_t,
        ref_h,
    )
    # Inside some lane's capsule the grid must find the same nearest distance as brute force.
    inside = np.abs(ref_t) <= net.lane_width[np.maximum(ref_lane, 0)] / 2
    assert inside.sum() > 100
    assert np.all(lane[inside] >= 0)
    assert np.allclose(d[inside], np.abs(ref_t[inside]), atol=QUERY_TOL_M)
    same = inside & (lane == ref_lane)
    assert np.allclose(s[same], ref_s[same], atol=QUERY_TOL_M)
    assert np.allclose(t[same], ref_t[same], atol=QUERY_TOL_M)
    # Far from every lane: no lane.
    far = np.abs(ref_t) > grid.half_width.max() + grid.cell_size * 2
    assert np.all(lane[far] == -1)
