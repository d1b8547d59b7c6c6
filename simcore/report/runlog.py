"""Run log in MCAP, written while the run goes (bounded memory), and its reader (numpy per channel).

Channels (log time = simulated time, ns from 0):

================  ==========================  =========================================
topic             schema (encoding)            content
================  ==========================  =========================================
/simcore/meta     simcore.RunMeta (json)       once: format version, scenario, seed, dt,
                                               actor ids, kinds, sizes, ego, signal groups
/simcore/state    simcore.ActorStates (raw)    every recorded row: time, x, y, yaw, speed,
                                               active of every actor, signal states
/simcore/events   simcore.Event (json)         each event at its time
/simcore/controls simcore.Controls (json)      controlled vehicles' accel (m/s²), steer (rad)
/simcore/result   simcore.Result (json)        at the end: result.json (scores, criteria, metrics)
/map              foxglove.SceneUpdate         once: map polylines, one entity per layer
/actors           foxglove.SceneUpdate         actor boxes at up to ``scene_hz``
/tf               foxglove.FrameTransforms     map -> ego at the same rate
================  ==========================  =========================================

``simcore.raw`` messages are little-endian arrays one after the other: time f8, x, y, yaw, speed
f8[n], active u1[n], signals i1[groups] (layout in the schema's data, versioned).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
from mcap.reader import make_reader
from mcap.writer import Writer

from simcore._types import ActorKind
from simcore.report import foxglove as fg
from simcore.world import World

#: Version of the simcore channels' layout; readers refuse a newer one.
LOG_VERSION = 1
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
#: Box colour per actor kind; the ego is EGO_COLOUR.
KIND_COLOUR = {
    ActorKind.VEHICLE: "#e6e6e6",
    ActorKind.PEDESTRIAN: "#f2c14e",
    ActorKind.CYCLIST: "#7fc97f",
    ActorKind.STATIC: "#a0522d",
}
EGO_COLOUR = "#1f77b4"


def _json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()


def _ns(t: float) -> int:
    return round(t * 1e9)


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
    rows recorded since the last call (still in the recorder's buffer), new events and the
    controlled vehicles' controls are appended; ``finish(result)`` adds result.json and closes.
    Memory: one MCAP chunk (``chunk_bytes``) whatever the run's length.

    ``scene_hz``: rate (Hz of simulated time) of the Foxglove actor boxes and ego transform.
    """

    def __init__(self, path: Path, world: World, *, scene_hz: float = 10.0, chunk_bytes: int = 1 << 20) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[bytes] = open(self.path, "wb")  # noqa: SIM115 (closed by finish)
        self._w = Writer(self._fh, chunk_size=chunk_bytes)
        self._w.start(profile="", library="simcore")
        self.world = world
        st, p = world.state, world.params
        self.n = int(st.n)
        self.n_signals = int(world.network.n_signals)
        self.scene_dt = 1.0 / scene_hz if scene_hz > 0 else float("inf")
        self._next_scene = 0.0
        self.rows_written = 0
        self.events_written = 0
        #: Wall time (s) spent in ``on_advance`` so far: the log's cost inside the run.
        self.busy_s = 0.0
        kinds = [ActorKind(int(k)) for k in st.kind]
        self._ids = list(world.actor_ids)
        self._colours = [EGO_COLOUR if i == world.ego else KIND_COLOUR[k] for i, k in enumerate(kinds)]
        self._height = np.array([HEIGHT_M[k] for k in kinds])
        self._length, self._width = np.asarray(p["length"], float), np.asarray(p["width"], float)
        self._offset = np.asarray(p["center_offset"], float)
        life = 2 * self.scene_dt if np.isfinite(self.scene_dt) else 0.0
        self._scene = fg.ActorsScene(self._ids, self._length, self._width, self._height, self._colours, life)
        layout = {"version": LOG_VERSION, "time": "<f8", "per_actor": STATE_FIELDS, "signals": "|i1"}
        ch: dict[str, int] = {}
        for topic, name, enc, data in (
            ("/simcore/meta", "simcore.RunMeta", "json", None),
            ("/simcore/state", "simcore.ActorStates", "simcore.raw", json.dumps(layout).encode()),
            ("/simcore/events", "simcore.Event", "json", None),
            ("/simcore/controls", "simcore.Controls", "json", None),
            ("/simcore/result", "simcore.Result", "json", None),
            ("/map", "foxglove.SceneUpdate", "json", fg.schema_bytes("foxglove.SceneUpdate")),
            ("/actors", "foxglove.SceneUpdate", "json", fg.schema_bytes("foxglove.SceneUpdate")),
            ("/tf", "foxglove.FrameTransforms", "json", fg.schema_bytes("foxglove.FrameTransforms")),
        ):
            if data is None:
                data = _json({"title": name, "type": "object", "simcore_log": LOG_VERSION})
            schema_enc = "simcore.layout" if enc == "simcore.raw" else "jsonschema"
            sid = self._w.register_schema(name=name, encoding=schema_enc, data=data)
            ch[topic] = self._w.register_channel(topic=topic, message_encoding=enc, schema_id=sid)
        self._ch = ch
        self._seq: dict[str, int] = dict.fromkeys(ch, 0)
        self._add("/simcore/meta", 0.0, _json(world_meta(world)))
        self._add("/map", 0.0, self._map_scene())

    # -- writing ------------------------------------------------------------------------
    def _add(self, topic: str, t: float, data: bytes) -> None:
        ns = _ns(t)
        self._w.add_message(self._ch[topic], log_time=ns, data=data, publish_time=ns, sequence=self._seq[topic])
        self._seq[topic] += 1

    def _map_scene(self) -> bytes:
        from simcore.render.map_view import map_layers

        ents = []
        for name, (colour, closed, polys) in map_layers(self.world.network).items():
            lines = [fg.polyline(p, colour, closed=closed) for p in polys]
            ents.append(fg.entity(f"map/{name}", 0.0, lines=lines))
        return fg.scene_update(ents)

    def attach(self, sim: Any) -> RunLogWriter:
        """Write ``sim``'s rows as it runs (hooked to ``Simulation.on_advance``); returns self."""
        sim.on_advance.append(self.on_advance)
        self.on_advance(sim)
        return self

    def on_advance(self, sim: Any) -> None:
        """Append what ``sim`` recorded since the last call (rows, events, controls)."""
        t0 = time.perf_counter()
        self._append(sim)
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
            self._add("/simcore/events", ev.time, _json(ev.to_json()))
        self.events_written = len(sim.events)
        roles: dict[str, int] = getattr(sim, "_roles", {})
        if roles and sim.step_index > 0:
            rws = list(roles.values())
            msg = {
                "time_s": sim.t,
                "roles": list(roles),
                "accel_mps2": [float(sim.ctrl_accel[r]) for r in rws],
                "steer_rad": [float(sim.ctrl_steer[r]) for r in rws],
            }
            self._add("/simcore/controls", sim.t, _json(msg))

    def write_rows(self, rows: dict[str, np.ndarray]) -> None:
        """Append recorded rows: ``time`` (k,), per-actor fields (k, n), ``signals`` (k, groups)."""
        ego = self.world.ego
        for k in range(rows["time"].shape[0]):
            t = float(rows["time"][k])
            parts = [np.asarray(t, "<f8").tobytes()]
            parts += [np.ascontiguousarray(rows[name][k], dtype=dt).tobytes() for name, dt in STATE_FIELDS]
            parts.append(np.ascontiguousarray(rows["signals"][k], dtype="|i1").tobytes())
            self._add("/simcore/state", t, b"".join(parts))
            self.rows_written += 1
            if t + 1e-9 >= self._next_scene:
                self._next_scene = t + self.scene_dt
                self._write_scene(t, rows["x"][k], rows["y"][k], rows["yaw"][k], rows["active"][k])
                if ego >= 0:
                    self._add(
                        "/tf",
                        t,
                        fg.frame_transform(t, "ego", rows["x"][k][ego], rows["y"][k][ego], rows["yaw"][k][ego]),
                    )

    def _write_scene(self, t: float, x: np.ndarray, y: np.ndarray, yaw: np.ndarray, active: np.ndarray) -> None:
        on = np.flatnonzero(active)
        c, s = np.cos(yaw[on]), np.sin(yaw[on])
        cx, cy = x[on] + self._offset[on] * c, y[on] + self._offset[on] * s
        self._add("/actors", t, self._scene.message(t, on, cx, cy, yaw[on]))

    def finish(self, result: Any = None) -> Path:
        """Write the result (scores, criteria, metrics; no timing) and close the file."""
        if result is not None:
            self._add("/simcore/result", result.sim_time, _json(result.to_json(include_timing=False)))
        self._w.finish()
        self._fh.close()
        return self.path


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


