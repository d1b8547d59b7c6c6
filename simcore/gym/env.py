"""``SimcoreEnv``: one scenario instance as a gymnasium environment, the ego under the policy's control."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from simcore._data import resolve_scenario
from simcore.gym import batch_kernels as bk
from simcore.gym.batch import END_STORY, InstanceBatch
from simcore.gym.config import (
    TERM_NAMES,
    ObservationConfig,
    RewardConfig,
    observation_config,
    reward_config,
)
from simcore.gym.observe import Observer
from simcore.scenario.build import build_world
from simcore.scenario.loader import load_scenario
from simcore.world import World

#: ``info["termination"]`` text per end code.
END_NAMES = {
    bk.END_NONE: "",
    bk.END_COLLISION: "collision",
    bk.END_OFFROAD: "offroad",
    bk.END_GOAL: "goal_reached",
    bk.END_TIMEOUT: "timeout",
    END_STORY: "storyboard",
}
#: Colours (RGB) of the raster channels in ``render()``, painted in this order.
_PALETTE = (
    (0, (90, 90, 90)),
    (1, (200, 200, 200)),
    (2, (60, 160, 255)),
    (5, (230, 40, 40)),
    (3, (250, 200, 40)),
    (4, (60, 220, 90)),
)


def load_world(
    scenario: str | os.PathLike[str] | World, seed: int | None, variant: int, overrides: Mapping[str, Any] | None
) -> World:
    """Build the scenario (a path, a built-in name, or an already built single-instance World)."""
    if isinstance(scenario, World):
        return scenario
    loaded = load_scenario(resolve_scenario(str(scenario)), seed=seed, overrides=dict(overrides or {}), variant=variant)
    return build_world(loaded)


class ActionMap:
    """The action space and its mapping to ego targets (acceleration m/s^2, road-wheel angle rad).

    ``normalize=True``: Box([-1, 1]^2); accel = a * max_accel for a >= 0 and a * max_decel
    for a < 0, steer = s * max_steer (the ego vehicle's limits). ``normalize=False``: the box
    is [-max_decel, max_accel] x [-max_steer, max_steer] in physical units. Actions are
    clipped to the box; a non-finite action brakes at max_decel with the wheel held.
    """

    def __init__(self, world: World, normalize: bool) -> None:
        e = world.ego
        p = world.params
        self.max_accel = float(p["max_accel"][e])
        self.max_decel = float(p["max_decel"][e])
        self.max_steer = float(p["max_steer"][e])
        self.normalize = normalize
        if normalize:
            self.space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        else:
            low = np.array([-self.max_decel, -self.max_steer], np.float32)
            high = np.array([self.max_accel, self.max_steer], np.float32)
            self.space = spaces.Box(low, high, (2,), np.float32)
        self._low = self.space.low.astype(np.float64)
        self._high = self.space.high.astype(np.float64)

    def configure(self, batch: InstanceBatch) -> None:
        """Let ``batch.run`` map actions in ``batch.act`` this way (``batch_kernels.map_action``)."""
        batch.ctl[bk.C_MODE] = bk.MODE_NORMALIZED if self.normalize else bk.MODE_BOX
        p = batch.par
        p[bk.P_LO_ACCEL], p[bk.P_LO_STEER] = self._low
        p[bk.P_HI_ACCEL], p[bk.P_HI_STEER] = self._high
        p[bk.P_MAX_ACCEL], p[bk.P_MAX_DECEL], p[bk.P_MAX_STEER] = self.max_accel, self.max_decel, self.max_steer

    def physical(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 2) actions -> (N,) acceleration (m/s^2) and (N,) steering (rad) targets."""
        a = np.asarray(actions, dtype=np.float64).reshape(-1, 2)
        # np.clip's values, NaN kept (the kernel brakes), without its wrapper's cost (~20 us a step)
        a = np.minimum(np.maximum(a, self._low), self._high)
        if not self.normalize:
            return np.ascontiguousarray(a[:, 0]), np.ascontiguousarray(a[:, 1])
        acc = np.where(a[:, 0] >= 0, a[:, 0] * self.max_accel, a[:, 0] * self.max_decel)
        acc[np.isnan(a[:, 0])] = math.nan
        return acc, a[:, 1] * self.max_steer


def speed_factors(batch: InstanceBatch, rng: np.random.Generator, jitter: float) -> np.ndarray:
    """Drivers' speed factors for a new episode: base x (1 + jitter x U(-1, 1)) for every NPC vehicle
    (one draw per NPC row, in row order; no draw when ``jitter`` is 0)."""
    sf = batch.speed_factor0.copy()
    if jitter > 0 and len(batch.drive_idx):
        u = rng.uniform(-1.0, 1.0, size=len(batch.drive_idx))
        sf[batch.drive_idx] *= 1.0 + jitter * u
    return sf


def attach(
    batch: InstanceBatch, actions: ActionMap, reward: RewardConfig, max_steps: int, observer: Observer, autoreset: bool
) -> None:
    """Set the batch's compiled step up for an env: action mapping, reward weights and end conditions,
    truncation, NEXT_STEP autoreset, and the object-list observation filled inside the step."""
    actions.configure(batch)
    batch.weights[:] = reward.weights()
    batch.terminate[:] = reward.terminate()
    batch.ctl[bk.C_MAX_STEPS] = max_steps
    batch.ctl[bk.C_AUTORESET] = int(autoreset)
    batch.ctl[bk.C_OBSERVE] = int("objects" in observer.bufs)
    batch.set_obs_tables(observer.tables(batch.threads))


def colorize(raster: np.ndarray, scale: int = 1) -> np.ndarray:
    """(C, H, W) uint8 raster -> (H * scale, W * scale, 3) uint8 picture (``_PALETTE`` colours)."""
    h, w = raster.shape[1:]
    img = np.full((h, w, 3), 30, np.uint8)
    for ch, rgb in _PALETTE:
        img[raster[ch] > 0] = rgb
    if scale > 1:
        img = np.repeat(np.repeat(img, scale, axis=0), scale, axis=1)
    return img


class SimcoreEnv(gym.Env):
    """A simcore scenario with the ego driven by the policy; NPCs, walkers and signals by the engine.

    Args:
        scenario: scenario file, built-in name (e.g. "signalized_intersection") or a built World.
        seed, variant, overrides: scenario parameters (``simcore.api.load_scenario``); fixed for
            the env's life. ``reset(seed=...)`` seeds the per-episode randomisation.
        observation: "objects", "bev", "lidar" or a sequence of them (docs/gym.md).
        obs_config: an ObservationConfig or a mapping of its fields (sizes, ranges).
        reward: a RewardConfig or a mapping of its fields (weights, end conditions).
        normalize_actions: actions in [-1, 1] (default) or in physical units (``ActionMap``).
        max_episode_steps: truncation after this many steps (default: the scenario's timeout / dt).
        npc_speed_jitter: each episode, every NPC's speed factor is scaled by 1 + jitter * U(-1, 1).
        render_mode: None or "rgb_array".
        evaluation: "light" (default: skip the engine's score-only evaluation, same results for
            everything the env reports) or "full" (``batch.metrics`` as ``simcore run`` keeps it).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 20}  # type: ignore[misc]

    def __init__(
        self,
        scenario: str | os.PathLike[str] | World = "signalized_intersection",
        *,
        seed: int | None = None,
        variant: int = 0,
        overrides: Mapping[str, Any] | None = None,
        observation: str | Sequence[str] = "objects",
        obs_config: ObservationConfig | Mapping[str, Any] | None = None,
        reward: RewardConfig | Mapping[str, Any] | None = None,
        normalize_actions: bool = True,
        max_episode_steps: int | None = None,
        npc_speed_jitter: float = 0.1,
        render_mode: str | None = None,
        evaluation: str = "light",
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if not (math.isfinite(npc_speed_jitter) and 0.0 <= npc_speed_jitter < 1.0):
            raise ValueError(f"npc_speed_jitter must be in [0, 1), got {npc_speed_jitter}")
        world = load_world(scenario, seed, variant, overrides)
        self.world = world
        self.batch = InstanceBatch(world, 1, evaluation=evaluation)
        self.obs_cfg = observation_config(observation, obs_config)
        self.reward_cfg = reward_config(reward)
        self._weights = self.reward_cfg.weights()
        self._terminate = self.reward_cfg.terminate()
        self.observer = Observer(self.batch, self.obs_cfg)
        self.actions = ActionMap(world, normalize_actions)
        self.observation_space = self.observer.space
        self.action_space = self.actions.space
        self.max_steps = int(max_episode_steps or math.ceil(world.timeout / world.dt - 1e-9))
        if self.max_steps < 1:
            raise ValueError(f"max_episode_steps must be >= 1, got {max_episode_steps}")
        self.npc_speed_jitter = float(npc_speed_jitter)
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": round(1.0 / world.dt)}  # type: ignore[misc]
        attach(self.batch, self.actions, self.reward_cfg, self.max_steps, self.observer, autoreset=False)
        self._act = self.batch.act[0]
        st = self.batch.state
        self._step_count, self._progress, self._speed = st.step, st.progress[0], st.speed[0]
        self._render_buf: np.ndarray | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Back to t = 0 with freshly drawn NPC speed factors; returns (observation, info)."""
        super().reset(seed=seed)
        self.batch.reset_instance(0, speed_factors(self.batch, self.np_random, self.npc_speed_jitter))
        self.observer.compute()
        return self.observer.single(0), self._info(False)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Apply ``action`` for one step of dt; returns (obs, reward, terminated, truncated, info)."""
        a = np.asarray(action)
        if a.size != 2:
            raise ValueError(f"expected an action of shape (2,), got {a.shape}")
        self._act[:] = a if a.ndim == 1 else a.reshape(2)
        b = self.batch
        b.run()  # action mapping, engine step, reward, end flags, object-list observation: one compiled call
        if self.observer.images:
            self.observer.compute_images()
        obs = self.observer.single(0)
        return obs, float(b.reward[0]), bool(b.terminated[0]), bool(b.truncated[0]), self._info(True)

    def _info(self, stepped: bool) -> dict[str, Any]:
        b = self.batch
        e = b.ego
        step = int(self._step_count[0])
        info: dict[str, Any] = {
            "time": step * self.world.dt,
            "step": step,
            "progress_m": float(self._progress[e]),
            "speed_mps": float(self._speed[e]),
            "termination": END_NAMES[int(b.end[0])] if stepped else "",
        }
        if stepped:
            info["reward_terms"] = dict(zip(TERM_NAMES, (self._weights * b.terms[0]).tolist(), strict=True))
        return info

    def render(self) -> np.ndarray | None:
        """Top-down picture around the ego (rgb_array, 384 x 384: a 128 x 128 raster at 0.5 m, 3x)."""
        if self.render_mode != "rgb_array":
            return None
        if self._render_buf is None:
            self._render_buf = np.zeros((1, 6, 128, 128), np.uint8)
        self.observer.raster(self._render_buf, 0.5, 0.6)
        return colorize(self._render_buf[0], 3)
