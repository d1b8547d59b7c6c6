"""Traffic on any map: the scenario's ``traffic:`` section (routed vehicles and walking pedestrians
spawned from a seeded stream, as CARLA's traffic generator does) and random routes
(``route: {to: random, length_m: [min, max]}``).

Spawn points lie every ``SPAWN_STEP_M`` along driving lanes outside junctions, at least
``EDGE_MARGIN_M`` from the lane's ends and ``MIN_SPAWN_GAP_M`` from every other actor; the
stream ``traffic`` of the scenario seed (or ``traffic.seed``) shuffles them, picks vehicle types by
``mix`` and goals whose route length falls in ``route_length_m``. Same seed, same traffic.
"""

from __future__ import annotations

import heapq

import numpy as np

from simcore._types import LaneType
from simcore.rng import generator
from simcore.road.generate import crosswalk_end_index
from simcore.road.network import RoadNetwork
from simcore.scenario.schema import (
    CrosswalkStart,
    LaneStart,
    PedestrianActor,
    PedestrianBehavior,
    RouteSpec,
    SidewalkStart,
    TrafficSpec,
    VehicleActor,
    WalkSpec,
)

__all__ = ["EDGE_MARGIN_M", "MIN_SPAWN_GAP_M", "SPAWN_STEP_M", "random_goal", "traffic_actors"]

#: Spacing of candidate spawn points along a lane (m).
SPAWN_STEP_M = 10.0
#: Spawn points keep this far from a lane's ends (m): not on a junction's doorstep.
EDGE_MARGIN_M = 5.0
#: Smallest distance between two spawned actors' reference points (m): a long car and a gap.
MIN_SPAWN_GAP_M = 9.0
#: Pedestrians keep this far apart when spawned (m).
MIN_WALKER_GAP_M = 2.0


def random_goal(net: RoadNetwork, start: int, start_s: float, length_m: tuple[float, float], rng) -> int:
    """A goal lane reached by driving ``length_m[0]..length_m[1]`` m from ``start_s`` on ``start``.

    Distances run along successor lanes (Dijkstra on lane lengths) to each lane's end; goals are
    driving lanes outside junctions. When none lies in the range, the farthest reachable one
    (possibly ``start`` itself) is used, so a goal always exists.
    """
    lo, hi = length_m
    dist = {start: float(net.lane_length[start]) - start_s}
    heap = [(dist[start], start)]
    while heap:
        d, lane = heapq.heappop(heap)
        if d > dist.get(lane, np.inf) or d > hi:
            continue
        for nxt in net.successors(lane):
            nd = d + float(net.lane_length[nxt])
            if nd < dist.get(int(nxt), np.inf):
                dist[int(nxt)] = nd
                heapq.heappush(heap, (nd, int(nxt)))
    ok = [k for k, d in dist.items() if net.lane_junction[k] < 0 and net.lane_type[k] == LaneType.DRIVING]
    inside = sorted(k for k in ok if lo <= dist[k] <= hi)
    if inside:
        return int(inside[int(rng.integers(len(inside)))])
    within = [k for k in ok if dist[k] <= hi] or ok or [start]
    return int(max(within, key=lambda k: (dist.get(k, 0.0), -k)))


def _candidates(net: RoadNetwork, kind: LaneType, step: float, region) -> list[tuple[int, float, float, float]]:
    """(lane, s, x, y) every ``step`` m along lanes of ``kind`` outside junctions, in ``region``."""
    out: list[tuple[int, float, float, float]] = []
    for lane in np.flatnonzero((net.lane_type == kind) & (net.lane_junction < 0)):
        x, y, s = net.lane_points(int(lane))
        if s[-1] < 2 * EDGE_MARGIN_M:
            continue
        ss = np.arange(EDGE_MARGIN_M, s[-1] - EDGE_MARGIN_M + 1e-9, step)
        px, py = np.interp(ss, s, x), np.interp(ss, s, y)
        if region is not None:
            keep = np.hypot(px - region.center[0], py - region.center[1]) <= region.radius_m
            ss, px, py = ss[keep], px[keep], py[keep]
        out.extend((int(lane), float(a), float(b), float(c)) for a, b, c in zip(ss, px, py, strict=True))
    return out


