"""The scenario's environment state: the names of ``simcore.environment``, re-exported here."""

from simcore.environment import (
    WET_AT_MM_H,
    EnvironmentState,
    environment_from_spec,
    parse_time_of_day,
    wet_friction,
    world_environment,
)

__all__ = [
    "WET_AT_MM_H",
    "EnvironmentState",
    "environment_from_spec",
    "parse_time_of_day",
    "wet_friction",
    "world_environment",
]
