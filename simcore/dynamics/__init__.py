"""Vehicle and pedestrian motion models (Numba kernels) and vehicle parameters."""

from __future__ import annotations

from typing import Any

__all__ = ["STATE_LAYOUTS", "rollout"]


def __getattr__(name: str) -> Any:
    # Lazy, so that importing simcore.dynamics.params (from simcore.scenario) does not import the rollout.
    if name in __all__:
        import simcore.dynamics.rollouts as _r

        return getattr(_r, name)
    raise AttributeError(name)
