"""Sensor outputs in the run log: each reading an agent was shown, at the sensor's rate, and back to numpy.

Channels per sensor ``NAME`` (frames: ``ego/NAME`` is the sensor body, x forward, y left, z up, mounted
on ``ego`` by a ``/tf`` transform written with its first reading; a camera's images are in
``ego/NAME/optical``, x right, y down, z forward, a fixed rotation of ``ego/NAME``):

========================  ===============================  ==============================================
topic                     schema                           content
========================  ===============================  ==============================================
/sensors/NAME             foxglove.PointCloud              lidar: per return ``LIDAR_LOG_DTYPE``: x, y, z,
                                                           intensity, time (float32), actor id, channel
                                                           (ring), class, echo
/sensors/NAME             foxglove.PointCloud              radar: every ``RADAR_DTYPE`` field (range,
                                                           azimuth, elevation, radial velocity, RCS, x, y,
                                                           z as float64; actor id, merge count)
/sensors/NAME             simcore.ObjectList (rows)        object list: ``OBJECT_DTYPE`` rows
/sensors/NAME/scene       foxglove.SceneUpdate             object list: one box per object (map frame)
/sensors/NAME/boxes       simcore.CameraBoxes (rows)       camera: 2-D boxes, ``BOX_DTYPE`` rows
/sensors/NAME/calibration foxglove.CameraCalibration       camera: intrinsics (once, with images)
/sensors/NAME/annotations foxglove.ImageAnnotations        camera (images on): the 2-D boxes drawn on the image
/sensors/NAME/depth       RawImage (CDR) 32FC1             camera (images on): depth along the optical
                                                           axis, m (inf: nothing)
/sensors/NAME/semantic    RawImage (CDR) mono8             camera (images on): ``SemanticClass`` per pixel
/sensors/NAME/instance    RawImage (CDR) mono16            camera (images on): state row + 1 (0: none)
/sensors/NAME             sensor_msgs/msg/Imu (CDR)        IMU: specific force (m/s²), rates (rad/s) in
                                                           ``ego/NAME``; white-noise variances; no
                                                           orientation (covariance[0] = -1)
/sensors/NAME             foxglove_msgs/msg/LocationFix    GNSS: the fix as latitude, longitude (deg;
                          (CDR)                            ``GEO_ORIGIN_DEG``), altitude (m), ENU
                                                           velocity (m/s), heading (rad, clockwise from
                                                           north), variances
========================  ===============================  ==============================================

Maps carry no geographic reference: a GNSS fix's ENU position (m) is placed on the tangent plane at
``GEO_ORIGIN_DEG`` with the WGS84 radii of curvature there (``enu_to_geo``; ``geo_to_enu`` inverts it to
about 1e-9 m).

``simcore.rows`` messages: the reading's time (f8, s), then the rows' little-endian bytes; the row
layout (names, formats, offsets, item size) and its version are the schema's JSON data.
Camera images are Foxglove RawImage messages in the ROS 2 encoding (``foxglove_msgs/msg/RawImage``,
CDR; the other channels are JSON): their pixels go in unchanged, with no base64 and no PNG encoding,
which were most of a frame's write time; the log's zstd chunks compress the flat label and depth
images about a hundredfold. They are off unless asked for
(``RunLogWriter(images=True)``, ``simcore run --log-images``): a 640x360 camera at 10 Hz adds
about 14 MB of raw pixels per simulated second before compression.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from simcore.report import foxglove as fg
from simcore.report import foxglove_cdr as fc
from simcore.report.cdr import schema_text

#: Version of the ``simcore.rows`` layout; readers refuse a newer one.
ROWS_VERSION = 1
#: Message encoding of the simcore row channels.
ROWS_ENCODING = "simcore.rows"
#: Camera image layers: (output name, RawImage encoding).
IMAGE_LAYERS = (("depth", "32FC1"), ("semantic", "mono8"), ("instance", "mono16"))
#: Most state rows an instance image can name (mono16 holds row + 1; 0 is "no actor").
MAX_INSTANCE_ROWS = 65534
#: Lidar fields logged per return (packed, little-endian): the scan's own fields less range, azimuth and
#: elevation (they follow from x, y, z), positions in float32 as Foxglove point clouds usually are.
LIDAR_LOG_DTYPE = np.dtype(
    [("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("intensity", "<f4"), ("time", "<f4"), ("actor_id", "<i4"),
     ("channel", "<i2"), ("class", "i1"), ("echo", "u1")]
)  # fmt: skip
#: Latitude, longitude (deg) that the map frame's origin is placed at for GNSS fixes (maps carry none).
GEO_ORIGIN_DEG = (0.0, 0.0)
_WGS84_A, _WGS84_E2 = 6378137.0, 6.69437999014e-3
#: Kinds of readings logged (others are not).
LOGGED_KINDS = ("lidar", "radar", "objects", "camera", "imu", "gnss")
#: Colour of the object-list boxes and camera box outlines drawn in Foxglove.
_SCENE_COLOUR = "#d62ad6"


class _Log(Protocol):
    def channel(self, topic: str, schema: str, encoding: str, data: bytes) -> None: ...
    def add(self, topic: str, t: float, data: bytes) -> None: ...


def rows_schema(title: str, dtype: np.dtype, frame: str) -> bytes:
    """A ``simcore.rows`` schema: the row layout of ``dtype`` (names, formats, offsets, item size) and the
    frame its coordinates are in."""
    dt = np.dtype(dtype).newbyteorder("<")
    layout = {
        "names": list(dt.names or ()),
        "formats": [dt.fields[n][0].str for n in dt.names or ()],
        "offsets": [int(dt.fields[n][1]) for n in dt.names or ()],
        "itemsize": int(dt.itemsize),
    }
    doc = {"title": title, "version": ROWS_VERSION, "frame_id": frame, "dtype": layout}
    return json.dumps(doc, separators=(",", ":")).encode()


def rows_dtype(schema_data: bytes) -> np.dtype:
    """The row dtype (native byte order) of a ``simcore.rows`` schema; ValueError for a newer version."""
    doc = json.loads(schema_data)
    if int(doc.get("version", 0)) > ROWS_VERSION:
        raise ValueError(f"simcore.rows layout version {doc['version']} is newer than {ROWS_VERSION}")
    dt = np.dtype(doc["dtype"])
    if dt.hasobject:
        raise ValueError("simcore.rows layout with an object field")
    return dt.newbyteorder("=")


def rows_message(t: float, rows: np.ndarray) -> bytes:
    """A ``simcore.rows`` message: time ``t`` (s, f8) then the rows' little-endian bytes."""
    little = rows.dtype.newbyteorder("<")
    return struct.pack("<d", t) + np.ascontiguousarray(rows, dtype=little).tobytes()


