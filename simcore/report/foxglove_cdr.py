"""Foxglove scene messages in the ROS 2 encoding (CDR, ``report.cdr``): the map and actor boxes
(``foxglove_msgs/msg/SceneUpdate``), frame transforms (``foxglove_msgs/msg/FrameTransforms``), GNSS fixes
(``foxglove_msgs/msg/LocationFix``) and IMU samples (``sensor_msgs/msg/Imu``), and their decoders.

Why CDR and not JSON: the actor boxes are most of a run log's messages, and a fixed binary layout lets a
whole block of frames be encoded in a few numpy operations (``ActorsScene.messages``, ``transforms``),
where JSON formats every number as text. Foxglove decodes these channels by their ``ros2msg`` schema
(no plug-in). Frames: poses are in the ENU map frame ``map`` (m, rad).
"""

from __future__ import annotations

import functools
import math
import struct
from collections.abc import Callable
from typing import Any

import numpy as np

from simcore.report.cdr import CDR_LE, CdrReader, CdrWriter, scatter, split_ns

#: Schema names (ROS 2) of the message types here; Foxglove recognises them by these names.
SCENE_UPDATE = "foxglove_msgs/msg/SceneUpdate"
FRAME_TRANSFORMS = "foxglove_msgs/msg/FrameTransforms"
LOCATION_FIX = "foxglove_msgs/msg/LocationFix"
IMU = "sensor_msgs/msg/Imu"
#: Frame every world pose is given in (ENU map frame, m).
MAP_FRAME = "map"
#: Most actor-set layouts an ``ActorsScene`` keeps (one per distinct set of active actors).
_LAYOUT_CACHE = 64
#: A CubePrimitive: pose (position, orientation), size, colour, all doubles.
_CUBE = struct.Struct("<14d")
#: Entity lists of a SceneEntity after ``metadata``, in order (simcore fills cubes and lines only).
_LISTS = ("arrows", "cubes", "spheres", "cylinders", "lines", "triangles", "texts", "models")


def _quat(yaw: float) -> tuple[float, float, float, float]:
    return 0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)


def _entity_head(w: CdrWriter, t: float, eid: str, lifetime_s: float) -> None:
    """A SceneEntity's fields up to (and with) its empty metadata and arrows lists, in the map frame."""
    w.time(t)
    w.string(MAP_FRAME)
    w.string(eid)
    w.time(lifetime_s)
    w.u8(0)  # frame_locked
    w.empty(2)  # metadata, arrows


def _rgba(hex_colour: str, a: float = 1.0) -> tuple[float, float, float, float]:
    v = int(hex_colour.lstrip("#"), 16)
    return (v >> 16 & 255) / 255, (v >> 8 & 255) / 255, (v & 255) / 255, a


def line_scene(t: float, layers: dict[str, tuple[str, bool, list[np.ndarray]]], thickness: float = 0.15) -> bytes:
    """SceneUpdate with one entity ``map/NAME`` per layer (``NAME -> (colour, closed, [(k, 2) m points])``),
    each polyline a line strip (loop if ``closed``) at z = 0 (``packed_line_scene`` of the layers packed)."""
    packed = {}
    for name, (colour, closed, polys) in layers.items():
        pts = [np.asarray(p, dtype=float).reshape(-1, 2) for p in polys]
        xy = np.concatenate(pts) if pts else np.empty((0, 2))
        packed[name] = (colour, closed, xy, np.array([len(p) for p in pts], dtype=np.int64))
    return packed_line_scene(t, packed, thickness)


