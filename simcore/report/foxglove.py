"""Foxglove well-known message types in their JSON encoding: the JSON schemas simcore writes into
a run log (SceneUpdate for object lists, PointCloud, ImageAnnotations, CameraCalibration), the builders of
their messages and the decoders of the binary ones (point clouds; RawImage in CDR) back to numpy. The scene
(map, actors, transforms) is CDR: ``report.foxglove_cdr``.

The schemas are written here from Foxglove's published field tables (docs "Message schemas"):
a log opens in Foxglove with no plug-in. Times are ``{"sec", "nsec"}``; bytes are base64.
"""

from __future__ import annotations

import base64
import functools
import json
import math
from typing import Any

import numpy as np

from simcore.report.cdr import CDR_LE, CdrReader, CdrWriter, schema_text

#: Frame every pose in a log is given in (ENU map frame, m).
MAP_FRAME = "map"

_NUM = {"type": "number"}
_INT = {"type": "integer"}
_STR = {"type": "string"}
_BOOL = {"type": "boolean"}


def _obj(**props: Any) -> dict[str, Any]:
    """A JSON-schema object with exactly these properties, all required."""
    return {"type": "object", "properties": props, "required": sorted(props), "additionalProperties": False}


def _arr(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


_TIME = _obj(sec=_INT, nsec=_INT)
_VEC3 = _obj(x=_NUM, y=_NUM, z=_NUM)
_QUAT = _obj(x=_NUM, y=_NUM, z=_NUM, w=_NUM)
_POSE = _obj(position=_VEC3, orientation=_QUAT)
_COLOR = _obj(r=_NUM, g=_NUM, b=_NUM, a=_NUM)
_CUBE = _obj(pose=_POSE, size=_VEC3, color=_COLOR)
_LINE = _obj(
    type={"type": "integer", "enum": [0, 1, 2]},  # LINE_STRIP, LINE_LOOP, LINE_LIST
    pose=_POSE,
    thickness=_NUM,
    scale_invariant=_BOOL,
    points=_arr(_VEC3),
    color=_COLOR,
    colors=_arr(_COLOR),
    indices=_arr(_INT),
)
_TEXT = _obj(pose=_POSE, billboard=_BOOL, font_size=_NUM, scale_invariant=_BOOL, color=_COLOR, text=_STR)
_KV = _obj(key=_STR, value=_STR)
#: Primitive lists of a SceneEntity that simcore never fills (kept empty, items unconstrained).
_UNUSED = ("arrows", "spheres", "cylinders", "triangles", "models")
_ENTITY = _obj(
    timestamp=_TIME,
    frame_id=_STR,
    id=_STR,
    lifetime=_TIME,
    frame_locked=_BOOL,
    metadata=_arr(_KV),
    cubes=_arr(_CUBE),
    lines=_arr(_LINE),
    texts=_arr(_TEXT),
    **{k: {"type": "array", "maxItems": 0} for k in _UNUSED},
)

#: JSON schema per Foxglove message type written by simcore (the subset of fields it fills).
SCHEMAS: dict[str, dict[str, Any]] = {
    "foxglove.SceneUpdate": _obj(
        deletions=_arr(_obj(timestamp=_TIME, type={"type": "integer", "enum": [0, 1]}, id=_STR)),
        entities=_arr(_ENTITY),
    ),
    "foxglove.PointCloud": _obj(
        timestamp=_TIME,
        frame_id=_STR,
        pose=_POSE,
        point_stride=_INT,
        fields=_arr(_obj(name=_STR, offset=_INT, type=_INT)),
        data={"type": "string", "contentEncoding": "base64"},
    ),
    "foxglove.ImageAnnotations": _obj(
        circles={"type": "array", "maxItems": 0},
        points=_arr(
            _obj(
                timestamp=_TIME,
                type={"type": "integer", "enum": [0, 1, 2, 3, 4]},  # UNKNOWN, POINTS, LINE_LOOP, STRIP, LIST
                points=_arr(_obj(x=_NUM, y=_NUM)),
                outline_color=_COLOR,
                outline_colors=_arr(_COLOR),
                fill_color=_COLOR,
                thickness=_NUM,
            )
        ),
        texts={"type": "array", "maxItems": 0},
    ),
    "foxglove.CameraCalibration": _obj(
        timestamp=_TIME,
        frame_id=_STR,
        width=_INT,
        height=_INT,
        distortion_model=_STR,
        D=_arr(_NUM),
        K={**_arr(_NUM), "minItems": 9, "maxItems": 9},
        R={**_arr(_NUM), "minItems": 9, "maxItems": 9},
        P={**_arr(_NUM), "minItems": 12, "maxItems": 12},
    ),
}


@functools.cache
def schema_bytes(name: str) -> bytes:
    """The JSON schema of Foxglove type ``name`` as written into the log."""
    return json.dumps({"title": name, **SCHEMAS[name]}, separators=(",", ":")).encode()


def stamp(t: float) -> dict[str, int]:
    """Time (s, >= 0) as a Foxglove ``{"sec", "nsec"}``."""
    ns = round(t * 1e9)
    return {"sec": ns // 1_000_000_000, "nsec": ns % 1_000_000_000}


def yaw_quat(yaw: float) -> dict[str, float]:
    """Rotation about +z by ``yaw`` (rad) as a quaternion."""
    return {"x": 0.0, "y": 0.0, "z": math.sin(yaw / 2), "w": math.cos(yaw / 2)}


def rgba(hex_colour: str, a: float = 1.0) -> dict[str, float]:
    """``#rrggbb`` as a Foxglove colour (0..1)."""
    v = int(hex_colour.lstrip("#"), 16)
    return {"r": (v >> 16 & 255) / 255, "g": (v >> 8 & 255) / 255, "b": (v & 255) / 255, "a": a}


def entity(eid: str, t: float, *, lifetime_s: float = 0.0, **prims: Any) -> dict[str, Any]:
    """A SceneEntity in the map frame with the given primitive lists (others empty)."""
    out: dict[str, Any] = {
        "timestamp": stamp(t),
        "frame_id": MAP_FRAME,
        "id": eid,
        "lifetime": stamp(lifetime_s),
        "frame_locked": False,
        "metadata": prims.pop("metadata", []),
        "cubes": prims.pop("cubes", []),
        "lines": prims.pop("lines", []),
        "texts": prims.pop("texts", []),
    }
    if prims:
        raise ValueError(f"unsupported primitives: {', '.join(prims)}")
    out.update({k: [] for k in _UNUSED})
    return out


_IDENT_POSE = {"position": {"x": 0.0, "y": 0.0, "z": 0.0}, "orientation": yaw_quat(0.0)}


def scene_update(entities: list[dict[str, Any]]) -> bytes:
    """A SceneUpdate message (JSON bytes) adding or replacing ``entities``."""
    return ('{"deletions":[],"entities":[' + ",".join(_json_text(e) for e in entities) + "]}").encode()


def _json_text(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def rpy_quat(roll: float, pitch: float, yaw: float) -> dict[str, float]:
    """Rotation Rz(yaw) Ry(pitch) Rx(roll) (rad; the sensor mount convention, ``sensors.mount``) as a quaternion."""
    r, p, y = roll / 2, pitch / 2, yaw / 2
    cr, sr, cp, sp, cy, sy = math.cos(r), math.sin(r), math.cos(p), math.sin(p), math.cos(y), math.sin(y)
    return {
        "x": sr * cp * cy - cr * sp * sy,
        "y": cr * sp * cy + sr * cp * sy,
        "z": cr * cp * sy - sr * sp * cy,
        "w": cr * cp * cy + sr * sp * sy,
    }


def matrix_quat(rot: np.ndarray) -> dict[str, float]:
    """A proper 3x3 rotation matrix as a unit quaternion (w >= 0)."""
    m = np.asarray(rot, dtype=float)
    w = math.sqrt(max(0.0, 1.0 + m[0, 0] + m[1, 1] + m[2, 2])) / 2
    x = math.copysign(math.sqrt(max(0.0, 1.0 + m[0, 0] - m[1, 1] - m[2, 2])) / 2, m[2, 1] - m[1, 2])
    y = math.copysign(math.sqrt(max(0.0, 1.0 - m[0, 0] + m[1, 1] - m[2, 2])) / 2, m[0, 2] - m[2, 0])
    z = math.copysign(math.sqrt(max(0.0, 1.0 - m[0, 0] - m[1, 1] + m[2, 2])) / 2, m[1, 0] - m[0, 1])
    return {"x": x, "y": y, "z": z, "w": w}


def quat_matrix(q: dict[str, float]) -> np.ndarray:
    """A unit quaternion ``{"x", "y", "z", "w"}`` as its 3x3 rotation matrix."""
    x, y, z, w = q["x"], q["y"], q["z"], q["w"]
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def _with_data(head: dict[str, Any], data: Any) -> bytes:
    """JSON bytes of ``head`` plus a last key ``data``: ``data``'s bytes in base64 (built as bytes: images
    are megabytes, so no str round trip)."""
    return b"".join((_json_text(head)[:-1].encode(), b',"data":"', base64.b64encode(data), b'"}'))


#: Foxglove NumericType (PackedElementField.type) of each numpy scalar type a point field may have.
NUMERIC_TYPES: dict[str, int] = {"u1": 1, "i1": 2, "u2": 3, "i2": 4, "u4": 5, "i4": 6, "f4": 7, "f8": 8}
#: Foxglove NumericType of FLOAT32.
FLOAT32 = NUMERIC_TYPES["f4"]


def point_cloud(t: float, frame: str, xyz: np.ndarray) -> bytes:
    """PointCloud message of (k, 3) points (m) in ``frame``, float32 x, y, z."""
    pts = np.zeros(len(xyz), dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4")])
    if len(xyz):
        for k, n in enumerate("xyz"):
            pts[n] = np.asarray(xyz)[:, k]
    return point_cloud_rows(t, frame, pts)


def point_cloud_rows(t: float, frame: str, rows: np.ndarray) -> bytes:
    """PointCloud message of a structured array (one point per row, fields ``x``, ``y``, ``z`` in m and any
    others, each a scalar of ``NUMERIC_TYPES``) in ``frame``: the rows' own bytes, little-endian, at their
    offsets (``point_cloud_array`` gives back the same array)."""
    dt = rows.dtype
    fields = []
    for name, (sub, off, *_) in (dt.fields or {}).items():
        code = sub.str[1:]
        if code not in NUMERIC_TYPES:
            raise ValueError(f"point field {name!r}: dtype {sub} has no Foxglove numeric type")
        fields.append({"name": name, "offset": int(off), "type": NUMERIC_TYPES[code]})
    little = dt.newbyteorder("<")
    data = np.ascontiguousarray(rows, dtype=little).tobytes()
    head = {
        "timestamp": stamp(t),
        "frame_id": frame,
        "pose": _IDENT_POSE,
        "point_stride": dt.itemsize,
        "fields": fields,
    }
    return _with_data(head, data)


def point_cloud_array(msg: dict[str, Any]) -> np.ndarray:
    """A decoded PointCloud message's points as a structured array (its fields at their offsets, native order)."""
    codes = {v: k for k, v in NUMERIC_TYPES.items()}
    dt = np.dtype(
        {
            "names": [f["name"] for f in msg["fields"]],
            "formats": ["<" + codes[f["type"]] for f in msg["fields"]],
            "offsets": [f["offset"] for f in msg["fields"]],
            "itemsize": msg["point_stride"],
        }
    )
    raw = np.frombuffer(base64.b64decode(msg["data"]), dtype=dt)
    return raw.astype(dt.newbyteorder("="))


#: numpy dtype of each RawImage encoding simcore writes (one channel each).
IMAGE_ENCODINGS: dict[str, str] = {"mono8": "|u1", "mono16": "<u2", "32FC1": "<f4"}
#: Schema name of RawImage in the ROS 2 message encoding (CDR) that images are written in.
RAW_IMAGE_ROS2 = "foxglove_msgs/msg/RawImage"
#: Its ``ros2msg`` definition (Foxglove's field order), with the Time dependency appended as ROS 2 bags do.
RAW_IMAGE_ROS2_MSG = schema_text(RAW_IMAGE_ROS2)


def raw_image(t: float, frame: str, img: np.ndarray, encoding: str) -> bytes:
    """RawImage message (``RAW_IMAGE_ROS2``, CDR) of a (height, width) image in ``encoding``
    (``IMAGE_ENCODINGS``; rows top to bottom). CDR rather than JSON: the pixels go in as they are, where
    JSON needs base64 (a third more bytes and most of the write time of a camera frame)."""
    h, w = img.shape[:2]
    data = np.ascontiguousarray(img, dtype=IMAGE_ENCODINGS[encoding])
    out = CdrWriter()
    out.time(t)
    out.string(frame)
    out.u32(w)
    out.u32(h)
    out.string(encoding)
    out.u32(w * data.itemsize)  # step
    out.u32(data.nbytes)  # the data's element count (bytes)
    return b"".join((CDR_LE, out.buf, data.tobytes()))


def raw_image_array(data: bytes) -> tuple[float, str, np.ndarray]:
    """A CDR RawImage message (``raw_image``) read back: (time s, frame id, (height, width) pixels in the
    encoding's dtype, native byte order)."""
    r = CdrReader(data)
    t, frame = r.time(), r.string()
    w, h = r.u32(), r.u32()
    enc = r.string()
    step, n = r.u32(), r.u32()
    dt = np.dtype(IMAGE_ENCODINGS[enc])
    rows = np.frombuffer(data, dtype=np.uint8, count=n, offset=len(CDR_LE) + r.off).reshape(h, step)
    img = rows[:, : w * dt.itemsize].copy().view(dt).reshape(h, w)
    return t, frame, img.astype(dt.newbyteorder("="))


def box_annotations(t: float, u0: np.ndarray, v0: np.ndarray, u1: np.ndarray, v1: np.ndarray, colour: str) -> bytes:
    """ImageAnnotations message: one closed rectangle per box with pixel bounds ``u0 <= u < u1``,
    ``v0 <= v < v1`` (origin: the top-left corner of the top-left pixel, as the camera's boxes)."""
    c, none = rgba(colour), rgba(colour, 0.0)
    ts = stamp(t)
    items = [
        {
            "timestamp": ts,
            "type": 2,
            "points": [{"x": a, "y": b} for a, b in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))],
            "outline_color": c,
            "outline_colors": [],
            "fill_color": none,
            "thickness": 2.0,
        }
        for x0, y0, x1, y1 in zip(u0.tolist(), v0.tolist(), u1.tolist(), v1.tolist(), strict=True)
    ]
    return json.dumps({"circles": [], "points": items, "texts": []}, separators=(",", ":")).encode()


def camera_calibration(t: float, frame: str, width: int, height: int, k: np.ndarray) -> bytes:
    """CameraCalibration message of a distortion-free pinhole camera with 3x3 matrix ``k`` (px), image
    ``width`` x ``height``; ``frame`` is its optical frame (x right, y down, z forward)."""
    km = np.asarray(k, dtype=float)
    p = np.hstack([km, np.zeros((3, 1))])
    msg = {
        "timestamp": stamp(t),
        "frame_id": frame,
        "width": int(width),
        "height": int(height),
        "distortion_model": "plumb_bob",
        "D": [0.0] * 5,
        "K": km.ravel().tolist(),
        "R": np.eye(3).ravel().tolist(),
        "P": p.ravel().tolist(),
    }
    return json.dumps(msg, separators=(",", ":")).encode()