class SensorWriter:
    """Writes readings into a run log (``RunLogWriter`` gives ``log``): one message set per new reading of a
    lidar, radar, object list, camera, IMU or GNSS receiver. ``images``: camera image layers too (big);
    ``n_actors``: state rows (instance images hold row + 1 in 16 bits)."""

    def __init__(self, log: _Log, *, images: bool = False, n_actors: int = 0) -> None:
        self.log = log
        self.images = bool(images)
        self.n_actors = int(n_actors)
        self._last_t: dict[str, float] = {}
        self._started: dict[str, Any] = {}  # sensor name -> its sensor object (None if not in the rig)
        #: Frames written per sensor name.
        self.frames: dict[str, int] = {}

    def write(self, sim: Any, reading: Any) -> None:
        """Log ``reading`` (a ``SensorReading``) if it is newer than that sensor's last logged one."""
        kind, name, t = getattr(reading, "kind", ""), reading.name, float(reading.time)
        if kind not in LOGGED_KINDS or not t > self._last_t.get(name, -np.inf):
            return  # NaN (an object list before its first frame) is never newer
        self._last_t[name] = t
        if name not in self._started:
            rig = getattr(sim, "sensors", None)
            self._started[name] = next((s for s in getattr(rig, "sensors", ()) if s.name == name), None)
            self._mount(name, kind, t)
        getattr(self, "_" + kind)(name, t, reading.data)
        self.frames[name] = self.frames.get(name, 0) + 1

    def _mount(self, name: str, kind: str, t: float) -> None:
        """The ``ego -> ego/NAME`` mount transform (and a camera's optical frame) on ``/tf``."""
        sensor = self._started[name]
        mount = getattr(sensor, "mount", None)
        if mount is not None:
            at, q = (mount.x, mount.y, mount.z), fg.rpy_quat(mount.roll, mount.pitch, mount.yaw)
            self.log.add("/tf", t, fc.transform(t, "ego", f"ego/{name}", at, q))
        if kind == "camera":
            from simcore.sensors.camera import R_BODY_FROM_OPTICAL

            q = fg.matrix_quat(R_BODY_FROM_OPTICAL)
            self.log.add("/tf", t, fc.transform(t, f"ego/{name}", f"ego/{name}/optical", (0.0, 0.0, 0.0), q))
            k = getattr(sensor, "intrinsics", None)
            if k is not None and self.images:
                topic = f"/sensors/{name}/calibration"
                self.log.channel(topic, "foxglove.CameraCalibration", "json", b"")
                self.log.add(topic, t, fg.camera_calibration(t, f"ego/{name}/optical", k.width, k.height, k.matrix))

    def _cloud(self, name: str, t: float, rows: np.ndarray) -> None:
        topic = f"/sensors/{name}"
        self.log.channel(topic, "foxglove.PointCloud", "json", b"")
        self.log.add(topic, t, fg.point_cloud_rows(t, f"ego/{name}", rows))

    def _lidar(self, name: str, t: float, pts: np.ndarray) -> None:
        if pts.dtype.names:
            rows = np.zeros(len(pts), dtype=LIDAR_LOG_DTYPE)
            for field in LIDAR_LOG_DTYPE.names or ():
                if field in pts.dtype.names:
                    rows[field] = pts[field]
            self._cloud(name, t, rows)
        else:  # plain (k, 3) points
            topic = f"/sensors/{name}"
            self.log.channel(topic, "foxglove.PointCloud", "json", b"")
            self.log.add(topic, t, fg.point_cloud(t, f"ego/{name}", np.asarray(pts)[:, :3]))

    def _cdr(self, name: str, schema: str, data: bytes, t: float) -> None:
        topic = f"/sensors/{name}"
        self.log.channel(topic, schema, "cdr", schema_text(schema).encode())
        self.log.add(topic, t, data)

    def _imu(self, name: str, t: float, data: Any) -> None:
        s = self._started[name]
        rate = float(getattr(s, "rate_hz", 0.0))
        acc_var = (float(getattr(s, "accel_noise_density", 0.0)) * math.sqrt(rate)) ** 2
        gyro_var = (float(getattr(s, "gyro_noise_density", 0.0)) * math.sqrt(rate)) ** 2
        self._cdr(name, fc.IMU, fc.imu(t, f"ego/{name}", data.accel, data.gyro, acc_var, gyro_var), t)

    def _gnss(self, name: str, t: float, fix: Any) -> None:
        s = self._started[name]
        sh, sv = float(fix.sigma_position), float(getattr(s, "sigma_v", fix.sigma_position))
        p = np.asarray(fix.position, dtype=float)
        lat, lon = enu_to_geo(p[0], p[1])
        heading = math.pi / 2 - float(fix.heading)  # CCW from east -> clockwise from north
        msg = fc.location_fix(t, f"ego/{name}", (lat, lon, float(p[2])), (sh * sh, sh * sh, sv * sv), heading,
                              float(getattr(s, "sigma_heading", 0.0)) ** 2, fix.velocity)  # fmt: skip
        self._cdr(name, fc.LOCATION_FIX, msg, t)

    def _radar(self, name: str, t: float, det: np.ndarray) -> None:
        self._cloud(name, t, det)

    def _rows(self, topic: str, schema: str, frame: str, t: float, rows: np.ndarray) -> None:
        self.log.channel(topic, schema, ROWS_ENCODING, rows_schema(schema, rows.dtype, frame))
        self.log.add(topic, t, rows_message(t, rows))

    def _objects(self, name: str, t: float, frame: Any) -> None:
        objs = frame.objects
        self._rows(f"/sensors/{name}", "simcore.ObjectList", "ego", t, objs)
        topic = f"/sensors/{name}/scene"
        self.log.channel(topic, "foxglove.SceneUpdate", "json", b"")
        cubes = [
            {
                "pose": {
                    "position": {"x": float(o["wx"]), "y": float(o["wy"]), "z": float(o["wz"])},
                    "orientation": fg.yaw_quat(float(o["wyaw"])),
                },
                "size": {"x": float(o["length"]), "y": float(o["width"]), "z": float(o["height"])},
                "color": fg.rgba(_SCENE_COLOUR, 0.5),
            }
            for o in objs
        ]
        ent = fg.entity(f"sensors/{name}", t, lifetime_s=0.0, cubes=cubes)
        self.log.add(topic, t, fg.scene_update([ent]))

    def _camera(self, name: str, t: float, frame: Any) -> None:
        if frame.boxes is not None:
            self._rows(f"/sensors/{name}/boxes", "simcore.CameraBoxes", f"ego/{name}/optical", t, frame.boxes)
        if not self.images:
            return
        if frame.boxes is not None:
            topic = f"/sensors/{name}/annotations"
            self.log.channel(topic, "foxglove.ImageAnnotations", "json", b"")
            b = frame.boxes
            self.log.add(topic, t, fg.box_annotations(t, b["u0"], b["v0"], b["u1"], b["v1"], _SCENE_COLOUR))
        optical = f"ego/{name}/optical"
        for layer, enc in IMAGE_LAYERS:
            img = getattr(frame, layer)
            if img is None or (layer == "instance" and self.n_actors > MAX_INSTANCE_ROWS):
                continue
            if layer == "instance":
                img = (img + 1).astype("<u2")  # -1 (no actor) -> 0
            topic = f"/sensors/{name}/{layer}"
            self.log.channel(topic, fg.RAW_IMAGE_ROS2, "cdr", fg.RAW_IMAGE_ROS2_MSG.encode())
            self.log.add(topic, t, fg.raw_image(t, optical, img, enc))


