"""Observation spaces and buffers of a batch: one compiled call per mode fills every instance."""

from __future__ import annotations

import math

import numpy as np
from gymnasium import spaces

from simcore._types import LaneType
from simcore.gym import obs_kernels as ok
from simcore.gym.batch import InstanceBatch
from simcore.gym.config import ObservationConfig
from simcore.gym.core import ObsTables, no_obs_tables

#: Bounds of the object-list columns (dx, dy: +-range; dyaw; speed m/s; length, width m; kind).
_SPEED_MAX = 100.0
#: Bounds of the ego features (see obs_kernels.ego_obs), upper bound of the stop distance.
STOP_DIST_MAX_M = 200.0


def _object_limits(obj_range: float) -> np.ndarray:
    lim = np.zeros((ok.N_OBJ_FEATURES, 2))
    lim[ok.OBJ_DX] = (-obj_range, obj_range)
    lim[ok.OBJ_DY] = (-obj_range, obj_range)
    lim[ok.OBJ_DYAW] = (-math.pi, math.pi)
    lim[ok.OBJ_SPEED] = (0.0, _SPEED_MAX)
    lim[ok.OBJ_LENGTH] = (0.0, 30.0)
    lim[ok.OBJ_WIDTH] = (0.0, 10.0)
    lim[ok.OBJ_KIND] = (0.0, 10.0)
    return lim


def _ego_limits(route_len: float) -> np.ndarray:
    lim = np.zeros((ok.N_EGO_FEATURES, 2))
    lim[ok.EGO_SPEED] = (0.0, _SPEED_MAX)
    lim[ok.EGO_ACCEL] = (-20.0, 20.0)
    lim[ok.EGO_STEER] = (-1.5, 1.5)
    lim[ok.EGO_SPEED_LIMIT] = (0.0, _SPEED_MAX)
    lim[ok.EGO_LATERAL] = (-50.0, 50.0)
    lim[ok.EGO_HEADING_ERROR] = (-math.pi, math.pi)
    lim[ok.EGO_GOAL_DIST] = (-route_len, route_len)
    lim[ok.EGO_STOP_DIST] = (0.0, STOP_DIST_MAX_M)
    lim[ok.EGO_STOP_RED] = (0.0, 1.0)
    return lim


def _box(lim: np.ndarray, shape: tuple[int, ...]) -> spaces.Box:
    """A float32 Box whose last axis has per-column bounds ``lim`` (columns, 2)."""
    low = np.broadcast_to(lim[:, 0].astype(np.float32), shape).copy()
    high = np.broadcast_to(lim[:, 1].astype(np.float32), shape).copy()
    return spaces.Box(low, high, shape, np.float32)


