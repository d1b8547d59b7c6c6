"""IDM car following through the batched driver kernel, against the model's closed forms."""

import math

import numpy as np
import pytest

from simcore.behavior.driver_kernels import idm_accel, lane_off_args, neutral_behavior_args, step_drivers
from simcore.dynamics.kinematic_kernels import step_kinematic
from simcore.runner.engine import limit_run_table

V0 = 20.0  # desired speed (m/s)
S0 = 2.0  # standstill gap (m)
T_HEADWAY = 1.5  # s
A_MAX = 1.5  # m/s^2
B_COMF = 2.0  # m/s^2
DELTA = 4.0
LENGTH, WIDTH, WHEELBASE, REAR_OVERHANG = 4.5, 1.8, 2.7, 0.9
#: Residual of the discrete-time approach to equilibrium after 300 s (m).
ATOL_EQ_GAP_M = 0.05


def equilibrium_gap(v: float) -> float:
    """s*(v) = (s0 + v T) / sqrt(1 - (v/v0)^delta): where IDM's acceleration is zero."""
    return (S0 + v * T_HEADWAY) / math.sqrt(1.0 - (v / V0) ** DELTA)


class Pair:
    """Leader (row 0, scripted acceleration) and IDM follower (row 1) on a straight 10 km road."""

    def __init__(self, gap0: float, v_lead: float, v_follow: float) -> None:
        n = 2
        self.x = np.array([gap0 + LENGTH, 0.0])
        self.y = np.zeros(n)
        self.yaw = np.zeros(n)
        self.speed = np.array([v_lead, v_follow])
        self.steer = np.zeros(n)
        self.accel = np.zeros(n)
        self.active = np.ones(n, dtype=np.bool_)
        self.inst = np.zeros(n, dtype=np.int32)
        self.p = {
            k: np.full(n, v)
            for k, v in dict(
                wheelbase=WHEELBASE,
                length=LENGTH,
                width=WIDTH,
                rear_overhang=REAR_OVERHANG,
                center_offset=LENGTH / 2 - REAR_OVERHANG,
                max_accel=A_MAX,
                max_decel=9.0,
                max_steer=0.6,
                max_steer_rate=1.0,
                max_speed=60.0,
            ).items()
        }
        xs = np.arange(-100.0, 10_000.0, 1.0)
        self.rx = np.concatenate([xs, xs])
        self.ry = np.zeros(2 * xs.size)
        self.rs = np.concatenate([xs + 100.0, xs + 100.0])
        self.rt_start = np.array([0, xs.size, 2 * xs.size], dtype=np.int64)
        self.vlim = np.full(self.rx.size, 30.0)
        self.kappa = np.zeros(self.rx.size)
        self.progress = self.x + 100.0
        self.empty_i = np.zeros(3, dtype=np.int64)
        self.ctrl_a = np.zeros(n)
        self.ctrl_d = np.zeros(n)
        self.gap = np.zeros(n)
        self.close = np.zeros(n)
        self.follower = np.array([1], dtype=np.int64)
        self.both = np.array([0, 1], dtype=np.int64)
        nx, ny = 520, 10  # actor grid of 20 m cells over the road
        self.grid = (
            -200.0,
            -100.0,
            nx,
            ny,
            np.zeros(nx * ny + 1, dtype=np.int64),
            np.zeros(n, dtype=np.int64),
            np.zeros(nx * ny, dtype=np.int64),
            np.zeros(n, dtype=np.int64),
            np.zeros(n, dtype=np.int64),
            np.zeros(1, dtype=np.int64),
        )

    def bumper_gap(self) -> float:
        return float((self.x[0] - REAR_OVERHANG) - (self.x[1] + LENGTH - REAR_OVERHANG))

    def step(self, lead_accel: float, dt: float = 0.05) -> None:
        z = np.zeros(0)
        # fmt: off
        step_drivers(
            self.follower, self.x, self.y, self.yaw, self.speed, self.active, self.inst,
            self.p["wheelbase"], self.p["length"], self.p["width"], self.p["rear_overhang"],
            self.p["center_offset"], self.p["max_accel"], self.p["max_decel"], self.p["max_steer"],
            self.rt_start, self.rx, self.ry, self.rs, self.vlim, self.kappa, self.progress,
            self.empty_i, z, np.zeros(0, dtype=np.int64), np.zeros((1, 0), dtype=np.int8),
            self.empty_i, z, z, np.zeros(0, dtype=np.int64), np.zeros((1, 0), dtype=np.bool_),
            self.empty_i, z, z, np.zeros(0, dtype=np.int64), z,
            np.full(2, V0), np.full(2, T_HEADWAY), np.full(2, S0), np.full(2, B_COMF), np.full(2, DELTA),
            np.full(2, 3.0), np.ones(2), np.zeros(2, dtype=np.bool_),
            *self.grid,
            self.ctrl_a, self.ctrl_d, self.gap, self.close,
            *neutral_behavior_args(2, 0.0, dt),
            limit_run_table(self.rt_start, self.vlim, self.kappa), np.zeros(2), np.zeros(2),
            *lane_off_args(2, self.rx.size),
        )
        # fmt: on
        self.ctrl_a[0] = lead_accel
        self.ctrl_d[0] = 0.0
        step_kinematic(
            self.x,
            self.y,
            self.yaw,
            self.speed,
            self.steer,
            self.accel,
            self.active,
            self.both,
            self.p["wheelbase"],
            self.p["max_steer"],
            self.p["max_steer_rate"],
            self.p["max_accel"],
            self.p["max_decel"],
            self.p["max_speed"],
            self.ctrl_a,
            self.ctrl_d,
            dt,
        )
        self.progress[:] = self.x + 100.0


def test_idm_free_road_and_equilibrium_terms():
    assert idm_accel(0.0, V0, A_MAX, B_COMF, S0, T_HEADWAY, DELTA, math.inf, 0.0) == pytest.approx(A_MAX)
    assert idm_accel(V0, V0, A_MAX, B_COMF, S0, T_HEADWAY, DELTA, math.inf, 0.0) == pytest.approx(0.0)
    for v in (5.0, 10.0, 15.0):
        assert idm_accel(v, V0, A_MAX, B_COMF, S0, T_HEADWAY, DELTA, equilibrium_gap(v), v) == pytest.approx(
            0.0, abs=1e-12
        )


@pytest.mark.parametrize("v_lead", [5.0, 10.0, 15.0])
def test_follower_settles_at_the_equilibrium_gap(v_lead):
    pair = Pair(gap0=60.0, v_lead=v_lead, v_follow=v_lead + 3.0)
    for _ in range(6000):  # 300 s
        pair.step(0.0)
    assert pair.speed[1] == pytest.approx(v_lead, abs=1e-3)
    assert pair.bumper_gap() == pytest.approx(equilibrium_gap(v_lead), abs=ATOL_EQ_GAP_M)


@pytest.mark.parametrize("lead_decel", [2.0, 4.0, 8.0])
def test_follower_of_a_leader_braking_to_stop_keeps_s0(lead_decel):
    v = 15.0
    pair = Pair(gap0=equilibrium_gap(v), v_lead=v, v_follow=v)
    min_gap = math.inf
    for _ in range(1200):
        pair.step(-lead_decel)
        min_gap = min(min_gap, pair.bumper_gap())
    assert pair.speed[1] == pytest.approx(0.0, abs=1e-6)
    assert min_gap >= S0 - 0.01
    assert pair.bumper_gap() == pytest.approx(S0, abs=0.5)