def _radii(lat0_deg: float) -> tuple[float, float]:
    """WGS84 meridian and prime-vertical radii of curvature (m) at latitude ``lat0_deg``."""
    s2 = math.sin(math.radians(lat0_deg)) ** 2
    w = math.sqrt(1.0 - _WGS84_E2 * s2)
    return _WGS84_A * (1.0 - _WGS84_E2) / w**3, _WGS84_A / w


def enu_to_geo(east: float, north: float, origin: tuple[float, float] = GEO_ORIGIN_DEG) -> tuple[float, float]:
    """Map ENU (m) to latitude, longitude (deg) on the tangent plane at ``origin`` (deg)."""
    m, n = _radii(origin[0])
    return origin[0] + math.degrees(north / m), origin[1] + math.degrees(east / (n * math.cos(math.radians(origin[0]))))


def geo_to_enu(lat: np.ndarray, lon: np.ndarray, origin: tuple[float, float] = GEO_ORIGIN_DEG) -> np.ndarray:
    """``enu_to_geo`` inverted: (k, 2) east, north (m)."""
    m, n = _radii(origin[0])
    east = np.radians(np.asarray(lon) - origin[1]) * n * math.cos(math.radians(origin[0]))
    return np.column_stack([east, np.radians(np.asarray(lat) - origin[0]) * m])