class Observer:
    """Observation buffers (N, ...) for a batch and the single-instance observation space.

    Single mode "bev" or "lidar" observes a Box; any other choice a Dict with the keys of
    every mode: "objects" adds "ego", "route", "objects", "objects_mask"; "bev" adds "bev";
    "lidar" adds "lidar".
    """

    def __init__(self, batch: InstanceBatch, cfg: ObservationConfig) -> None:
        self.batch = b = batch
        self.cfg = cfg
        w = b.world
        n = b.n
        e = b.ego
        route_len = w.routes.length(e) + 1.0
        self.lim_obj = _object_limits(cfg.object_range_m)
        self.lim_ego = _ego_limits(route_len)
        reach = cfg.route_spacing_m * cfg.route_points + route_len
        self.lim_route = np.array([-reach, reach])
        self.bufs: dict[str, np.ndarray] = {}
        sp: dict[str, spaces.Space] = {}
        if "objects" in cfg.modes:
            k, p = cfg.objects, cfg.route_points
            self.bufs["ego"] = np.zeros((n, ok.N_EGO_FEATURES), np.float32)
            self.bufs["route"] = np.zeros((n, p, 2), np.float32)
            self.bufs["objects"] = np.zeros((n, k, ok.N_OBJ_FEATURES), np.float32)
            self.bufs["objects_mask"] = np.zeros((n, k), np.int8)
            sp["ego"] = _box(self.lim_ego, (ok.N_EGO_FEATURES,))
            sp["route"] = spaces.Box(-reach, reach, (p, 2), np.float32)
            sp["objects"] = _box(self.lim_obj, (k, ok.N_OBJ_FEATURES))
            sp["objects_mask"] = spaces.MultiBinary(k)
            self._sel_d = np.zeros(k)
            self._sel_i = np.zeros(k, dtype=np.int64)
        if "bev" in cfg.modes:
            h, wd = cfg.bev_size
            self.bufs["bev"] = np.zeros((n, ok.N_BEV_CHANNELS, h, wd), np.uint8)
            sp["bev"] = spaces.Box(0, 255, (ok.N_BEV_CHANNELS, h, wd), np.uint8)
        if "lidar" in cfg.modes:
            self.bufs["lidar"] = np.zeros((n, cfg.lidar_beams), np.float32)
            sp["lidar"] = spaces.Box(0.0, cfg.lidar_range_m, (cfg.lidar_beams,), np.float32)
        self.single_key = cfg.modes[0] if cfg.modes in (("bev",), ("lidar",)) else None
        #: True: "bev" or "lidar" buffers to fill after each step (outside ``gym_step``)
        self.images = "bev" in self.bufs or "lidar" in self.bufs
        self.space: spaces.Space = sp[self.single_key] if self.single_key else spaces.Dict(sp)
        net = w.network
        self._lane_driving = np.ascontiguousarray(net.lane_type == LaneType.DRIVING)
        self._front = float(w.params["length"][e] - w.params["rear_overhang"][e])

    def tables(self, threads: int = 1) -> ObsTables:
        """What ``batch_kernels.gym_step`` needs to fill the "objects" buffers itself (scratch rows for
        ``threads`` threads); tables with nothing to fill without that mode."""
        if "objects" not in self.bufs:
            return no_obs_tables()
        cfg, rt = self.cfg, self.batch.world.routes
        k = cfg.objects
        c = np.ascontiguousarray
        return ObsTables(
            float(cfg.object_range_m), self.lim_obj, self.bufs["objects"], self.bufs["objects_mask"],
            np.zeros((threads, k)), np.zeros((threads, k), dtype=np.int64),
            c(rt.start, np.int64), c(rt.x, np.float64), c(rt.y, np.float64), c(rt.s, np.float64),
            c(rt.speed_limit, np.float64), c(rt.stop_start, np.int64), c(rt.stop_s, np.float64),
            c(rt.stop_signal, np.int64), c(rt.goal_s, np.float64), self._front, float(cfg.route_spacing_m),
            self.lim_ego, self.lim_route, self.bufs["ego"], self.bufs["route"],
        )  # fmt: skip

    def compute(self) -> None:
        """Fill every buffer for every instance from the batch's current state."""
        self.compute_objects()
        self.compute_images()

    def compute_objects(self) -> None:
        """Fill the "objects" mode's buffers (object list, ego features, route points) of every instance."""
        b = self.batch
        w = b.world
        cfg = self.cfg
        x, y, yaw = b.field("x"), b.field("y"), b.field("yaw")
        active = b.field("active")
        length, width, co = b.vp[1], b.vp[2], b.vp[4]
        e = b.ego
        rt = w.routes
        if "objects" in self.bufs:
            ok.object_obs(
                e,
                x,
                y,
                yaw,
                b.field("speed"),
                active,
                b.kind,
                length,
                width,
                co,
                float(cfg.object_range_m),
                self.lim_obj,
                self.bufs["objects"],
                self.bufs["objects_mask"],
                self._sel_d,
                self._sel_i,
            )
            ok.ego_obs(
                e,
                x,
                y,
                yaw,
                b.field("speed"),
                b.field("accel"),
                b.field("steer"),
                b.field("progress"),
                b.field("lateral"),
                b.sig_state,
                rt.start,
                rt.x,
                rt.y,
                rt.s,
                rt.speed_limit,
                rt.stop_start,
                rt.stop_s,
                rt.stop_signal,
                rt.goal_s,
                self._front,
                float(cfg.route_spacing_m),
                self.lim_ego,
                self.lim_route,
                self.bufs["ego"],
                self.bufs["route"],
            )

    def compute_images(self) -> None:
        """Fill the "bev" and "lidar" buffers of every instance (whichever the config has)."""
        b = self.batch
        cfg = self.cfg
        if "bev" in self.bufs:
            self.raster(self.bufs["bev"], cfg.bev_resolution_m, cfg.bev_ego_row)
        if "lidar" in self.bufs:
            e = b.ego
            x, y, yaw = b.field("x"), b.field("y"), b.field("yaw")
            length, width, co = b.vp[1], b.vp[2], b.vp[4]
            active = b.field("active")
            net = b.world.network
            ok.lidar_obs(  # type: ignore[call-arg]
                e,
                x,
                y,
                yaw,
                active,
                length,
                width,
                co,
                net.obj_start,
                net.obj_x,
                net.obj_y,
                *b.grid,
                float(cfg.lidar_range_m),
                float(cfg.lidar_edge_step_m),
                self.bufs["lidar"],
            )

    def raster(self, out: np.ndarray, resolution: float, ego_row: float) -> None:
        """Bird's-eye raster of every instance into ``out`` (N, N_BEV_CHANNELS, H, W)."""
        b = self.batch
        net = b.world.network
        rt = b.world.routes
        ok.bev_obs(  # type: ignore[call-arg]
            b.ego,
            b.field("x"),
            b.field("y"),
            b.field("yaw"),
            b.field("active"),
            b.vp[1],
            b.vp[2],
            b.vp[4],
            b.sig_state,
            b.field("progress"),
            rt.start,
            rt.x,
            rt.y,
            rt.s,
            net.lane_start,
            net.pts_x,
            net.pts_y,
            net.pts_s,
            net.pts_heading,
            net.lane_width,
            self._lane_driving,
            net.lane_stop_s,
            net.lane_signal,
            *b.grid,
            float(resolution),
            float(ego_row),
            out,
        )

    def single(self, j: int) -> np.ndarray | dict[str, np.ndarray]:
        """Observation of instance ``j`` (copies)."""
        if self.single_key:
            return self.bufs[self.single_key][j].copy()
        return {k: v[j].copy() for k, v in self.bufs.items()}

    def batched(self, copy: bool = True) -> np.ndarray | dict[str, np.ndarray]:
        """Observations of all instances, (N, ...) per key (copies unless ``copy`` is False)."""
        if self.single_key:
            a = self.bufs[self.single_key]
            return a.copy() if copy else a
        return {k: (v.copy() if copy else v) for k, v in self.bufs.items()}
