"""``VectorSimcoreEnv``: N scenario instances in one process, one compiled call per step (gymnasium VectorEnv)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from simcore.gym import batch_kernels as bk
from simcore.gym.batch import InstanceBatch
from simcore.gym.config import ObservationConfig, RewardConfig, observation_config, reward_config
from simcore.gym.env import ActionMap, attach, colorize, load_world, speed_factors
from simcore.gym.observe import Observer
from simcore.world import World


class VectorSimcoreEnv(VectorEnv):
    """``num_envs`` copies of one scenario stepped together; instance j behaves exactly like a
    ``SimcoreEnv`` reset with seed ``seed + j`` (same observations and rewards, bit for bit).

    Autoreset (gymnasium's NEXT_STEP mode): after an instance terminates or truncates, the
    next ``step`` resets it (its action is ignored) and returns its first observation with
    reward 0 and both flags False. Arguments as ``SimcoreEnv``; ``copy``: return copies of the
    observation buffers (default) or the buffers themselves, overwritten by the next step;
    ``threads``: step contiguous ranges of instances on this many threads (same results).
    """

    metadata: ClassVar[dict[str, Any]] = {  # type: ignore[misc]
        "autoreset_mode": AutoresetMode.NEXT_STEP,
        "render_modes": ["rgb_array"],
        "render_fps": 20,
    }

    def __init__(
        self,
        scenario: str | os.PathLike[str] | World = "signalized_intersection",
        num_envs: int = 1,
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
        copy: bool = True,
        threads: int = 1,
    ) -> None:
        if render_mode is not None and render_mode != "rgb_array":
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if not (math.isfinite(npc_speed_jitter) and 0.0 <= npc_speed_jitter < 1.0):
            raise ValueError(f"npc_speed_jitter must be in [0, 1), got {npc_speed_jitter}")
        world = load_world(scenario, seed, variant, overrides)
        self.world = world
        self.num_envs = int(num_envs)
        self.batch = InstanceBatch(world, self.num_envs, threads=threads, evaluation=evaluation)
        self.obs_cfg = observation_config(observation, obs_config)
        self.reward_cfg = reward_config(reward)
        self._weights = self.reward_cfg.weights()
        self._terminate = self.reward_cfg.terminate()
        self.observer = Observer(self.batch, self.obs_cfg)
        self.actions = ActionMap(world, normalize_actions)
        self.single_observation_space = self.observer.space
        self.single_action_space = self.actions.space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.max_steps = int(max_episode_steps or math.ceil(world.timeout / world.dt - 1e-9))
        if self.max_steps < 1:
            raise ValueError(f"max_episode_steps must be >= 1, got {max_episode_steps}")
        self.npc_speed_jitter = float(npc_speed_jitter)
        self.render_mode = render_mode
        self.copy = copy
        self.metadata = {**self.metadata, "render_fps": round(1.0 / world.dt)}  # type: ignore[misc]
        self._rngs = [seeding.np_random()[0] for _ in range(self.num_envs)]
        attach(self.batch, self.actions, self.reward_cfg, self.max_steps, self.observer, autoreset=True)
        self._n_ended = 0  # instances that ended on the last step (reset on the next)
        self._every = np.ones(self.num_envs, dtype=np.bool_)
        self._every.flags.writeable = False
        self._progress = self.batch.state.progress[:, self.batch.ego]  # a view of the ego column
        self._render_buf: np.ndarray | None = None

    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset every instance. ``seed``: int s seeds instance j with s + j; a list gives one seed
        (or None) per instance; None draws fresh seeds."""
        if seed is None:
            seeds: list[int | None] = [None] * self.num_envs
        elif isinstance(seed, int | np.integer):
            seeds = [int(seed) + j for j in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"expected {self.num_envs} seeds, got {len(seeds)}")
        super().reset(seed=seeds[0] if isinstance(seed, int | np.integer) else None)
        b = self.batch
        sf = b.sf_next
        for j, s in enumerate(seeds):
            self._rngs[j] = seeding.np_random(s)[0]
            sf[j] = speed_factors(b, self._rngs[j], self.npc_speed_jitter)
        b.reset_instances(np.ones(self.num_envs, dtype=np.bool_), sf)
        b.todo[:] = bk.TODO_STEP
        self._n_ended = 0
        self.observer.compute()
        return self.observer.batched(self.copy), self._info(np.zeros(self.num_envs, dtype=np.int64))

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every instance (autoresetting those that ended on the previous step): one compiled call
        (``batch_kernels.gym_step``) maps the actions, resets, steps, scores and observes every instance."""
        b = self.batch
        a = np.asarray(actions)
        if a.size != 2 * self.num_envs:
            raise ValueError(f"expected actions of shape ({self.num_envs}, 2), got {a.shape}")
        b.act[:] = a.reshape(self.num_envs, 2)
        if self._n_ended:  # new speed factors for the instances this step resets (todo: TODO_RESET)
            for j in np.flatnonzero(b.todo == bk.TODO_RESET):
                b.sf_next[j] = speed_factors(b, self._rngs[j], self.npc_speed_jitter)
        self._n_ended = b.run()
        if self.observer.images:
            self.observer.compute_images()
        obs = self.observer.batched(self.copy)
        return obs, b.reward.copy(), b.terminated.copy(), b.truncated.copy(), self._info(b.end)

    def _info(self, end: np.ndarray) -> dict[str, Any]:
        b = self.batch
        every = self._every
        return {
            "step": b.state.step.copy(),
            "progress_m": self._progress.copy(),
            "end_code": end.copy(),
            "_step": every,
            "_progress_m": every,
            "_end_code": every,
        }

    def close_extras(self, **kwargs: Any) -> None:
        """Stop the worker threads."""
        self.batch.close()

    def render(self) -> np.ndarray | None:  # type: ignore[override]
        """Top-down picture of instance 0 (as ``SimcoreEnv.render``)."""
        if self.render_mode != "rgb_array":
            return None
        if self._render_buf is None:
            self._render_buf = np.zeros((1, 6, 128, 128), np.uint8)
        self.observer.raster(self._render_buf, 0.5, 0.6)
        return colorize(self._render_buf[0], 3)