def packed_line_scene(
    t: float, layers: dict[str, tuple[str, bool, np.ndarray, np.ndarray]], thickness: float = 0.15
) -> bytes:
    """``line_scene`` of layers given packed: ``NAME -> (colour, closed, points (N, 2) m, point count of each
    polyline)``. A layer's points go in as one array of doubles; each line adds only its packed head and
    tail (``_line_strips``)."""
    parts: list[bytes | memoryview] = [CDR_LE, struct.pack("<II", 0, len(layers))]  # no deletions; entity count
    off = 8  # payload offset (alignment is relative to it)

    def fields(fill: Callable[[CdrWriter], None]) -> None:
        nonlocal off
        w = CdrWriter(start=off % 8)
        fill(w)
        parts.append(bytes(w.buf[off % 8 :]))
        off += len(w.buf) - off % 8

    for name, (colour, closed, xy, counts) in layers.items():

        def head(w: CdrWriter, eid: str = f"map/{name}", count: int = len(counts)) -> None:
            _entity_head(w, t, eid, 0.0)
            w.empty(3)  # cubes, spheres, cylinders
            w.u32(count)

        fields(head)
        if len(counts):
            lines = _line_strips(xy, counts, 1 if closed else 0, thickness, _rgba(colour), -(off + 1) % 8)
            parts.append(lines)
            off += len(lines)
        parts.append(bytes(12))  # triangles, texts, models: three empty lists (4-aligned after lines or count)
        off += 12
    return b"".join(parts)


#: A LinePrimitive up to its points, as each line after a layer's first has it (7 bytes of padding after the
#: type: it starts 8-aligned), and its tail (colour, no per-point colours, no indices).
_LINE_HEAD = np.dtype({"names": ["type", "pose", "thickness", "scale_invariant", "count"],
                       "formats": ["u1", ("<f8", 7), "<f8", "u1", "<u4"], "offsets": [0, 8, 64, 72, 76],
                       "itemsize": 80})  # fmt: skip
_LINE_TAIL = struct.Struct("<4dII")


def _line_strips(
    xy: np.ndarray, counts: np.ndarray, kind: int, thickness: float, rgba: tuple[float, ...], pad0: int
) -> bytes:
    """A layer's LinePrimitives (``xy``: (N, 2) m, z = 0, ``counts[i]`` points for line i), the first with
    ``pad0`` bytes of padding after its type (its offset is 1 past a multiple of 8 less than that). Every
    line's layout is fixed but for its point count (after one line, the next starts 8-aligned): the heads
    are packed by one NumPy assignment and the points go in as one array of doubles."""
    heads = np.zeros(len(counts), dtype=_LINE_HEAD)
    heads["type"], heads["thickness"], heads["count"] = kind, thickness, counts
    heads["pose"][:, 6] = 1.0  # orientation w
    xyz = np.empty((int(counts.sum()), 3), dtype="<f8")
    xyz[:, 2] = 0.0
    xyz[:, :2] = xy
    hb, raw, tail, w = heads.tobytes(), xyz.data.cast("B"), _LINE_TAIL.pack(*rgba, 0, 0), _LINE_HEAD.itemsize
    ends = (24 * np.cumsum(counts)).tolist()
    parts: list[bytes | memoryview] = [hb[:1], hb[8 - pad0 : w]]
    for i, (lo, hi) in enumerate(zip([0, *ends[:-1]], ends, strict=True)):
        if i:
            parts.append(hb[i * w : i * w + w])
        parts += (raw[lo:hi], tail)
    return b"".join(parts)


