"""Environment state of a run (scenario key ``environment:``): friction, weather, time of day.

Built once from the scenario, attached to the World (``world.environment``) and changed by the
storyboard's ``weather`` and ``friction`` actions. Sensors and reports read it through
:func:`world_environment`.

Rain and friction (used only when the scenario does not give ``environment.friction``): a wet road
keeps ``1 - WET_FRICTION_DROP * min(rain_mm_h / WET_AT_MM_H, 1)`` of the dry friction 1.0, i.e. 0.7
from moderate rain (2.5 mm/h) on. This is a coarse rule of thumb (wet asphalt typically shows 0.5-0.8
against 0.8-1.0 dry), not a tyre model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: Fraction of the dry friction lost on a fully wet road.
WET_FRICTION_DROP = 0.3
#: Rain rate (mm/h) from which the road counts as fully wet.
WET_AT_MM_H = 2.5
#: Night: local time before NIGHT_END_H or from NIGHT_START_H (hours).
NIGHT_START_H = 19.0
NIGHT_END_H = 6.0


def wet_friction(rain_mm_h: float, dry: float = 1.0) -> float:
    """Friction coefficient of a road wetted by rain of ``rain_mm_h`` (mm/h), from the ``dry`` one."""
    return dry * (1.0 - WET_FRICTION_DROP * min(max(rain_mm_h, 0.0) / WET_AT_MM_H, 1.0))


def parse_time_of_day(text: str) -> float:
    """``"HH:MM"`` -> hours since midnight."""
    hh, mm = text.split(":")
    return int(hh) + int(mm) / 60.0


@dataclass
class EnvironmentState:
    """Current environment of a run.

    Attributes:
        friction: tyre-road friction coefficient of the map (lanes with their own surface differ).
        rain_mm_h: rain rate (mm/h), 0 when dry.
        fog_visibility_m: visibility (m) in fog; None in clear air.
        time_of_day_h: local time (hours since midnight).
        night: True at night (dark: headlights, camera exposure).
    """

    friction: float = 1.0
    rain_mm_h: float = 0.0
    fog_visibility_m: float | None = None
    time_of_day_h: float = 12.0
    night: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Plain values (for result metadata)."""
        return asdict(self)


def environment_from_spec(env: Any) -> EnvironmentState:
    """The initial EnvironmentState of a validated ``EnvironmentSpec``."""
    rain = float(env.weather.rain_mm_h)
    if "friction" in env.model_fields_set or not env.rain_wets_road:
        mu = float(env.friction)
    else:
        mu = wet_friction(rain, float(env.friction))
    tod = parse_time_of_day(env.time_of_day) if env.time_of_day else 12.0
    night = env.night if env.night is not None else (tod < NIGHT_END_H or tod >= NIGHT_START_H)
    return EnvironmentState(
        friction=mu,
        rain_mm_h=rain,
        fog_visibility_m=env.weather.fog_visibility_m,
        time_of_day_h=tod,
        night=bool(night),
    )


def world_environment(world: Any) -> EnvironmentState:
    """The environment attached to a World (a default, dry daytime one if none was)."""
    found = getattr(world, "environment", None)
    if isinstance(found, EnvironmentState):
        return found
    state = EnvironmentState()
    world.environment = state
    return state
