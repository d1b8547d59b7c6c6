"""Configuration of the gym environments: reward terms, end conditions, observations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from simcore.gym import batch_kernels as bk

#: Observation modes and what each adds to the observation (docs/gym.md).
OBSERVATION_MODES = ("objects", "bev", "lidar")


@dataclass(frozen=True)
class RewardConfig:
    """Reward = sum of weight x quantity over the terms below, every step (signs are the weights').

    Attributes:
        progress: per metre of route progress of the ego this step (m; negative when reversing).
        collision: per collision onset involving the ego this step (count).
        offroad: per step that ends with the ego off the drivable area (0 / 1).
        red_light: per stop line crossed by the ego's front bumper while RED (count).
        speeding: per metre driven above the speed limit: max(0, v - v_limit) * dt (m).
        jerk: per unit of |a_t - a_{t-1}| (m/s^2), i.e. |jerk| * dt.
        goal: once, on the step the ego reaches its goal (0 / 1).
        time: per second of simulated time (s), e.g. a small negative value to hurry.
        terminate_on_collision, terminate_on_offroad, terminate_on_goal: end the episode
            (``terminated``) on the ego's collision / off-road step / goal.
    """

    progress: float = 0.1
    collision: float = -10.0
    offroad: float = -1.0
    red_light: float = -5.0
    speeding: float = -0.5
    jerk: float = -0.02
    goal: float = 10.0
    time: float = 0.0
    terminate_on_collision: bool = True
    terminate_on_offroad: bool = True
    terminate_on_goal: bool = True

    def weights(self) -> np.ndarray:
        """(N_TERMS,) weights in the kernel's term order."""
        w = np.zeros(bk.N_TERMS)
        w[bk.T_PROGRESS] = self.progress
        w[bk.T_COLLISION] = self.collision
        w[bk.T_OFFROAD] = self.offroad
        w[bk.T_RED_LIGHT] = self.red_light
        w[bk.T_SPEEDING] = self.speeding
        w[bk.T_JERK] = self.jerk
        w[bk.T_GOAL] = self.goal
        w[bk.T_TIME] = self.time
        if not np.all(np.isfinite(w)):
            raise ValueError(f"reward weights must be finite, got {self}")
        return w

    def terminate(self) -> np.ndarray:
        """(3,) bool: terminate on collision, off-road, goal."""
        return np.array([self.terminate_on_collision, self.terminate_on_offroad, self.terminate_on_goal])


#: Names of the reward terms, in kernel order (keys of ``info["reward_terms"]``).
TERM_NAMES = ("progress", "collision", "offroad", "red_light", "speeding", "jerk", "goal", "time")


@dataclass(frozen=True)
class ObservationConfig:
    """What the observation holds and its sizes.

    Attributes:
        modes: any of "objects", "bev", "lidar" (see docs/gym.md).
        objects: K, entries of the object list. object_range_m: actors farther are left out (m).
        route_points: P look-ahead points on the ego's route, ``route_spacing_m`` apart (m).
        bev_size: (H, W) pixels. bev_resolution_m: m per pixel. bev_ego_row: the ego's row as
            a fraction of H (0.75: three quarters of the view lies ahead).
        lidar_beams: B beams over 360 degrees. lidar_range_m: maximum range (m).
        lidar_edge_step_m: march step of the road-edge test (m).
    """

    modes: tuple[str, ...] = ("objects",)
    objects: int = 8
    object_range_m: float = 60.0
    route_points: int = 10
    route_spacing_m: float = 5.0
    bev_size: tuple[int, int] = (64, 64)
    bev_resolution_m: float = 0.5
    bev_ego_row: float = 0.75
    lidar_beams: int = 64
    lidar_range_m: float = 50.0
    lidar_edge_step_m: float = 0.5

    def __post_init__(self) -> None:
        bad = [m for m in self.modes if m not in OBSERVATION_MODES]
        if bad or not self.modes or len(set(self.modes)) != len(self.modes):
            raise ValueError(f"observation modes must be distinct names from {OBSERVATION_MODES}, got {self.modes}")
        for name in ("objects", "route_points", "lidar_beams"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"observation {name} must be >= 1, got {getattr(self, name)}")
        for name in ("object_range_m", "route_spacing_m", "bev_resolution_m", "lidar_range_m", "lidar_edge_step_m"):
            v = float(getattr(self, name))
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"observation {name} must be a positive number (m), got {v}")
        if len(self.bev_size) != 2 or min(self.bev_size) < 1:
            raise ValueError(f"observation bev_size must be (H, W) >= 1, got {self.bev_size}")
        if not 0.0 <= self.bev_ego_row <= 1.0:
            raise ValueError(f"observation bev_ego_row must be in [0, 1], got {self.bev_ego_row}")


def observation_config(observation: str | Sequence[str], extra: ObservationConfig | Mapping[str, Any] | None):
    """An ObservationConfig from the env's ``observation`` argument and optional settings."""
    modes = (observation,) if isinstance(observation, str) else tuple(observation)
    if extra is None:
        return ObservationConfig(modes=modes)
    if isinstance(extra, ObservationConfig):
        return replace(extra, modes=modes)
    known = {f.name for f in fields(ObservationConfig)} - {"modes"}
    unknown = sorted(set(extra) - known)
    if unknown:
        raise ValueError(f"unknown observation setting(s) {unknown}; expected some of {sorted(known)}")
    return ObservationConfig(modes=modes, **dict(extra))


def reward_config(reward: RewardConfig | Mapping[str, Any] | None) -> RewardConfig:
    """A RewardConfig from a RewardConfig, a mapping of its fields, or None (defaults)."""
    if reward is None:
        return RewardConfig()
    if isinstance(reward, RewardConfig):
        return reward
    known = {f.name for f in fields(RewardConfig)}
    unknown = sorted(set(reward) - known)
    if unknown:
        raise ValueError(f"unknown reward setting(s) {unknown}; expected some of {sorted(known)}")
    return RewardConfig(**dict(reward))