#: Rows the reader returns for IMU and GNSS readings (SI, sensor frame for the IMU, ENU map frame for GNSS;
#: ``heading`` rad counter-clockwise from east as ``GnssData``; ``sigma_h``, ``sigma_v`` m from the covariance).
IMU_DTYPE = np.dtype([(f"{q}_{a}", "f8") for q in ("accel", "gyro") for a in "xyz"])
GNSS_DTYPE = np.dtype([(k, "f8") for k in ("x", "y", "z", "vx", "vy", "vz", "heading", "sigma_h", "sigma_v")])


# -- reading ---------------------------------------------------------------------------------
@dataclass
class SensorChannel:
    """One sensor channel read back: ``time`` (k,) s of each message, ``data`` the values.

    Images (RawImage): ``data`` is (k, height, width) in the camera's own dtype (depth
    float32 m, semantic uint8, instance int32 state row with -1 for none). Point clouds and simcore
    rows: ``data`` is one structured array of every message's rows, message i being
    ``data[start[i]:start[i + 1]]`` (``frame(i)``). Calibrations: ``data`` is (k, 3, 3) camera matrices.
    IMU and GNSS: one row per message (``IMU_DTYPE``, ``GNSS_DTYPE``), with ``start`` too.
    """

    topic: str
    schema: str
    frame_id: str
    time: np.ndarray
    data: np.ndarray
    start: np.ndarray | None = None

    def frame(self, i: int) -> np.ndarray:
        """Message ``i``'s values (its rows, or its image)."""
        if self.start is None:
            return self.data[i]
        return self.data[self.start[i] : self.start[i + 1]]


#: JSON schemas whose messages the reader decodes into ``SensorChannel``s (besides images and rows).
READ_SCHEMAS = ("foxglove.PointCloud", "foxglove.CameraCalibration")
#: The ones only camera images carry (``read_run_log(images=False)`` skips them).
IMAGE_SCHEMAS = (fg.RAW_IMAGE_ROS2, "foxglove.CameraCalibration")


