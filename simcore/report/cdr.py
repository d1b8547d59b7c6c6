"""ROS 2 CDR (little-endian XCDR1: MCAP's ``cdr`` message encoding) writer and reader, the ``ros2msg``
definitions of the message types simcore writes that way, and block encoding of fixed-layout messages.

Foxglove reads ``cdr`` channels with a ``ros2msg`` schema natively (no plug-in), by the schema text stored
in the log; ROS 2 tools read them too. Alignment is relative to the payload after the 4-byte encapsulation
header, as CDR requires. The definitions below follow Foxglove's and ROS's published field tables.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Iterable

import numpy as np

#: CDR encapsulation header: plain CDR, little-endian.
CDR_LE = b"\x00\x01\x00\x00"

_XYZ = "float64 x\nfloat64 y\nfloat64 z"
_TIME = "int32 sec\nuint32 nanosec"
#: Field lists (ROS 2 ``.msg`` syntax, Foxglove's field order) of every type simcore writes in CDR, by name.
MSG_DEFS: dict[str, str] = {
    "builtin_interfaces/Time": _TIME,
    "builtin_interfaces/Duration": _TIME,
    "std_msgs/Header": "builtin_interfaces/Time stamp\nstring frame_id",
    "geometry_msgs/Point": _XYZ,
    "geometry_msgs/Vector3": _XYZ,
    "geometry_msgs/Quaternion": _XYZ + "\nfloat64 w",
    "geometry_msgs/Pose": "geometry_msgs/Point position\ngeometry_msgs/Quaternion orientation",
    "foxglove_msgs/Color": "float64 r\nfloat64 g\nfloat64 b\nfloat64 a",
    "foxglove_msgs/KeyValuePair": "string key\nstring value",
    "foxglove_msgs/SceneUpdate": "foxglove_msgs/SceneEntityDeletion[] deletions\nfoxglove_msgs/SceneEntity[] entities",
    "foxglove_msgs/SceneEntityDeletion": "builtin_interfaces/Time timestamp\nuint8 type\nstring id",
    "foxglove_msgs/SceneEntity": (
        "builtin_interfaces/Time timestamp\nstring frame_id\nstring id\nbuiltin_interfaces/Duration lifetime\n"
        "bool frame_locked\nfoxglove_msgs/KeyValuePair[] metadata\nfoxglove_msgs/ArrowPrimitive[] arrows\n"
        "foxglove_msgs/CubePrimitive[] cubes\nfoxglove_msgs/SpherePrimitive[] spheres\n"
        "foxglove_msgs/CylinderPrimitive[] cylinders\nfoxglove_msgs/LinePrimitive[] lines\n"
        "foxglove_msgs/TriangleListPrimitive[] triangles\nfoxglove_msgs/TextPrimitive[] texts\n"
        "foxglove_msgs/ModelPrimitive[] models"
    ),
    "foxglove_msgs/ArrowPrimitive": (
        "geometry_msgs/Pose pose\nfloat64 shaft_length\nfloat64 shaft_diameter\nfloat64 head_length\n"
        "float64 head_diameter\nfoxglove_msgs/Color color"
    ),
    "foxglove_msgs/CubePrimitive": "geometry_msgs/Pose pose\ngeometry_msgs/Vector3 size\nfoxglove_msgs/Color color",
    "foxglove_msgs/SpherePrimitive": "geometry_msgs/Pose pose\ngeometry_msgs/Vector3 size\nfoxglove_msgs/Color color",
    "foxglove_msgs/CylinderPrimitive": (
        "geometry_msgs/Pose pose\ngeometry_msgs/Vector3 size\nfloat64 bottom_scale\nfloat64 top_scale\n"
        "foxglove_msgs/Color color"
    ),
    "foxglove_msgs/LinePrimitive": (
        "uint8 LINE_STRIP=0\nuint8 LINE_LOOP=1\nuint8 LINE_LIST=2\nuint8 type\ngeometry_msgs/Pose pose\n"
        "float64 thickness\nbool scale_invariant\ngeometry_msgs/Point[] points\nfoxglove_msgs/Color color\n"
        "foxglove_msgs/Color[] colors\nuint32[] indices"
    ),
    "foxglove_msgs/TriangleListPrimitive": (
        "geometry_msgs/Pose pose\ngeometry_msgs/Point[] points\nfoxglove_msgs/Color color\n"
        "foxglove_msgs/Color[] colors\nuint32[] indices"
    ),
    "foxglove_msgs/TextPrimitive": (
        "geometry_msgs/Pose pose\nbool billboard\nfloat64 font_size\nbool scale_invariant\n"
        "foxglove_msgs/Color color\nstring text"
    ),
    "foxglove_msgs/ModelPrimitive": (
        "geometry_msgs/Pose pose\ngeometry_msgs/Vector3 scale\nfoxglove_msgs/Color color\nbool override_color\n"
        "string url\nstring media_type\nuint8[] data"
    ),
    "foxglove_msgs/FrameTransforms": "foxglove_msgs/FrameTransform[] transforms",
    "foxglove_msgs/FrameTransform": (
        "builtin_interfaces/Time timestamp\nstring parent_frame_id\nstring child_frame_id\n"
        "geometry_msgs/Vector3 translation\ngeometry_msgs/Quaternion rotation"
    ),
    "foxglove_msgs/RawImage": (
        "builtin_interfaces/Time timestamp\nstring frame_id\nuint32 width\nuint32 height\nstring encoding\n"
        "uint32 step\nuint8[] data"
    ),
    "foxglove_msgs/LocationFix": (
        "builtin_interfaces/Time timestamp\nstring frame_id\nfloat64 latitude\nfloat64 longitude\nfloat64 altitude\n"
        "float64[9] position_covariance\nuint8 UNKNOWN=0\nuint8 APPROXIMATED=1\nuint8 DIAGONAL_KNOWN=2\n"
        "uint8 KNOWN=3\nuint8 position_covariance_type\nfloat64 heading\nfloat64 heading_variance\n"
        "float64 velocity_x\nfloat64 velocity_y\nfloat64 velocity_z"
    ),
    "sensor_msgs/Imu": (
        "std_msgs/Header header\ngeometry_msgs/Quaternion orientation\nfloat64[9] orientation_covariance\n"
        "geometry_msgs/Vector3 angular_velocity\nfloat64[9] angular_velocity_covariance\n"
        "geometry_msgs/Vector3 linear_acceleration\nfloat64[9] linear_acceleration_covariance"
    ),
}


def _base(name: str) -> str:
    """``pkg/msg/Type`` or ``pkg/Type`` -> ``pkg/Type`` (the key of ``MSG_DEFS``)."""
    return name.replace("/msg/", "/")


@functools.cache
def schema_text(name: str) -> str:
    """The ``ros2msg`` schema of type ``name`` (``pkg/msg/Type``): its fields, then every type it uses, each
    after a ``====`` line and ``MSG: pkg/Type`` (the layout ROS 2 bags and Foxglove read)."""
    order: list[str] = []

    def visit(t: str) -> None:
        for line in MSG_DEFS[t].splitlines():
            ftype = line.split()[0].split("[")[0]
            if "/" in ftype and ftype not in order:
                order.append(ftype)
                visit(ftype)

    top = _base(name)
    visit(top)
    parts = [MSG_DEFS[top]] + ["=" * 80 + f"\nMSG: {t}\n" + MSG_DEFS[t] for t in order]
    return "\n".join(parts) + "\n"


def split_ns(t: float) -> tuple[int, int]:
    """Time ``t`` (s, >= 0) as (sec, nanosec), rounded to the nanosecond as log times are."""
    ns = round(t * 1e9)
    return ns // 1_000_000_000, ns % 1_000_000_000


class CdrWriter:
    """Appends CDR fields (each aligned to its size from the payload start); ``message()`` gives the bytes
    with the encapsulation header. ``start``: the payload offset the first field lands at (templates of a
    part of a message)."""

    __slots__ = ("buf",)

    def __init__(self, start: int = 0) -> None:
        self.buf = bytearray(start)

    def align(self, n: int) -> None:
        self.buf += bytes(-len(self.buf) % n)

    def u8(self, v: int) -> None:
        self.buf.append(int(v))

    def u32(self, v: int) -> None:
        self.align(4)
        self.buf += struct.pack("<I", v)

    def time(self, t: float) -> None:
        """``builtin_interfaces/Time`` (or Duration) of ``t`` s."""
        self.align(4)
        self.buf += struct.pack("<iI", *split_ns(t))

    def f64(self, *vals: float) -> None:
        self.align(8)
        self.buf += struct.pack(f"<{len(vals)}d", *vals)

    def f64_array(self, arr: np.ndarray) -> None:
        """Doubles with no length (a fixed array, or a sequence's elements after ``u32(count)``)."""
        a = np.ascontiguousarray(arr, dtype="<f8")
        if a.size:
            self.align(8)
            self.buf += a.tobytes()

    def string(self, s: str) -> None:
        b = s.encode() + b"\0"
        self.u32(len(b))
        self.buf += b

    def empty(self, count: int = 1) -> None:
        """``count`` empty sequences (a zero length each)."""
        for _ in range(count):
            self.u32(0)

    def message(self) -> bytes:
        return CDR_LE + bytes(self.buf)


class CdrReader:
    """Reads CDR fields in order from a message (``data`` with its encapsulation header)."""

    def __init__(self, data: bytes) -> None:
        if bytes(data[:4]) != CDR_LE:
            raise ValueError("not a little-endian plain CDR message")
        self.data = memoryview(data)[4:]
        self.off = 0

    def _take(self, fmt: str, size: int, align: int) -> tuple:
        self.off += -self.off % align
        vals = struct.unpack_from(fmt, self.data, self.off)
        self.off += size
        return vals

    def u8(self) -> int:
        return int(self._take("<B", 1, 1)[0])

    def u32(self) -> int:
        return int(self._take("<I", 4, 4)[0])

    def time(self) -> float:
        sec, nsec = self._take("<iI", 8, 4)
        return sec + nsec * 1e-9

    def f64(self, k: int = 1) -> tuple[float, ...]:
        return self._take(f"<{k}d", 8 * k, 8) if k else ()

    def f64_array(self, k: int) -> np.ndarray:
        if k == 0:
            return np.zeros(0)
        self.off += -self.off % 8
        arr = np.frombuffer(self.data, dtype="<f8", count=k, offset=self.off).astype(float)
        self.off += 8 * k
        return arr

    def string(self) -> str:
        n = self.u32()
        text = bytes(self.data[self.off : self.off + n - 1]).decode()
        self.off += n
        return text


def scatter(buf: np.ndarray, offsets: np.ndarray | Iterable[int], values: np.ndarray, dtype: str) -> None:
    """Write ``values`` (frames, fields) as ``dtype`` into the byte rows ``buf`` (frames, message bytes) at the
    byte ``offsets`` (fields,): many fixed-layout messages filled in one numpy pass."""
    off = np.asarray(offsets, dtype=np.intp)
    size = np.dtype(dtype).itemsize
    cols = (off[:, None] + np.arange(size)).ravel()
    vals = np.ascontiguousarray(values, dtype=dtype).reshape(buf.shape[0], -1)
    buf[:, cols] = vals.view(np.uint8)
