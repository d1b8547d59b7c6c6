"""Synthetic traffic scenarios with N vehicles on generated junction grids, for benchmarks."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import yaml

from simcore.road.generate import ARM_VECTORS, IntersectionLayout, generate_grid

SLOT_M = 16.0  # spacing of start positions along a lane (m)
LANES = 2


def grid_size(n_vehicles: int) -> int:
    """Junctions per side so that start slots stay about half used."""
    return max(1, math.ceil(math.sqrt(n_vehicles / 24)))


def traffic_yaml(
    n_vehicles: int, seed: int = 0, timeout_s: float = 60.0, ego: bool = True, pedestrians: int = 0
) -> str:
    """A scenario with ``n_vehicles`` vehicles (ego included) on a k x k junction grid.

    ``pedestrians`` walkers cross at the grid's crosswalks (round robin over crosswalks and
    sides), each starting at a random time in the first two thirds of the run.
    """
    k = grid_size(n_vehicles)
    block = 130.0
    net = generate_grid(k, k, block_m=block, arm_length_m=110.0, layout=IntersectionLayout())
    rng = np.random.default_rng(seed)
    prefix = "" if k == 1 else "r{r}c{c}."
    starts, exits = [], []
    for r in range(k):
        for c in range(k):
            for arm in ARM_VECTORS:
                for lane in range(1, LANES + 1):
                    name = prefix.format(r=r, c=c) + f"{arm}_in_{lane}"
                    lid = net.lane_id(name)
                    length = float(net.lane_length[lid])
                    for s in np.arange(8.0, length - 30.0, SLOT_M):
                        starts.append((name, float(s)))
                    dr, dc = {"north": (1, 0), "south": (-1, 0), "east": (0, 1), "west": (0, -1)}[arm]
                    if not (0 <= r + dr < k and 0 <= c + dc < k):
                        exits.append(prefix.format(r=r, c=c) + f"{arm}_out_{lane}")
    if n_vehicles > len(starts):
        raise ValueError(f"{n_vehicles} vehicles do not fit ({len(starts)} slots)")
    chosen = rng.choice(len(starts), size=n_vehicles, replace=False)
    vehicles = ["sedan", "compact", "suv", "van"]
    actors = []
    ego_spec = None
    for q, idx in enumerate(sorted(chosen.tolist())):
        lane, s = starts[idx]
        goal = exits[int(rng.integers(len(exits)))]
        while goal.split(".")[-1].split("_")[0] == lane.split(".")[-1].split("_")[0]:
            goal = exits[int(rng.integers(len(exits)))]
        start = {"lane": lane, "s": round(s, 2), "speed_kph": 30}
        if ego and ego_spec is None:
            ego_spec = {"vehicle": "sedan", "start": start, "route": {"to": goal}}
            continue
        actors.append(
            {
                "id": f"car{q}",
                "vehicle": vehicles[q % len(vehicles)],
                "start": start,
                "route": {"to": goal},
                "behavior": {"idm": {"desired_speed_kph": float(rng.uniform(40, 50))}},
            }
        )
    sides = ("north", "east", "south", "west")
    for q in range(pedestrians):
        cw = net.cw_names[q % len(net.cw_names)]
        arm = cw.split(".")[-1]
        side = [d for d in sides if d != arm and (sides.index(d) - sides.index(arm)) % 2 == 1][
            (q // len(net.cw_names)) % 2
        ]
        delay = round(float(rng.uniform(0.0, timeout_s * 2 / 3)), 2)
        actors.append(
            {
                "id": f"walker{q}",
                "type": "pedestrian",
                "start": {"crosswalk": cw, "side": side},
                "behavior": {"cross": {"speed": round(float(rng.uniform(1.1, 1.6)), 2), "delay_s": delay}},
            }
        )
    doc = {
        "simcore": 1,
        "name": f"traffic-{n_vehicles}",
        "seed": seed,
        "dt": 0.05,
        "map": {
            "generate": "grid" if k > 1 else "intersection",
            **({"rows": k, "cols": k, "block": block} if k > 1 else {}),
            "arm_length": 110.0,
            "crosswalks": True,
        },
        "actors": actors,
        "end": {"timeout_s": timeout_s, "ego_reaches_goal": False},
    }
    if ego_spec is not None:
        doc["ego"] = ego_spec
    return yaml.safe_dump(doc, sort_keys=False)


def traffic_file(
    n_vehicles: int, seed: int = 0, timeout_s: float = 60.0, ego: bool = True, pedestrians: int = 0
) -> Path:
    """Write ``traffic_yaml`` to a temporary file and return its path."""
    path = Path(tempfile.mkdtemp(prefix="simcore-bench-")) / f"traffic_{n_vehicles}_{pedestrians}.yaml"
    path.write_text(traffic_yaml(n_vehicles, seed, timeout_s, ego, pedestrians))
    return path
