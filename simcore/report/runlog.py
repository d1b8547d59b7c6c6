"""Run log in MCAP, written while the run goes (bounded memory), and its reader (numpy per channel).

Channels (log time = simulated time, ns from 0):

================  ==========================  =========================================
topic             schema (encoding)            content
================  ==========================  =========================================
/simcore/meta     simcore.RunMeta (json)       once: format version, scenario, seed, dt,
                                               actor ids, kinds, sizes, ego, signal groups
/simcore/state    simcore.ActorStates (raw)    every recorded row, in blocks (one per compiled
                                               call): time, x, y, yaw, speed, active of every
                                               actor, signal states
/simcore/events   simcore.Event (json)         each event at its time (``t``: exact time, s)
/simcore/controls simcore.Controls (json)      controlled vehicles' accel (m/s²), steer (rad)
/simcore/observations simcore.ObservationSummary (json)  per agent step: what each Python-side
                                               agent was shown (``observation_summary``)
/simcore/snapshot simcore.Snapshot (raw)       every ``snapshot_every_s`` and at the end: the
                                               engine state (arrays that differ from the
                                               initial state) and the run record (replay)
/simcore/result   simcore.Result (json)        at the end: result.json (scores, criteria, metrics)
/map              foxglove SceneUpdate (cdr)   once: map polylines, one entity per layer
/actors           foxglove SceneUpdate (cdr)   actor boxes at up to ``scene_hz``, encoded a block of
                                               frames at a time (``scene_block`` frames at most)
/tf               foxglove FrameTransforms     map -> ego at the same rate; sensor mounts (ego -> ego/NAME)
                  (cdr)
/sensors/...      (``report.sensorlog``)       each lidar, radar, object-list and camera reading an
                                               agent was shown, at the sensor's rate (camera images
                                               only with ``images=True``)
================  ==========================  =========================================

The Foxglove scene channels are ROS 2 messages (``foxglove_msgs/msg/SceneUpdate``, ``.../FrameTransforms``;
CDR, ``report.foxglove_cdr``; version 2 logs wrote them as JSON, which the reader still reads).
``simcore.raw`` state messages: the row count k (u4), then little-endian arrays one after the
other: time f8[k], x, y, yaw, speed f8[k, n], active u1[k, n], signals i1[k, groups] (layout in the
schema's data, versioned; version 1 logs hold one row per message and no count).
``simcore.snapshot`` messages: a JSON header's length (u4), the header (run record; name, dtype and
shape of each array), then the raw bytes of those EngineState arrays one after the other.

/simcore/meta carries what re-scoring and replay need besides the arrays (``run``): the world
reference (scenario file, seed, overrides, variant), the agents, the end conditions, criteria,
regulation block and emergency vehicles.
"""

from __future__ import annotations

import bisect
import functools
import json
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from simcore._types import ActorKind
from simcore.render.map_view import EGO_COLOUR, KIND_COLOUR
from simcore.report import foxglove as fg
from simcore.report import foxglove_cdr as fc
from simcore.report.cdr import schema_text
from simcore.report.mcapio import McapWriter
from simcore.report.sensorlog import SensorChannel, SensorCollector, SensorWriter
from simcore.world import World

#: Version of the simcore channels' layout; readers refuse a newer one.
LOG_VERSION = 3
#: Default rate (Hz of simulated time) of the Foxglove actor boxes and ego transform.
SCENE_HZ = 5.0
#: Most Foxglove scene frames buffered before they are encoded together (fewer for many actors:
#: ``SCENE_BLOCK_BYTES`` bounds a block's encoded size; more for a few actors: ``SCENE_BLOCK_SMALL``).
SCENE_BLOCK = 64
#: Bound (bytes) of one block of encoded scene frames (about 200 bytes per actor and frame).
SCENE_BLOCK_BYTES = 4 << 20
#: Encoded size (bytes) a block of a few actors may grow to past ``SCENE_BLOCK`` frames: a short run's scene is
#: then encoded in one go (each block has a fixed cost of some 50 NumPy calls).
SCENE_BLOCK_SMALL = 256 << 10
#: Default interval (s of simulated time) between engine-state snapshots (replay starts from the nearest).
SNAPSHOT_EVERY_S = 10.0
#: File name of the run log inside a run's output folder.
RUN_MCAP = "run.mcap"
#: Per-actor fields of a state message, in order, with their little-endian dtypes.
STATE_FIELDS: tuple[tuple[str, str], ...] = (
    ("x", "<f8"),
    ("y", "<f8"),
    ("yaw", "<f8"),
    ("speed", "<f8"),
    ("active", "|u1"),
)
#: Box height (m) drawn per actor kind in Foxglove.
HEIGHT_M = {ActorKind.VEHICLE: 1.5, ActorKind.PEDESTRIAN: 1.8, ActorKind.CYCLIST: 1.7, ActorKind.STATIC: 1.0}


