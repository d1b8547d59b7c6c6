"""Gymnasium environments over the simcore engine: single (``SimcoreEnv``) and vectorised
(``VectorSimcoreEnv``, many instances in one process). See docs/gym.md."""

from __future__ import annotations

from pathlib import Path

from simcore.gym.config import ObservationConfig, RewardConfig
from simcore.gym.env import SimcoreEnv
from simcore.gym.vector import VectorSimcoreEnv

__all__ = ["ENV_IDS", "ObservationConfig", "RewardConfig", "SimcoreEnv", "VectorSimcoreEnv", "register_envs"]

#: Scenarios shipped for the gym package (light ones, for training and benchmarks).
SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"

#: Registered env id -> scenario (built-in name or file).
ENV_IDS: dict[str, str] = {
    "simcore/Intersection-v0": "signalized_intersection",
    "simcore/CityGrid-v0": "grid_crosstown",
    "simcore/TJunction-v0": "t_junction_left_turn",
    "simcore/SparseIntersection-v0": str(SCENARIO_DIR / "sparse_intersection.yaml"),
}


def register_envs() -> None:
    """Register every id of ``ENV_IDS`` with gymnasium (``gym.make`` and ``gym.make_vec``); idempotent."""
    import gymnasium as gym

    for env_id, scenario in ENV_IDS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point="simcore.gym.env:SimcoreEnv",
            vector_entry_point="simcore.gym.vector:VectorSimcoreEnv",
            kwargs={"scenario": scenario},
        )


register_envs()
