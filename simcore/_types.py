"""Shared array aliases and small integer enums stored in state arrays."""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
I32 = NDArray[np.int32]
I8 = NDArray[np.int8]
Mask = NDArray[np.bool_]


class ActorKind(IntEnum):
    """What a state row is."""

    VEHICLE = 0
    PEDESTRIAN = 1
    CYCLIST = 2
    STATIC = 3


class LaneType(IntEnum):
    """What a lane is for; only DRIVING lanes count as drivable area."""

    DRIVING = 0
    SIDEWALK = 1
    BIKE = 2
    SHOULDER = 3
    PARKING = 4


class SignalState(IntEnum):
    """Traffic-light state of one signal group (pedestrian heads: GREEN=walk, AMBER=flashing)."""

    RED = 0
    AMBER = 1
    GREEN = 2
    RED_AMBER = 3
    OFF = 4


class StopRule(IntEnum):
    """What an unsignalised stop line asks of the vehicles on its lane.

    LINE: a plain hold line (generated and YAML junctions: first come, first served among lines);
    STOP: a stop sign (halt at the line, then give way to approaches without a line);
    YIELD: a yield / give-way sign (give way to approaches without a line; no halt needed).
    """

    LINE = 0
    STOP = 1
    YIELD = 2