class LogFormatError(ValueError):
    """The file is not a simcore run log this version can read."""


def read_run_log(path: str | Path, max_rows: int | None = None) -> RunLog:
    """Read ``path`` (a run.mcap, or a run folder holding one).

    ``max_rows``: keep at most this many state rows, evenly strided with the last one
    included (bounded memory for long runs); None keeps every row.
    """
    p = Path(path)
    if p.is_dir():
        p = p / RUN_MCAP
    with open(p, "rb") as fh:
        reader = make_reader(fh)
        summary = reader.get_summary()
        counts: dict[int, int] = summary.statistics.channel_message_counts if summary and summary.statistics else {}
        state_id = next(
            (c.id for c in (summary.channels.values() if summary else ()) if c.topic == "/simcore/state"), -1
        )
        n_rows = counts.get(state_id, 0)
        stride = 1 if max_rows is None or n_rows <= max_rows else -(-(n_rows - 1) // max(max_rows - 1, 1))
        meta: dict[str, Any] | None = None
        rows: list[bytes] = []
        log = RunLog(meta={}, state={})
        ctrl_t, ctrl_a, ctrl_s = [], [], []
        k = 0
        for _schema, channel, message in reader.iter_messages(log_time_order=True):
            topic = channel.topic
            if topic == "/simcore/state":
                if k % stride == 0 or k == n_rows - 1:
                    rows.append(message.data)
                k += 1
            elif topic == "/simcore/meta":
                meta = json.loads(message.data)
                if meta.get("simcore_log", 0) > LOG_VERSION:
                    raise LogFormatError(f"{p}: log format {meta['simcore_log']} is newer than {LOG_VERSION}")
            elif topic == "/simcore/events":
                log.events.append(json.loads(message.data))
            elif topic == "/simcore/controls":
                c = json.loads(message.data)
                log.controls_roles = c["roles"]
                ctrl_t.append(c["time_s"])
                ctrl_a.append(c["accel_mps2"])
                ctrl_s.append(c["steer_rad"])
            elif topic == "/simcore/result":
                log.result = json.loads(message.data)
            elif topic == "/map":
                log.map_layers.update(_layers_from_scene(json.loads(message.data)))
    if meta is None:
        raise LogFormatError(f"{p}: no /simcore/meta channel: not a simcore run log")
    log.meta = meta
    log.state = _decode_states(rows, len(meta["actor_ids"]), len(meta["signal_groups"]))
    if ctrl_t:
        log.controls = {"time": np.array(ctrl_t), "accel": np.array(ctrl_a), "steer": np.array(ctrl_s)}
    return log


def _decode_states(rows: list[bytes], n: int, g: int) -> dict[str, np.ndarray]:
    """Stack raw state messages into arrays."""
    widths = [8] + [np.dtype(dt).itemsize * n for _, dt in STATE_FIELDS] + [g]
    if rows and len(rows[0]) != sum(widths):
        raise LogFormatError(f"state message of {len(rows[0])} bytes, expected {sum(widths)}")
    buf = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), sum(widths))
    out: dict[str, np.ndarray] = {}
    off = 0
    for (name, dt), w in zip((("time", "<f8"), *STATE_FIELDS, ("signals", "|i1")), widths, strict=True):
        col = np.ascontiguousarray(buf[:, off : off + w]).view(dt)
        out[name] = col[:, 0] if name == "time" else col
        off += w
    out["active"] = out["active"].astype(np.bool_)
    out = {k: v.astype(v.dtype.newbyteorder("=")) for k, v in out.items()}
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