class SensorCollector:
    """Gathers ``/sensors/...`` messages and sensor mounts from ``/tf`` while a log is read."""

    def __init__(self, images: bool = True) -> None:
        self.images = images
        self._parts: dict[str, tuple[str, list[float], list[Any], str]] = {}
        self._dtypes: dict[int, tuple[np.dtype, str]] = {}
        #: Child frame -> {"parent", "xyz" (3,) m, "rotation" 3x3 child -> parent}: sensor mounts.
        self.mounts: dict[str, dict[str, Any]] = {}

    def add(self, schema: Any, channel: Any, data: bytes) -> None:
        """One message of a ``/sensors/`` topic (other schemas, e.g. the object boxes' scene, are skipped)."""
        name, topic = schema.name if schema is not None else "", channel.topic
        if name in IMAGE_SCHEMAS and not self.images:
            return
        if schema is not None and channel.message_encoding == ROWS_ENCODING:
            if schema.id not in self._dtypes:
                self._dtypes[schema.id] = rows_dtype(schema.data), json.loads(schema.data).get("frame_id", "")
            dt, frame = self._dtypes[schema.id]
            (t,) = struct.unpack_from("<d", data)
            self._part(topic, name, frame, t, np.frombuffer(data, dtype=dt.newbyteorder("<"), offset=8).astype(dt))
            return
        if name == fg.RAW_IMAGE_ROS2:
            t, frame, img = fg.raw_image_array(data)
            self._part(topic, name, frame, t, img.astype(np.int32) - 1 if topic.endswith("/instance") else img)
            return
        if name == fc.IMU:
            t, frame, acc, gyro = fc.read_imu(data)
            self._part(topic, name, frame, t, np.array([(*acc, *gyro)], dtype=IMU_DTYPE))
            return
        if name == fc.LOCATION_FIX:
            fix = fc.read_location_fix(data)
            (east, north), alt = geo_to_enu(*fix["lat_lon_alt"][:2])[0], fix["lat_lon_alt"][2]
            cov = fix["covariance"]
            yaw = math.remainder(math.pi / 2 - fix["heading"], 2 * math.pi)
            row = (east, north, alt, *fix["velocity"], yaw, math.sqrt(cov[0, 0]), math.sqrt(cov[2, 2]))
            self._part(topic, name, fix["frame_id"], fix["time"], np.array([row], dtype=GNSS_DTYPE))
            return
        if name not in READ_SCHEMAS:
            return
        msg = json.loads(data)
        t = msg["timestamp"]["sec"] + msg["timestamp"]["nsec"] * 1e-9
        if name == "foxglove.PointCloud":
            value = fg.point_cloud_array(msg)
        else:
            value = np.asarray(msg["K"], dtype=float).reshape(3, 3)
        self._part(topic, name, msg["frame_id"], t, value)

    def add_tf(self, data: bytes, encoding: str = "cdr") -> None:
        """A ``/tf`` message (``encoding`` "cdr", or "json" in version 2 logs): keep transforms whose parent is
        not the map frame (sensor mounts)."""
        if encoding == "json":
            if b'"parent_frame_id":"' + fg.MAP_FRAME.encode() + b'"' in data:
                return
            tfs = json.loads(data)["transforms"]
            for tf in tfs:
                tr = tf["translation"]
                tf["translation"] = np.array([tr["x"], tr["y"], tr["z"]])
        else:
            tfs = fc.read_transforms(data)
        for tf in tfs:
            if tf["parent_frame_id"] == fg.MAP_FRAME:
                continue
            self.mounts[tf["child_frame_id"]] = {
                "parent": tf["parent_frame_id"],
                "xyz": tf["translation"],
                "rotation": fg.quat_matrix(tf["rotation"]),
            }

    def _part(self, topic: str, schema: str, frame: str, t: float, value: Any) -> None:
        if topic not in self._parts:
            self._parts[topic] = (schema, [], [], frame)
        self._parts[topic][1].append(t)
        self._parts[topic][2].append(value)

    def channels(self) -> dict[str, SensorChannel]:
        """Every collected topic as a ``SensorChannel``."""
        out = {}
        for topic, (schema, times, values, frame) in self._parts.items():
            t = np.array(times)
            if values[0].dtype.names is None:  # images, calibrations: one array each, stacked
                out[topic] = SensorChannel(topic, schema, frame, t, np.stack(values))
            else:
                start = np.cumsum([0] + [v.shape[0] for v in values]).astype(np.int64)
                out[topic] = SensorChannel(topic, schema, frame, t, np.concatenate(values), start)
        return out
