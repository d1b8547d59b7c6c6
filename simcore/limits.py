"""Resource limits, in one place: what is checked before work starts.

Two groups: ``Limits`` (the engine: actors, variants, logs, agents, controls, recorder, sensors)
and ``MapLimits`` (loading road maps; read by ``simcore.road``, which imports this module: it sits
in the bottom layer, so every package may). Every limit has a default below and can be overridden
per process with an environment variable ``SIMCORE_LIMIT_<NAME>`` (upper case, e.g.
``SIMCORE_LIMIT_MAX_ACTORS=50000`` or ``SIMCORE_LIMIT_MAX_ROADS=200000``), map limits also with
``SIMCORE_MAP_LIMITS="name=value,..."``, or in code with ``with limits.override(max_actors=50000):
...`` (tests, embedding applications; any limit of either group). A limit that is hit is reported
as a located error (scenario and map files) or an event (agents), never as a crash.
docs/limits.md lists them with the reasons for their defaults.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
from collections.abc import Iterator, Mapping
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
        max_lidar_rays_per_s: rays a scenario's sensor rig casts per simulated second, all lidars
            together (channels x columns x rate): checked when the rig is built for a scenario.
        max_lidar_ray_tests_per_s: those rays times the scenario's actors (every ray may be tested
            against every actor's box): the work bound of a rig in a crowded scene.
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
    max_lidar_rays_per_s: float = 5e7
    max_lidar_ray_tests_per_s: float = 2e10


_DEFAULT = Limits()
_overrides: dict[str, Any] = {}


def _from_env(name: str, default: Any, env: Mapping[str, str] | None = None) -> Any:
    raw = (os.environ if env is None else env).get(f"SIMCORE_LIMIT_{name.upper()}")
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
    values.update({k: v for k, v in _overrides.items() if k in values})
    return Limits(**values)


@dataclass(frozen=True)
class MapLimits:
    """Bounds on a map's size, each checked before the work it guards (file size before reading,
    road and geometry lengths from the attributes before any table is built, lane offsets and the
    summed centre-line length before resampling): a hostile or broken file is refused in well under
    a second and never allocates more than the bound allows.

    Attributes:
        max_file_bytes: largest map file read (bytes).
        max_roads: most ``<road>`` elements.
        max_road_length_m: longest road, and longest single geometry (m).
        max_lateral_offset_m: largest distance of any lane border from the reference line (m);
            real maps stay within a few tens of metres.
        max_total_lane_length_m: summed length of all lane centre lines (m), checked on the
            dense samples before the network is resampled.
        max_points: most centre-line samples the resampled network may hold.
    """

    max_file_bytes: int = 100 * 1024 * 1024
    max_roads: int = 100_000
    max_road_length_m: float = 200_000.0
    max_lateral_offset_m: float = 1_000.0
    max_total_lane_length_m: float = 20_000_000.0
    max_points: int = 50_000_000


#: Environment variable with map-limit overrides (``name=value,...``), besides ``SIMCORE_LIMIT_<NAME>``.
MAP_ENV_VAR = "SIMCORE_MAP_LIMITS"


def map_limits(env: Mapping[str, str] | None = None) -> MapLimits:
    """The map limits in force: defaults, then ``SIMCORE_LIMIT_<NAME>``, then ``SIMCORE_MAP_LIMITS``
    (a comma-separated list of ``name=value``), then ``override``. ``env``: read these variables
    instead of the process environment.

    Raises:
        ValueError: an override names an unknown limit or gives a value that is not a positive number.
    """
    env = os.environ if env is None else env
    known = {f.name: f.type for f in dataclasses.fields(MapLimits)}
    base = MapLimits()
    values = {name: _from_env(name, getattr(base, name), env) for name in known}
    raw = env.get(MAP_ENV_VAR, "").strip()
    for item in raw.split(",") if raw else []:
        name, _, value = item.partition("=")
        name = name.strip()
        if name not in known:
            raise ValueError(f"{MAP_ENV_VAR}: unknown limit {name!r}; known: {', '.join(sorted(known))}")
        try:
            num = float(value)
        except ValueError:
            raise ValueError(f"{MAP_ENV_VAR}: {name} must be a number, got {value.strip()!r}") from None
        if not num > 0 or num == float("inf"):
            raise ValueError(f"{MAP_ENV_VAR}: {name} must be positive and finite, got {value.strip()!r}")
        values[name] = int(num) if known[name] in ("int", int) else num
    values.update({k: v for k, v in _overrides.items() if k in known})
    return MapLimits(**values)


@contextlib.contextmanager
def override(**values: Any) -> Iterator[Limits]:
    """Change some limits inside a ``with`` block (process-wide; not for concurrent threads)."""
    unknown = set(values) - {f.name for f in (*dataclasses.fields(Limits), *dataclasses.fields(MapLimits))}
    if unknown:
        raise TypeError(f"unknown limit(s): {', '.join(sorted(unknown))}")
    saved = dict(_overrides)
    _overrides.update(values)
    try:
        yield current()
    finally:
        _overrides.clear()
        _overrides.update(saved)