def _json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()


def _ns(t: float) -> int:
    return round(t * 1e9)


def scene_block_frames(n: int) -> int:
    """Scene frames buffered before they are encoded, for ``n`` actors: at least ``SCENE_BLOCK`` (or what
    ``SCENE_BLOCK_BYTES`` allows), more up to ``SCENE_BLOCK_SMALL`` bytes; about 200 bytes per actor and frame."""
    per_frame = 200 * max(n, 1)
    return max(1, min(SCENE_BLOCK_BYTES // per_frame, max(SCENE_BLOCK, SCENE_BLOCK_SMALL // per_frame)))


def logged_map(net: Any) -> dict[str, tuple[str, bool, np.ndarray, np.ndarray]]:
    """``map_view.map_layers(net)`` as the /map scene carries it, packed per layer: (colour, closed, points
    (N, 2) m, point count of each polyline). Each polyline as the pictures' packing simplified it
    (``topdown.pack_layers``, once per map and shared with topdown.png and report.html: a subset of its
    points, first and last kept, about 1 cm off the exact line; a tenth of the points on straight roads).
    Only viewers read the logged map: replay and re-scoring rebuild the exact network from the scenario
    reference in /simcore/meta."""
    from simcore.render.map_view import map_layers
    from simcore.render.topdown import pack_layers

    layers = map_layers(net)
    return _from_packed(layers, {p.name: p for p in pack_layers(layers)})


def _from_packed(
    layers: dict[str, tuple[str, bool, list[np.ndarray]]], packed: dict[str, Any]
) -> dict[str, tuple[str, bool, np.ndarray, np.ndarray]]:
    """``logged_map`` from packed layers by name (``pts``, ``ends`` and ``index``: which polylines of the layer
    they hold); the polylines left out (too short to fill) go in as they are."""
    out = {}
    for name, (colour, closed, ps) in layers.items():
        p = packed.get(name)
        counts = np.array([len(q) for q in ps], dtype=np.int64)
        if p is None:
            xy = np.concatenate(ps) if ps else np.empty((0, 2))
        elif len(p.index) == len(ps):
            xy = p.pts
            counts[:] = np.diff(p.ends, prepend=0)
        else:
            parts = list(ps)
            for k, part in zip(p.index.tolist(), np.split(p.pts, p.ends[:-1]), strict=True):
                parts[k] = part
                counts[k] = len(part)
            xy = np.concatenate(parts)
        out[name] = (colour, closed, xy, counts)
    return out


def world_meta(world: World) -> dict[str, Any]:
    """The /simcore/meta message: what the arrays of a run mean (ids, kinds, sizes in m, ego row)."""
    p = world.params
    return {
        "simcore_log": LOG_VERSION,
        "scenario": world.name,
        "seed": int(world.seed),
        "dt_s": float(world.dt),
        "ego": int(world.ego),
        "actor_ids": list(world.actor_ids),
        "kinds": [ActorKind(int(k)).name.lower() for k in world.state.kind],
        "length_m": np.asarray(p["length"], float).tolist(),
        "width_m": np.asarray(p["width"], float).tolist(),
        "center_offset_m": np.asarray(p["center_offset"], float).tolist(),
        "signal_groups": list(world.network.signal_names),
        "map_bounds_m": [float(v) for v in world.network.bounds()],
    }


class RunLogWriter:
    """Streams one run into an MCAP file.

    ``attach(sim)`` registers ``on_advance`` with the Simulation: after each compiled call the
    rows recorded since the last call (still in the recorder's buffer, one message per call),
    new events and the controlled vehicles' controls are appended, and every
    ``snapshot_every_s`` the engine state; ``finish(result)`` adds the final snapshot and
    result.json and closes. Memory: one MCAP chunk (``chunk_bytes``) whatever the run's length.

    ``scene_hz``: rate (Hz of simulated time) of the Foxglove actor boxes and ego transform.
    ``run_info``: how the run was started (``scenario``, ``seed``, ``overrides``, ``variant``,
    ``allow_paths``, ``agents``: the agent specs by role), for ``simcore rescore`` and ``replay``.
    ``images``: log camera image layers (depth, semantic, instance; big) besides the cameras' 2-D boxes;
    lidar, radar and object-list readings are always logged (``report.sensorlog``).
    ``compression``: of the MCAP chunks (``report.mcapio.COMPRESSIONS``: "zstd", "lz4" or "" for none).
    ``scene_block``: scene frames encoded together (default ``scene_block_frames``).
    """

    def __init__(
        self,
        path: Path,
        world: World,
        *,
        scene_hz: float = SCENE_HZ,
        chunk_bytes: int = 1 << 20,
        snapshot_every_s: float = SNAPSHOT_EVERY_S,
        run_info: dict[str, Any] | None = None,
        images: bool = False,
        compression: str = "zstd",
        scene_block: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # A new file rather than one truncated: ext4 writes a truncated file's old data out first (ms of wall)
        self.path.unlink(missing_ok=True)
        self._fh: IO[bytes] = open(self.path, "wb")  # noqa: SIM115 (closed by finish)
        self._w = McapWriter(self._fh, chunk_bytes=chunk_bytes, compression=compression)
        self.world = world
        self.run_info = dict(run_info or {})
        st, p = world.state, world.params
        self.n = int(st.n)
        self.n_signals = int(world.network.n_signals)
        self.scene_dt = 1.0 / scene_hz if scene_hz > 0 else float("inf")
        self.snapshot_dt = snapshot_every_s if snapshot_every_s > 0 else float("inf")
        self._next_scene = 0.0
        self._next_snapshot = 0.0
        self.rows_written = 0
        self.events_written = 0
        self.snapshots_written = 0
        #: Wall time (s) spent in ``on_advance`` so far: the log's cost inside the run.
        self.busy_s = 0.0
        self._sim: Any = None
        self._meta_written = False
        self._obs_step: dict[str, int] = {}
        #: The Simulation's initial EngineState and its arrays' bytes (what snapshots are compared with).
        self._initial: tuple[Any, list[bytes]] | None = None
        self.sensors = SensorWriter(self, images=images, n_actors=self.n)
        kinds = [ActorKind(int(k)) for k in st.kind]
        self._ids = list(world.actor_ids)
        self._colours = [EGO_COLOUR if i == world.ego else KIND_COLOUR[k] for i, k in enumerate(kinds)]
        self._height = np.array([HEIGHT_M[k] for k in kinds])
        self._length, self._width = np.asarray(p["length"], float), np.asarray(p["width"], float)
        self._offset = np.asarray(p["center_offset"], float)
        life = 2 * self.scene_dt if np.isfinite(self.scene_dt) else 0.0
        self._scene = fc.ActorsScene(self._ids, self._length, self._width, self._height, self._colours, life)
        cap = scene_block or scene_block_frames(self.n)
        #: Scene frames waiting to be encoded: time (cap,), x, y, yaw (cap, n), active (cap, n); ``_nb`` used.
        self._block = {
            "time": np.zeros(cap),
            **{k: np.zeros((cap, self.n)) for k in ("x", "y", "yaw")},
            "active": np.zeros((cap, self.n), dtype=bool),
        }
        self._nb = 0
        layout = {"version": LOG_VERSION, "time": "<f8", "per_actor": STATE_FIELDS, "signals": "|i1"}
        self._ch: dict[str, int] = {}
        self._schemas: dict[str, int] = {}
        self._seq: dict[str, int] = {}
        for topic, name, enc, data in (
            ("/simcore/meta", "simcore.RunMeta", "json", None),
            ("/simcore/state", "simcore.ActorStates", "simcore.raw", json.dumps(layout).encode()),
            ("/simcore/events", "simcore.Event", "json", None),
            ("/simcore/controls", "simcore.Controls", "json", None),
            ("/simcore/observations", "simcore.ObservationSummary", "json", None),
            ("/simcore/snapshot", "simcore.Snapshot", "simcore.snapshot", None),
            ("/simcore/result", "simcore.Result", "json", None),
            ("/map", fc.SCENE_UPDATE, "cdr", b""),
            ("/actors", fc.SCENE_UPDATE, "cdr", b""),
            ("/tf", fc.FRAME_TRANSFORMS, "cdr", b""),
        ):
            if data is None:
                data = _json({"title": name, "type": "object", "simcore_log": LOG_VERSION})
            self.channel(topic, name, enc, data)
        self._add("/map", 0.0, self._map_scene())

    # -- writing ------------------------------------------------------------------------
    def channel(self, topic: str, schema: str, encoding: str, data: bytes = b"") -> None:
        """Register ``topic`` (once) with schema ``schema`` (registered once by name; ``data`` empty: the
        Foxglove JSON schema of that name, or for "cdr" its ``ros2msg`` text) and message ``encoding``
        ("json", "cdr" or a simcore encoding)."""
        if topic in self._ch:
            return
        if schema not in self._schemas:
            enc = {"json": "jsonschema", "cdr": "ros2msg"}.get(encoding, "simcore.layout")
            body = data or (schema_text(schema).encode() if encoding == "cdr" else fg.schema_bytes(schema))
            self._schemas[schema] = self._w.register_schema(schema, enc, body)
        self._ch[topic] = self._w.register_channel(topic, encoding, self._schemas[schema])
        self._seq[topic] = 0

    def _add(self, topic: str, t: float, data: bytes) -> None:
        self._w.add(self._ch[topic], _ns(t), data, self._seq[topic])
        self._seq[topic] += 1

    add = _add

    def _add_block(self, topic: str, times: np.ndarray, datas: list[bytes] | np.ndarray) -> None:
        """``_add`` for many messages of ``topic`` at once (``McapWriter.add_block``); ``times`` in s."""
        ns = np.round(np.asarray(times, dtype=float) * 1e9).astype(np.int64)  # as _ns, per element
        self._w.add_block(self._ch[topic], ns, datas, self._seq[topic])
        self._seq[topic] += len(datas)

    def _write_meta(self) -> None:
        if not self._meta_written:
            meta = world_meta(self.world)
            if self._sim is not None and hasattr(self._sim, "criteria"):
                meta["run"] = {**run_config(self._sim), **self.run_info}
            self._add("/simcore/meta", 0.0, _json(meta))
            self._meta_written = True

    def _map_scene(self) -> bytes:
        """The /map message, encoded once per road network (``map_layers``' lifetime)."""
        net = self.world.network
        cache = net.memo("_run_log")
        if "map_scene" not in cache:
            cache["map_scene"] = fc.packed_line_scene(0.0, logged_map(net))
        return cache["map_scene"]

    def attach(self, sim: Any) -> RunLogWriter:
        """Write ``sim``'s rows as it runs (hooked to ``Simulation.on_advance``); returns self."""
        self._sim = sim
        self._write_meta()
        sim.on_advance.append(self.on_advance)
        self.on_advance(sim)
        return self

    def on_advance(self, sim: Any) -> None:
        """Append what ``sim`` recorded since the last call (rows, events, controls, a snapshot when due)."""
        t0 = time.perf_counter()
        self._append(sim)
        if hasattr(sim, "snapshot") and sim.t + 1e-9 >= self._next_snapshot and snapshot_portable(sim):
            self._next_snapshot = sim.t + self.snapshot_dt
            self.write_snapshot(sim)
        self.busy_s += time.perf_counter() - t0

    def _append(self, sim: Any) -> None:
        rec = sim.recorder
        total = rec.total_rows
        if total > self.rows_written:
            if self.rows_written >= rec.drained:
                lo = self.rows_written - rec.drained
                rows = {name: getattr(rec, name)[lo : rec.rows] for name in ("time", *rec_fields())}
            else:  # drained before this writer saw them (attached late): read back from disk
                idx = np.arange(self.rows_written, total)
                rows = {name: rec._take(name, idx) for name in ("time", *rec_fields())}
            self.write_rows(rows)
        for ev in sim.events[self.events_written :]:
            self._add("/simcore/events", ev.time, _json({**ev.to_json(), "t": float(ev.time)}))
        self.events_written = len(sim.events)
        for role, obs in getattr(sim, "observations", {}).items():
            if obs.step > self._obs_step.get(role, -1):
                self._obs_step[role] = obs.step
                self._add("/simcore/observations", obs.time, _json({"role": role, **observation_summary(obs)}))
                for reading in obs.sensors.values():
                    self.sensors.write(sim, reading)
        roles: dict[str, int] = getattr(sim, "_roles", {})
        if roles and sim.step_index > 0:
            rws = list(roles.values())
            msg = {
                "time_s": sim.t,
                "step": int(sim.step_index),
                "roles": list(roles),
                "accel_mps2": [float(sim.ctrl_accel[r]) for r in rws],
                "steer_rad": [float(sim.ctrl_steer[r]) for r in rws],
            }
            self._add("/simcore/controls", sim.t, _json(msg))

    def write_rows(self, rows: dict[str, np.ndarray]) -> None:
        """Append recorded rows: ``time`` (k,), per-actor fields (k, n), ``signals`` (k, groups); one
        message per ``ROWS_PER_MESSAGE`` rows, the Foxglove scene at ``scene_hz``."""
        self._write_meta()
        k_all = int(rows["time"].shape[0])
        for lo in range(0, k_all, ROWS_PER_MESSAGE):
            hi = min(lo + ROWS_PER_MESSAGE, k_all)
            parts: list[Any] = [struct.pack("<I", hi - lo), np.ascontiguousarray(rows["time"][lo:hi], dtype="<f8")]
            parts += [np.ascontiguousarray(rows[name][lo:hi], dtype=dt) for name, dt in STATE_FIELDS]
            parts.append(np.ascontiguousarray(rows["signals"][lo:hi], dtype="|i1"))
            self._add("/simcore/state", float(rows["time"][lo]), b"".join(parts))  # arrays as buffers: one copy
        self.rows_written += k_all
        times = rows["time"]
        if not np.isfinite(self.scene_dt) or k_all == 0 or times[-1] + 1e-9 < self._next_scene:
            return
        due = []  # rows that get a Foxglove scene: the first at or after each scene time (times ascend)
        ts = times.tolist()
        k = self._first_due(ts, 0)
        while k < k_all:
            due.append(k)
            self._next_scene = ts[k] + self.scene_dt
            k = self._first_due(ts, k + 1)
        blk, cap = self._block, self._block["time"].shape[0]
        while due:
            take, due = due[: cap - self._nb], due[cap - self._nb :]
            for name, arr in blk.items():
                arr[self._nb : self._nb + len(take)] = rows[name][take]
            self._nb += len(take)
            if self._nb == cap:
                self.flush_scene()

    def _first_due(self, times: list[float], lo: int) -> int:
        """First row from ``lo`` with ``time + 1e-9 >= next scene time`` (``len(times)`` if none): a binary
        search, then the same test as a row-by-row loop would make, so rounding picks the same row."""
        nxt, n = self._next_scene, len(times)
        k = bisect.bisect_left(times, nxt - 1e-9, lo)
        while k > lo and times[k - 1] + 1e-9 >= nxt:
            k -= 1
        while k < n and not times[k] + 1e-9 >= nxt:
            k += 1
        return k

    def flush_scene(self) -> None:
        """Encode the buffered scene frames (``/actors`` boxes, ``/tf`` map -> ego) and add them to the log."""
        k, self._nb = self._nb, 0
        if k == 0:
            return
        blk = self._block
        t, x, y, yaw, active = (blk[name][:k] for name in ("time", "x", "y", "yaw", "active"))
        cx, cy = x + self._offset * np.cos(yaw), y + self._offset * np.sin(yaw)  # box centres (m)
        groups = self._scene.groups(t, active, cx, cy, yaw)
        if len(groups) == 1:  # one set of actors in the whole block: its messages are one array's rows
            self._add_block("/actors", t, groups[0][1])
        else:
            self._add_block("/actors", t, fc.frames_of(groups, k))
        ego = self.world.ego
        if ego >= 0:
            self._add_block("/tf", t, fc.transforms(t, "ego", x[:, ego], y[:, ego], yaw[:, ego]))

    def write_snapshot(self, sim: Any) -> None:
        """Append ``sim``'s engine state and run record now (``simcore.snapshot``: JSON header + npz)."""
        self._write_meta()
        if self._initial is None or self._initial[0] is not sim.initial:
            self._initial = (sim.initial, [a.tobytes() for a in sim.initial])
        self._add("/simcore/snapshot", sim.t, encode_snapshot(sim, self._initial[1]))
        self.snapshots_written += 1

    def finish(self, result: Any = None) -> Path:
        """Write the final snapshot and the result (scores, criteria, metrics; no timing), and close."""
        self._write_meta()
        sim = self._sim
        if sim is not None and hasattr(sim, "snapshot") and result is not None:
            self._append(sim)
            self.write_snapshot(sim)
        if result is not None:
            self._add("/simcore/result", result.sim_time, _json(result.to_json(include_timing=False)))
        self.flush_scene()
        self._w.finish()
        self._fh.close()
        return self.path


#: Most recorded rows in one /simcore/state message (bounded message size for readers).
ROWS_PER_MESSAGE = 256


def observation_summary(obs: Any) -> dict[str, Any]:
    """A few numbers of an agent ``Observation`` (SI units, route s in m): time, step, own speed and
    speed limit, how many objects it saw and the nearest one's distance, the next stop line ahead (route
    s and signal state), the junction hold line, the sensors that gave readings."""
    o = obs.objects
    d = np.hypot(o.x - obs.x, o.y - obs.y)
    ahead = np.flatnonzero(obs.stop_s > obs.progress)
    k = int(ahead[0]) if ahead.size else -1

    def num(v: float) -> float | None:
        return float(v) if np.isfinite(v) else None

    return {
        "time_s": float(obs.time),
        "step": int(obs.step),
        "speed_mps": float(obs.speed),
        "speed_limit_mps": float(obs.speed_limit),
        "objects": int(d.size),
        "nearest_m": float(d.min()) if d.size else None,
        "next_stop_s_m": float(obs.stop_s[k]) if k >= 0 else None,
        "next_stop_state": int(obs.stop_state[k]) if k >= 0 else None,
        "junction_hold_s_m": num(obs.junction_hold_s),
        "sensors": sorted(obs.sensors),
    }


def run_config(sim: Any) -> dict[str, Any]:
    """What re-scoring needs of a Simulation besides its arrays: the world reference and the evaluation
    set-up (end conditions, criteria, regulation block, emergency vehicles), as plain data."""
    agent = getattr(sim, "agent", None)
    return {
        "scenario": sim.scenario_file or sim.world.name,
        "scenario_file": sim.scenario_file,
        "seed": None,
        "overrides": {},
        "variant": int(sim.variant),
        "parameters": sim.parameters,
        "agent": getattr(agent, "name", "none") if agent is not None else "none",
        "agents": {"ego": getattr(agent, "name", "autopilot")} if agent is not None else {},
        "in_engine": bool(sim.in_engine),
        "record_every": int(sim.record_every),
        "timing": {
            "control_latency_s": sim.timing.latency_s,
            "compute_budget_s": sim.timing.budget_s,
            "late_policy": sim.timing.late_policy,
        },
        "end": sim.end.model_dump(mode="json"),
        "criteria": _criteria_adapter().dump_python(sim.criteria, mode="json"),
        "regulation": sim.regulation.model_dump(mode="json") if sim.regulation is not None else None,
        "emergency_vehicles": list(sim.emergency_vehicles),
    }


@functools.cache
def _criteria_adapter() -> Any:
    """The pydantic adapter that dumps a list of criteria (built once: about 1 ms each time)."""
    from pydantic import TypeAdapter

    from simcore.scenario.schema import CriterionSpec

    return TypeAdapter(list[CriterionSpec])


def snapshot_portable(sim: Any) -> bool:
    """Can ``sim``'s state go into a log now? Not while a scripted speed profile runs or a delayed
    storyboard trigger is latched (Python objects the snapshot does not carry); later snapshots do."""
    story = getattr(sim, "_story", None)
    scripted = getattr(sim, "scripted", None)
    return not (scripted is not None and scripted.profiles) and not (story is not None and story.first_held)


def encode_snapshot(sim: Any, initial_bytes: list[bytes] | None = None) -> bytes:
    """``sim.snapshot()`` as bytes: a JSON header (the run record, and name, dtype and shape of each array)
    and the raw bytes of the EngineState arrays whose bits differ from the initial state (the others are
    the rebuilt world's). ``initial_bytes``: each array of ``sim.initial`` as bytes, when the caller keeps them."""
    snap = sim.snapshot()
    init_b = initial_bytes or [a.tobytes() for a in sim.initial]
    changed = [
        (name, np.ascontiguousarray(arr))
        for name, arr, init, ib in zip(snap.state._fields, snap.state, sim.initial, init_b, strict=True)
        if arr.shape != init.shape or arr.tobytes() != ib
    ]
    story = snap.story
    header = {
        "step": int(snap.state.step[0]),
        "t": float(snap.t),
        "n_events": len(snap.events),
        "collisions_info": snap.collisions_info,
        "termination": snap.termination,
        "story_end": snap.story_end,
        "story": None
        if story is None
        else {"fired_at": story.fired_at, "done": story.done, "applied_at": story.applied_at},
        "environment": snap.world_extra.environment if snap.world_extra is not None else None,
        "rec_rows": int(snap.rec_rows),
        "rec_total": int(snap.rec_total),
        "late_controls": snap.late_controls,
        "state_hash": str(int(snap.state_hash)),
        "arrays": [[name, arr.dtype.str, list(arr.shape)] for name, arr in changed],
    }
    head = json.dumps(header, separators=(",", ":")).encode()  # inf/nan allowed: Python's json reads them
    return b"".join([struct.pack("<I", len(head)), head, *(arr.tobytes() for _, arr in changed)])


def decode_snapshot(data: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """A ``simcore.snapshot`` message: (header, EngineState arrays that differ from the initial state)."""
    (n,) = struct.unpack_from("<I", data)
    header = json.loads(data[4 : 4 + n])
    arrays, off = {}, 4 + n
    for name, dtype, shape in header["arrays"]:
        dt = np.dtype(dtype)
        if dt.hasobject:
            raise LogFormatError(f"snapshot array {name}: dtype {dtype} is not a plain number type")
        count = int(np.prod(shape))
        arrays[name] = np.frombuffer(data, dtype=dt, count=count, offset=off).reshape(shape).copy()
        off += count * dt.itemsize
    if off != len(data):
        raise LogFormatError(f"snapshot message of {len(data)} bytes, its header names {off}")
    return header, arrays


@functools.cache
def rec_fields() -> tuple[str, ...]:
    """The recorder's per-row fields (``simcore.record.trajectory.FIELDS``)."""
    from simcore.record.trajectory import FIELDS

    return tuple(FIELDS)


# -- reading -----------------------------------------------------------------------------
@dataclass
class RunLog:
    """A run log read back: arrays per channel (SI units, times in s)."""

    meta: dict[str, Any]
    #: /simcore/state: time (rows,), x, y, yaw, speed, active (rows, n), signals (rows, groups).
    state: dict[str, np.ndarray]
    events: list[dict[str, Any]] = field(default_factory=list)
    #: /simcore/controls: time (k,), accel, steer (k, roles); roles in ``controls_roles``.
    controls: dict[str, np.ndarray] = field(default_factory=dict)
    controls_roles: list[str] = field(default_factory=list)
    result: dict[str, Any] | None = None
    #: /map: layer name -> (colour, closed, [(k, 2) points]).
    map_layers: dict[str, tuple[str, bool, list[np.ndarray]]] = field(default_factory=dict)
    #: /simcore/observations: one ``observation_summary`` per agent step (with its ``role``).
    observations: list[dict[str, Any]] = field(default_factory=list)
    #: Exact time (s) of each event of ``events`` (their JSON rounds to microseconds).
    event_times: list[float] = field(default_factory=list)
    #: /simcore/snapshot: step of each snapshot, and (with ``snapshots=True``) its bytes (``decode_snapshot``).
    snapshot_steps: list[int] = field(default_factory=list)
    snapshots: list[bytes] = field(default_factory=list)
    #: /sensors/...: topic -> its messages as numpy arrays (``report.sensorlog.SensorChannel``).
    sensors: dict[str, SensorChannel] = field(default_factory=dict)
    #: Sensor mounts from /tf: child frame (``ego/NAME``, ``ego/NAME/optical``) -> parent, xyz (m), rotation.
    mounts: dict[str, dict[str, Any]] = field(default_factory=dict)


class LogFormatError(ValueError):
    """The file is not a simcore run log this version can read."""


def read_run_log(
    path: str | Path, max_rows: int | None = None, snapshots: bool = False, sensors: bool = True, images: bool = True
) -> RunLog:
    """Read ``path`` (a run.mcap, or a run folder holding one).

    ``max_rows``: keep at most this many state rows, evenly strided with the last one
    included (bounded memory for long runs); None keeps every row.
    ``snapshots``: keep the engine-state snapshots' bytes too (replay, rescore).
    ``sensors``: decode the /sensors/ channels and mounts (``RunLog.sensors``); ``images``: camera
    images and calibrations among them (every frame is held in memory).
    """
    from mcap.reader import make_reader  # the reader: 3-10 ms of import a writing run does not need

    p = Path(path)
    if p.is_dir():
        p = p / RUN_MCAP
    with open(p, "rb") as fh:
        reader = make_reader(fh)
        meta: dict[str, Any] | None = None
        blocks: list[bytes] = []
        log = RunLog(meta={}, state={})
        ctrl_t, ctrl_a, ctrl_s = [], [], []
        collector = SensorCollector(images=images)
        for schema, channel, message in reader.iter_messages(log_time_order=True):
            topic = channel.topic
            if topic.startswith("/sensors/"):
                if sensors:
                    collector.add(schema, channel, message.data)
            elif topic == "/tf":
                if sensors:
                    collector.add_tf(message.data, channel.message_encoding)
            elif topic == "/simcore/state":
                blocks.append(message.data)
            elif topic == "/simcore/snapshot":
                (hn,) = struct.unpack_from("<I", message.data)
                log.snapshot_steps.append(int(json.loads(message.data[4 : 4 + hn])["step"]))
                if snapshots:
                    log.snapshots.append(message.data)
            elif topic == "/simcore/meta":
                meta = json.loads(message.data)
                if meta.get("simcore_log", 0) > LOG_VERSION:
                    raise LogFormatError(f"{p}: log format {meta['simcore_log']} is newer than {LOG_VERSION}")
            elif topic == "/simcore/events":
                ev = json.loads(message.data)
                log.event_times.append(float(ev.pop("t", ev["time_s"])))
                log.events.append(ev)
            elif topic == "/simcore/controls":
                c = json.loads(message.data)
                log.controls_roles = c["roles"]
                ctrl_t.append(c["time_s"])
                ctrl_a.append(c["accel_mps2"])
                ctrl_s.append(c["steer_rad"])
            elif topic == "/simcore/observations":
                log.observations.append(json.loads(message.data))
            elif topic == "/simcore/result":
                log.result = json.loads(message.data)
            elif topic == "/map":
                if channel.message_encoding == "cdr":
                    log.map_layers.update(_layers_from_cdr(fc.read_scene(message.data)))
                else:  # version 2 logs
                    log.map_layers.update(_layers_from_scene(json.loads(message.data)))
    if meta is None:
        raise LogFormatError(f"{p}: no /simcore/meta channel: not a simcore run log")
    log.meta = meta
    log.state = _decode_states(
        blocks, len(meta["actor_ids"]), len(meta["signal_groups"]), meta.get("simcore_log", 1), max_rows
    )
    if ctrl_t:
        log.controls = {"time": np.array(ctrl_t), "accel": np.array(ctrl_a), "steer": np.array(ctrl_s)}
    log.sensors, log.mounts = collector.channels(), collector.mounts
    return log


def _decode_states(blocks: list[bytes], n: int, g: int, version: int, max_rows: int | None) -> dict[str, np.ndarray]:
    """Stack raw state messages (blocks of rows; version 1: one row each, no count) into arrays, keeping at
    most ``max_rows`` rows at an even stride with the first and last (``TrajectoryRecorder.view``'s rows)."""
    names = (("time", "<f8"), *STATE_FIELDS, ("signals", "|i1"))
    row_w = [8] + [np.dtype(dt).itemsize * n for _, dt in STATE_FIELDS] + [g]
    head = 4 if version >= 2 else 0
    counts = [struct.unpack_from("<I", b)[0] if head else 1 for b in blocks]
    total = sum(counts)
    if max_rows is None or total <= max_rows:
        keep = np.arange(total)
    else:
        stride = -(-(total - 1) // max(max_rows - 1, 1))
        keep = np.unique(np.append(np.arange(0, total, stride), total - 1))
    out: dict[str, list[np.ndarray]] = {name: [] for name, _ in names}
    start = 0
    for data, k in zip(blocks, counts, strict=True):
        if len(data) != head + k * sum(row_w):
            raise LogFormatError(f"state message of {len(data)} bytes, expected {head + k * sum(row_w)} for {k} rows")
        sel = keep[(keep >= start) & (keep < start + k)] - start
        start += k
        if sel.size == 0:
            continue
        off = head
        for (name, dt), w in zip(names, row_w, strict=True):
            col = np.frombuffer(data, dtype=dt, count=k * w // np.dtype(dt).itemsize, offset=off)
            col = col.reshape(k, -1)[sel]
            out[name].append(col[:, 0] if name == "time" else col)
            off += k * w
    res: dict[str, np.ndarray] = {}
    for name, dt in names:
        width = () if name == "time" else (g if name == "signals" else n,)
        arr = np.concatenate(out[name]) if out[name] else np.zeros((0, *width), dtype=dt)
        res[name] = arr.astype(arr.dtype.newbyteorder("="))
    res["active"] = res["active"].astype(np.bool_)
    return res


def _layers_from_cdr(ents: list[dict[str, Any]]) -> dict[str, tuple[str, bool, list[np.ndarray]]]:
    out = {}
    for ent in ents:
        if not ent["id"].startswith("map/") or not ent["lines"]:
            continue
        c = ent["lines"][0]["color"]
        colour = "#{:02x}{:02x}{:02x}".format(*(round(float(v) * 255) for v in c[:3]))
        out[ent["id"][4:]] = (colour, ent["lines"][0]["type"] == 1, [ln["points"][:, :2] for ln in ent["lines"]])
    return out


def _layers_from_scene(msg: dict[str, Any]) -> dict[str, tuple[str, bool, list[np.ndarray]]]:
    out = {}
    for ent in msg["entities"]:
        if not ent["id"].startswith("map/") or not ent["lines"]:
            continue
        c = ent["lines"][0]["color"]
        colour = "#{:02x}{:02x}{:02x}".format(*(round(c[k] * 255) for k in "rgb"))
        polys = [np.array([[q["x"], q["y"]] for q in ln["points"]]) for ln in ent["lines"]]
        out[ent["id"][4:]] = (colour, ent["lines"][0]["type"] == 1, polys)
    return out