def _pick(cands, n: int, gap: float, taken: list[tuple[float, float]], rng) -> list[tuple[int, float, float, float]]:
    """Up to ``n`` shuffled candidates at least ``gap`` m from each other and from ``taken``."""
    cell: dict[tuple[int, int], list[tuple[float, float]]] = {}

    def free(x: float, y: float) -> bool:
        i, j = int(x // gap), int(y // gap)
        return all(
            np.hypot(x - qx, y - qy) >= gap
            for di in (-1, 0, 1)
            for dj in (-1, 0, 1)
            for qx, qy in cell.get((i + di, j + dj), ())
        )

    def add(x: float, y: float) -> None:
        cell.setdefault((int(x // gap), int(y // gap)), []).append((x, y))

    for x, y in taken:
        add(x, y)
    chosen: list[tuple[int, float, float, float]] = []
    for k in rng.permutation(len(cands)):
        if len(chosen) == n:
            break
        c = cands[int(k)]
        if free(c[2], c[3]):
            chosen.append(c)
            add(c[2], c[3])
    return chosen


def traffic_actors(
    net: RoadNetwork, spec: TrafficSpec, seed: int, taken: list[tuple[float, float]]
) -> tuple[list[VehicleActor | PedestrianActor], list[tuple[tuple, str]]]:
    """Actor specs for ``spec`` on ``net``, away from the points in ``taken`` (m, e.g. the ego).

    Returns (actors, problems); each problem is (key path under ``traffic``, message), e.g. a map
    with room for fewer vehicles than asked.
    """
    rng = generator(spec.seed if spec.seed is not None else seed, 0, "traffic")
    problems: list[tuple[tuple, str]] = []
    actors: list[VehicleActor | PedestrianActor] = []
    names = sorted(spec.mix)
    weights = np.array([spec.mix[k] for k in names], dtype=float)
    weights = weights / weights.sum()
    spots = _pick(
        _candidates(net, LaneType.DRIVING, SPAWN_STEP_M, spec.region), spec.vehicles, MIN_SPAWN_GAP_M, taken, rng
    )
    if len(spots) < spec.vehicles:
        problems.append(
            (("vehicles",), f"the map has room for {len(spots)} vehicles here, {spec.vehicles} were asked for")
        )
    for k, (lane, s, _, _) in enumerate(spots):
        goal = random_goal(net, lane, s, spec.route_length_m, rng)
        actors.append(
            VehicleActor(
                id=f"traffic-{k + 1}",
                vehicle=names[int(rng.choice(len(names), p=weights))],
                start=LaneStart(lane=net.lane_names[lane], s=s),
                route=RouteSpec(to=net.lane_names[goal]),
            )
        )
    if spec.pedestrians:
        actors.extend(_walkers(net, spec, rng, [(c[2], c[3]) for c in spots] + list(taken), problems))
    return actors, problems


def crosswalk_sides(net: RoadNetwork, c: int) -> list[str]:
    """Compass sides from which crosswalk ``c`` can be started (two or more at any orientation)."""
    sides = []
    for side in ("north", "east", "south", "west"):
        try:
            crosswalk_end_index(net, c, side)
        except ValueError:
            continue
        sides.append(side)
    return sides


def _walkers(net: RoadNetwork, spec: TrafficSpec, rng, taken, problems) -> list[PedestrianActor]:
    """Pedestrians: a share start at crosswalk ends and cross; the rest walk sidewalks."""
    out: list[PedestrianActor] = []
    sides = [(c, side) for c in range(len(net.cw_names)) for side in crosswalk_sides(net, c)]
    n_cross = min(len(sides), spec.pedestrians // 3) if sides else 0
    for k in range(n_cross):
        c, side = sides[int(rng.integers(len(sides)))]
        out.append(
            PedestrianActor(
                id=f"walker-{len(out) + 1}",
                type="pedestrian",
                start=CrosswalkStart(crosswalk=net.cw_names[c], side=side),
                behavior=PedestrianBehavior.model_validate({"cross": {"delay_s": float(rng.uniform(0, 30)) + k}}),
            )
        )
    walk = _pick(
        _candidates(net, LaneType.SIDEWALK, 3.0, spec.region), spec.pedestrians - n_cross, MIN_WALKER_GAP_M, taken, rng
    )
    for lane, s, _, _ in walk:
        out.append(
            PedestrianActor(
                id=f"walker-{len(out) + 1}",
                type="pedestrian",
                start=SidewalkStart(lane=net.lane_names[lane], s=s),
                behavior=PedestrianBehavior(walk=WalkSpec(speed=float(rng.uniform(1.1, 1.6)))),
            )
        )
    if len(out) < spec.pedestrians:
        problems.append(
            (
                ("pedestrians",),
                f"the map has sidewalks and crosswalks for {len(out)} pedestrians, {spec.pedestrians} asked",
            )
        )
    return out


#: Route length range of the ego in ``simcore run --map FILE`` (m): a few hundred metres.
QUICK_LOOK_ROUTE_M = (200.0, 500.0)
#: Time limit of that run (s).
QUICK_LOOK_TIMEOUT_S = 180.0


def quick_look_scenario(map_file: str, vehicles: int, seed: int, pedestrians: int = 0) -> str:
    """Scenario YAML for ``simcore run --map FILE --traffic N``: an autopilot ego on a random route of
    ``QUICK_LOOK_ROUTE_M`` from a random driving lane, ``vehicles`` of traffic, and the default
    criteria (no collision, no red light, reach the goal).

    Raises:
        MapError: the map cannot be loaded or has no driving lane long enough to start on.
    """
    import json

    from simcore.road.errors import MapError
    from simcore.road.maps import load_map

    net = load_map(map_file)
    lanes = [
        int(k)
        for k in np.flatnonzero((net.lane_type == LaneType.DRIVING) & (net.lane_junction < 0))
        if net.lane_length[k] > 2 * EDGE_MARGIN_M
    ]
    if not lanes:
        raise MapError(map_file, "no driving lane outside junctions is long enough to start the ego on")
    rng = generator(seed, 0, "quick-look/ego")
    start = lanes[int(rng.integers(len(lanes)))]
    lo, hi = QUICK_LOOK_ROUTE_M
    doc = {
        "simcore": 1,
        "name": f"quick look: {map_file}",
        "seed": seed,
        "map": {"file": str(map_file)},
        "ego": {
            "vehicle": "sedan",
            "start": {"lane": net.lane_names[start], "s": EDGE_MARGIN_M},
            "route": {"to": "random", "length_m": [lo, hi]},
        },
        "traffic": {"vehicles": vehicles, "pedestrians": pedestrians},
        "end": {"timeout_s": QUICK_LOOK_TIMEOUT_S},
        "criteria": ["no_collision", "no_red_light", "reach_goal"],
    }
    return json.dumps(doc, indent=1)  # JSON is YAML: no quoting pitfalls for lane names
