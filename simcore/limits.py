"""Resource limits of the engine, in one place: what is checked before work starts.

Every limit has a default below and can be overridden per process with an environment variable
``SIMCORE_LIMIT_<NAME>`` (upper case, e.g. ``SIMCORE_LIMIT_MAX_ACTORS=50000``), or in code with
``with limits.override(max_actors=50000): ...`` (tests, embedding applications). A limit that is
hit is reported as a located error (scenario files) or an event (agents), never as a crash.
docs/limits.md lists them with the reasons for their defaults.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    """The engine's resource limits (units in the names: ``_s`` seconds, ``_mps2`` m/s^2, ``_rad``).

    Attributes:
        max_actors: actor rows one scenario may build (platoons, cone rows, spawns included).
        max_variants: variants one scenario file may expand to (sweeps x draws), checked by
            ``validate``, ``expand``, ``run`` and ``batch`` alike.
        max_log_rows: rows of one replay log file.
        agent_step_timeout_s: wall-clock seconds an in-process agent's ``act`` may take before
            it counts as hung (the run ends with an ``agent_failure`` event). Generous: a first
            call may compile Numba kernels, which takes tens of seconds on a loaded machine;
            ``--budget`` is the tool for real-time limits (a late answer, not a hang).
        agent_reset_timeout_s: the same for ``reset`` (loading a model may take a while).
        exec_inbox_messages: messages from an out-of-process agent buffered before the engine
            stops reading (the agent's writes then block: back-pressure, not memory growth).
        max_control_accel_mps2: |accel| beyond this is no physically possible request of a road
            vehicle (about 5 g): a ``bad_control`` event, not silent clipping.
        max_control_steer_rad: |steer| beyond this (a road wheel turned past 90 degrees) likewise.
        recorder_rows: trajectory rows the recorder keeps in memory before it drains them to
            its file on disk (memory is flat in simulated time).
        output_rows: most trajectory rows the reports (plots, top-down picture, HTML) read; a
            longer recording is read with an even stride (bounded memory for any duration).
    """

    max_actors: int = 20_000
    max_variants: int = 1_000_000
    max_log_rows: int = 1_000_000
    agent_step_timeout_s: float = 120.0
    agent_reset_timeout_s: float = 600.0
    exec_inbox_messages: int = 64
    max_control_accel_mps2: float = 50.0
    max_control_steer_rad: float = math.pi / 2
    recorder_rows: int = 1024
    output_rows: int = 4000


_DEFAULT = Limits()
_overrides: dict[str, Any] = {}


def _from_env(name: str, default: Any) -> Any:
    raw = os.environ.get(f"SIMCORE_LIMIT_{name.upper()}")
    if raw is None:
        return default
    try:
        value = type(default)(float(raw)) if isinstance(default, int) else float(raw)
    except ValueError:
        raise ValueError(f"SIMCORE_LIMIT_{name.upper()}={raw!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"SIMCORE_LIMIT_{name.upper()}={raw!r} must be a positive finite number")
    return value


def current() -> Limits:
    """The limits in force now: defaults, then environment variables, then ``override``."""
    values = {f.name: _from_env(f.name, getattr(_DEFAULT, f.name)) for f in dataclasses.fields(Limits)}
    values.update(_overrides)
    return Limits(**values)


@contextlib.contextmanager
def override(**values: Any) -> Iterator[Limits]:
    """Change some limits inside a ``with`` block (process-wide; not for concurrent threads)."""
    unknown = set(values) - {f.name for f in dataclasses.fields(Limits)}
    if unknown:
        raise TypeError(f"unknown limit(s): {', '.join(sorted(unknown))}")
    saved = dict(_overrides)
    _overrides.update(values)
    try:
        yield current()
    finally:
        _overrides.clear()
        _overrides.update(saved)
