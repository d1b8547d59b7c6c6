"""The object-list observation's tables handed to the compiled gym step (``batch_kernels.gym_step``)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class ObsTables(NamedTuple):
    """What the object-list observation ("objects" mode: ``obs_kernels.object_obs`` and ``ego_obs``) reads and
    fills inside ``gym_step``; built by ``observe.Observer.tables`` (zero-size arrays when not observed)."""

    obj_range: float
    lim_obj: np.ndarray
    objects: np.ndarray  # (N, K, N_OBJ_FEATURES) float32
    mask: np.ndarray  # (N, K) int8
    sel_d: np.ndarray  # (threads, K) scratch
    sel_i: np.ndarray
    rt_start: np.ndarray
    rx: np.ndarray
    ry: np.ndarray
    rs: np.ndarray
    rvlim: np.ndarray
    st_start: np.ndarray
    stop_s: np.ndarray
    stop_sig: np.ndarray
    goal_s: np.ndarray
    front: float
    spacing: float
    lim_ego: np.ndarray
    lim_route: np.ndarray
    ego: np.ndarray  # (N, N_EGO_FEATURES) float32
    route: np.ndarray  # (N, P, 2) float32


def no_obs_tables() -> ObsTables:
    """ObsTables of the same types as an observing one, with nothing to fill."""
    f32, f64, i64 = np.float32, np.float64, np.int64
    e1, e2 = np.zeros(0, f64), np.zeros((0, 2), f64)
    return ObsTables(
        0.0, e2, np.zeros((0, 0, 0), f32), np.zeros((0, 0), np.int8), np.zeros((0, 0), f64), np.zeros((0, 0), i64),
        np.zeros(0, i64), e1, e1, e1, e1, np.zeros(0, i64), e1, np.zeros(0, i64), e1, 0.0, 0.0, e2, e1,
        np.zeros((0, 0), f32), np.zeros((0, 0, 2), f32),
    )  # fmt: skip