class ActorsScene:
    """SceneUpdate messages with one box per active actor, many frames at once: each actor's entity is a byte
    template (id, size, colour filled in once, for both 8-byte phases it can start at); a block of frames is
    the templates tiled, with every frame's times and poses written in by one numpy assignment."""

    def __init__(self, ids: list[str], length: np.ndarray, width: np.ndarray, height: np.ndarray,
                 colours: list[str], lifetime_s: float) -> None:  # fmt: skip
        #: Per actor, per phase (entity start offset mod 8 = 0 or 4): (template bytes, pose offset in it).
        self._tpl: list[tuple[tuple[bytes, int], tuple[bytes, int]]] = []
        colour_rgba = {c: _rgba(c) for c in set(colours)}
        tail = bytes(24)  # spheres ... models: six empty lists
        # The head's fields are at most 4-aligned, so its bytes are the same at either phase; only the padding
        # before the cube's doubles differs. The fields before and after the id are the same for every actor.
        w = CdrWriter()
        _entity_head(w, 0.0, "", lifetime_s)
        w.u32(1)  # one cube
        blank = bytes(w.buf)
        w = CdrWriter()
        w.time(0.0)
        w.string(MAP_FRAME)
        at = len(w.buf)  # where the id goes (4-aligned)
        before, after = blank[:at], blank[at + 8 :]  # the empty id: its length (4) and NUL, padded to 8
        for i, eid in enumerate(ids):
            b = eid.encode() + b"\0"
            head = before + struct.pack("<I", len(b)) + b + bytes(-len(b) % 4) + after
            h = float(height[i])
            body = _CUBE.pack(0.0, 0.0, h / 2, 0.0, 0.0, 0.0, 1.0, float(length[i]), float(width[i]), h,
                              *colour_rgba[colours[i]]) + tail  # fmt: skip
            both = []
            for phase in (0, 4):
                pad = -(phase + len(head)) % 8
                both.append((head + bytes(pad) + body, len(head) + pad))
            self._tpl.append((both[0], both[1]))
        self._layouts: dict[bytes, tuple[np.ndarray, int, np.ndarray, np.ndarray]] = {}

    def _layout(self, rows: np.ndarray) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
        """Message template for the actors ``rows``, placed 4 bytes into a row of a multiple of 8 bytes so that
        the CDR payload (after the 4-byte header) starts 8-aligned: the row, the message length, and where each
        frame's values go: the 4-byte column of each entity's stamp (seconds, nanoseconds in the next) and the
        8-byte columns of its position x, y and orientation z, w (in row order)."""
        key = rows.tobytes()
        if key not in self._layouts:
            if len(self._layouts) >= _LAYOUT_CACHE:
                self._layouts.clear()
            off, parts, starts, poses = 8, [], [], []  # payload offset after the two list lengths
            for i in rows.tolist():
                tpl, pose = self._tpl[i][(off % 8) // 4]
                parts.append(tpl)
                starts.append(off)
                poses.append(off + pose)
                off += len(tpl)
            data = CDR_LE + struct.pack("<II", 0, len(parts)) + b"".join(parts)
            row = np.zeros(-(-(len(data) + 4) // 8) * 8, dtype=np.uint8)
            row[4 : 4 + len(data)] = np.frombuffer(data, dtype=np.uint8)
            lead = 4 + len(CDR_LE)  # a payload offset's column in the row
            stamp = (np.array(starts, dtype=np.intp) + lead) // 4
            pose = (np.array(poses, dtype=np.intp) + lead) // 8  # position x; y next; orientation z, w at +5, +6
            self._layouts[key] = (row, len(data), stamp, (pose[:, None] + np.array([0, 1, 5, 6])).ravel())
        return self._layouts[key]

    def messages(self, t: np.ndarray, active: np.ndarray, cx: np.ndarray, cy: np.ndarray,
                 yaw: np.ndarray) -> list[bytes]:  # fmt: skip
        """One SceneUpdate per frame: times ``t`` (k,) s; ``active`` (k, n) which actors are shown; box
        centres ``cx, cy`` (k, n) m and ``yaw`` (k, n) rad in the map frame."""
        return frames_of(self.groups(t, active, cx, cy, yaw), len(t))

    def groups(self, t: np.ndarray, active: np.ndarray, cx: np.ndarray, cy: np.ndarray,
               yaw: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:  # fmt: skip
        """``messages`` as (frame indices, their messages as rows of bytes (frames, length)) per set of active
        actors (usually one for a whole block)."""
        groups: dict[bytes, list[int]] = {}  # frames by their set of active actors
        active = np.asarray(active, dtype=bool)
        if (active == active[:1]).all():  # the usual case: one set of actors for the whole block
            groups[b""] = list(range(len(t)))
        else:
            for k, key in enumerate(np.packbits(active, axis=1)):
                groups.setdefault(key.tobytes(), []).append(k)
        ns = np.round(np.asarray(t, dtype=float) * 1e9).astype(np.int64)
        out = []
        for frames in groups.values():
            ks = np.array(frames, dtype=np.intp)
            rows = np.flatnonzero(active[ks[0]])
            tpl, size, stamp, pose = self._layout(rows)
            buf = np.tile(tpl, (ks.size, 1))
            words = buf.view("<u4")
            words[:, stamp] = (ns[ks] // 1_000_000_000)[:, None]  # int32 seconds: the same bits for t >= 0
            words[:, stamp + 1] = (ns[ks] % 1_000_000_000)[:, None]
            sel = np.ix_(ks, rows)
            half = yaw[sel] / 2
            buf.view("<f8")[:, pose] = np.stack([cx[sel], cy[sel], np.sin(half), np.cos(half)], axis=2).reshape(
                ks.size, -1
            )
            out.append((ks, buf[:, 4 : 4 + size]))
        return out


def frames_of(groups: list[tuple[np.ndarray, np.ndarray]], k: int) -> list[bytes]:
    """``ActorsScene.groups`` as ``k`` messages in frame order."""
    out: list[bytes] = [b""] * k
    for ks, rows in groups:
        for j, f in enumerate(ks.tolist()):
            out[f] = rows[j].tobytes()  # row by row: no large temporary (each costs page faults anew)
    return out


@functools.cache
def _transform_template(parent: str, child: str) -> tuple[np.ndarray, int, int]:
    """A one-transform FrameTransforms with zero pose: bytes, time offset, translation offset (rotation +24)."""
    w = CdrWriter()
    w.u32(1)
    stamp = len(w.buf)
    w.time(0.0)
    w.string(parent)
    w.string(child)
    w.align(8)
    at = len(w.buf)
    w.f64(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
    return np.frombuffer(w.message(), dtype=np.uint8), stamp + 4, at + 4


def transforms(t: np.ndarray, child: str, x: np.ndarray, y: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """One FrameTransforms per frame: ``child`` at ``(x, y)`` m, heading ``yaw`` rad in the map frame at
    times ``t`` (k,) s, encoded together: the messages as rows of bytes (k, length)."""
    tpl, stamp, at = _transform_template(MAP_FRAME, child)
    buf = np.tile(tpl, (len(t), 1))
    ns = np.round(np.asarray(t, dtype=float) * 1e9).astype(np.int64)
    scatter(buf, [stamp], ns[:, None] // 1_000_000_000, "<i4")
    scatter(buf, [stamp + 4], ns[:, None] % 1_000_000_000, "<u4")
    half = np.asarray(yaw, dtype=float) / 2
    scatter(buf, [at, at + 8, at + 40, at + 48], np.column_stack([x, y, np.sin(half), np.cos(half)]), "<f8")
    return buf


def transform(t: float, parent: str, child: str, xyz: tuple[float, float, float], q: dict[str, float]) -> bytes:
    """FrameTransforms message: ``child`` at ``xyz`` (m) in ``parent``, rotated by the quaternion ``q``."""
    w = CdrWriter()
    w.u32(1)
    w.time(t)
    w.string(parent)
    w.string(child)
    w.f64(*(float(v) for v in xyz))
    w.f64(*(float(q[k]) for k in "xyzw"))
    return w.message()


def imu(t: float, frame: str, accel: np.ndarray, gyro: np.ndarray, accel_var: float, gyro_var: float) -> bytes:
    """sensor_msgs/Imu: specific force ``accel`` (3,) m/s² and rates ``gyro`` (3,) rad/s in ``frame``; no
    orientation (its covariance's first element is -1, the ROS convention); the white-noise variances on the
    diagonals."""
    w = CdrWriter()
    w.time(t)
    w.string(frame)
    w.f64(0.0, 0.0, 0.0, 1.0)
    w.f64_array(np.diag([-1.0, 0.0, 0.0]).ravel())
    w.f64_array(np.asarray(gyro, dtype=float))
    w.f64_array((np.eye(3) * gyro_var).ravel())
    w.f64_array(np.asarray(accel, dtype=float))
    w.f64_array((np.eye(3) * accel_var).ravel())
    return w.message()


def read_imu(data: bytes) -> tuple[float, str, np.ndarray, np.ndarray]:
    """An ``imu`` message back: (time s, frame, accel (3,) m/s², gyro (3,) rad/s)."""
    r = CdrReader(data)
    t, frame = r.time(), r.string()
    r.f64(4 + 9)
    gyro = r.f64_array(3)
    r.f64(9)
    return t, frame, r.f64_array(3), gyro


def location_fix(t: float, frame: str, lat_lon_alt: tuple[float, float, float], var_enu: tuple[float, float, float],
                 heading: float, heading_var: float, vel_enu: np.ndarray) -> bytes:  # fmt: skip
    """foxglove LocationFix: latitude, longitude (deg), altitude (m); position variances east, north, up (m²,
    diagonal known); ``heading`` rad clockwise from north; velocity east, north, up (m/s)."""
    w = CdrWriter()
    w.time(t)
    w.string(frame)
    w.f64(*lat_lon_alt)
    w.f64_array(np.diag(var_enu).ravel())
    w.u8(2)  # DIAGONAL_KNOWN
    w.f64(heading, heading_var, *(float(v) for v in vel_enu))
    return w.message()


def read_location_fix(data: bytes) -> dict[str, Any]:
    """A ``location_fix`` message back as plain values."""
    r = CdrReader(data)
    out: dict[str, Any] = {"time": r.time(), "frame_id": r.string()}
    out["lat_lon_alt"] = r.f64_array(3)
    out["covariance"] = r.f64_array(9).reshape(3, 3)
    out["covariance_type"] = r.u8()
    out["heading"], out["heading_variance"] = r.f64(2)
    out["velocity"] = r.f64_array(3)
    return out


def read_scene(data: bytes) -> list[dict[str, Any]]:
    """A SceneUpdate written here, decoded: its entities (``id``, ``frame_id``, ``timestamp`` s, ``cubes``:
    [(pose (7,), size (3,), colour (4,))], ``lines``: [{"type", "points" (k, 3), "color" (4,)}]). Deletions
    are skipped; other primitives raise ValueError (simcore writes none)."""
    r = CdrReader(data)
    for _ in range(r.u32()):
        r.time(), r.u8(), r.string()
    ents = []
    for _ in range(r.u32()):
        ent: dict[str, Any] = {"timestamp": r.time(), "frame_id": r.string(), "id": r.string()}
        r.time(), r.u8()
        for _ in range(r.u32()):
            r.string(), r.string()
        for name in _LISTS:
            count = r.u32()
            if name == "cubes":
                ent["cubes"] = [(r.f64_array(7), r.f64_array(3), r.f64_array(4)) for _ in range(count)]
            elif name == "lines":
                lines = []
                for _ in range(count):
                    kind = r.u8()
                    r.f64(8)
                    r.u8()
                    pts = r.f64_array(3 * r.u32()).reshape(-1, 3)
                    colour = r.f64_array(4)
                    r.f64(4 * r.u32())
                    for _ in range(r.u32()):
                        r.u32()
                    lines.append({"type": kind, "points": pts, "color": colour})
                ent["lines"] = lines
            elif count:
                raise ValueError(f"SceneEntity {ent['id']!r}: {name} are not read")
        ents.append(ent)
    return ents


def read_transforms(data: bytes) -> list[dict[str, Any]]:
    """A FrameTransforms message: [{"timestamp" s, "parent_frame_id", "child_frame_id", "translation" (3,),
    "rotation" {"x", "y", "z", "w"}}]."""
    r = CdrReader(data)
    out = []
    for _ in range(r.u32()):
        tf: dict[str, Any] = {"timestamp": r.time(), "parent_frame_id": r.string(), "child_frame_id": r.string()}
        tf["translation"] = r.f64_array(3)
        tf["rotation"] = dict(zip("xyzw", r.f64(4), strict=True))
        out.append(tf)
    return out


__all__ = [
    "FRAME_TRANSFORMS", "IMU", "LOCATION_FIX", "MAP_FRAME", "SCENE_UPDATE", "ActorsScene", "imu", "line_scene",
    "location_fix", "read_imu", "read_location_fix", "read_scene", "read_transforms", "split_ns", "transform",
    "transforms",
]  # fmt: skip
