"""Sensor outputs in the run log: camera images and boxes, radar detections, object lists, lidar sweeps, IMU
samples and GNSS fixes round-trip through run.mcap (compared with the readings the agent was shown, captured by an
independent hook), at the sensors' rates, valid against their Foxglove schemas, with their mounts."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from mcap.reader import make_reader

from simcore.api import simulation
from simcore.report import foxglove as fg
from simcore.report.runlog import RUN_MCAP, RunLogWriter, read_run_log

#: Rates (Hz) of the scenario's sensors; dt 0.05 s, 0.5 s simulated.
RATES = {"cam": 10.0, "radar": 20.0, "objects": 10.0, "top": 10.0, "imu": 20.0, "gnss": 10.0}
T_END = 0.5
SCENARIO = f"""simcore: 1
name: sensor-log
seed: 3
dt: 0.05
map: {{generate: intersection, lanes_per_direction: 1, arm_length: 60}}
ego:
  vehicle: sedan
  start: {{lane: south_in_1, s: 10, speed_kph: 20}}
  route: {{to: north_out_1}}
  sensors:
    - {{name: cam, type: camera, rate_hz: {RATES["cam"]}, mount: {{x: 1.9, z: 1.45}}, width: 160, height: 90}}
    - {{name: radar, type: radar, rate_hz: {RATES["radar"]}, mount: {{x: 3.7, z: 0.5, yaw_deg: 10}},
       fov_azimuth_deg: 90, clutter_rate: 1.0}}
    - {{name: objects, type: objects, rate_hz: {RATES["objects"]}, mount: {{x: 1.5, z: 1.6}}, max_range_m: 100}}
    - {{name: top, type: lidar, rate_hz: {RATES["top"]}, mount: {{x: 1.2, z: 1.9}}, channels: 4,
       points_per_channel: 90}}
    - {{name: imu, type: imu, rate_hz: {RATES["imu"]}, mount: {{x: 0.5, y: 0.2, z: 0.3}},
       accel_noise_density_ug_sqrt_hz: 200, gyro_arw_deg_sqrt_h: 0.3}}
    - {{name: gnss, type: gnss, rate_hz: {RATES["gnss"]}, mount: {{x: 1.0, z: 1.5}}, sigma_h_m: 0.5,
       sigma_v_m: 1.0, sigma_vel_mps: 0.05, sigma_heading_deg: 0.5}}
actors:
  - {{id: lead, vehicle: suv, start: {{lane: south_in_1, s: 35, speed_kph: 20}}, route: {{to: north_out_1}}}}
end: {{timeout_s: {T_END}}}
"""


def _logged(path: Path, scenario: Path, images: bool) -> SimpleNamespace:
    """Run ``scenario`` with the autopilot acting through the protocol (sensors polled), logged to ``path``;
    a hook of its own keeps a copy of every new reading (name -> [(time, data)])."""
    sim = simulation(scenario, "autopilot", in_engine=False)
    seen: dict[str, list[tuple[float, object]]] = {}

    def keep(s: object) -> None:
        obs = getattr(s, "observations", {}).get("ego")
        for name, r in (obs.sensors if obs is not None else {}).items():
            if not seen.get(name) or r.time > seen[name][-1][0]:
                data = r.data
                if hasattr(data, "depth"):  # CameraFrame
                    data = SimpleNamespace(**{k: getattr(data, k) for k in ("depth", "semantic", "instance", "boxes")})
                seen.setdefault(name, []).append((r.time, data))

    writer = RunLogWriter(path, sim.world, images=images).attach(sim)
    sim.on_advance.append(keep)
    writer.finish(sim.run())
    return SimpleNamespace(sim=sim, path=path, seen=seen, log=read_run_log(path))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    tmp = tmp_path_factory.mktemp("sensorlog")
    scenario = tmp / "sensors.yaml"
    scenario.write_text(SCENARIO)
    return SimpleNamespace(
        images=_logged(tmp / "images" / RUN_MCAP, scenario, True),
        plain=_logged(tmp / "plain" / RUN_MCAP, scenario, False),
    )


def test_every_channel_round_trips_exactly(runs: SimpleNamespace) -> None:
    """Each logged frame equals the reading the agent was shown: images (H x W, the camera's dtypes), 2-D
    boxes, radar detections (every field, float64), object lists, lidar x, y, z (float32)."""
    run = runs.images
    s = run.log.sensors
    checks = {
        "/sensors/cam/depth": ("cam", lambda d: d.depth),
        "/sensors/cam/semantic": ("cam", lambda d: d.semantic),
        "/sensors/cam/instance": ("cam", lambda d: d.instance),
        "/sensors/cam/boxes": ("cam", lambda d: d.boxes),
        "/sensors/radar": ("radar", lambda d: d),
        "/sensors/objects": ("objects", lambda d: d.objects),
    }
    for topic, (name, get) in checks.items():
        ch, frames = s[topic], run.seen[name]
        assert ch.time.size == len(frames) > 0, topic
        for i, (t, data) in enumerate(frames):
            want = get(data)
            got = ch.frame(i)
            assert got.dtype == want.dtype and got.shape == want.shape, topic
            np.testing.assert_array_equal(got, want, err_msg=f"{topic} frame {i}")
            assert ch.time[i] == pytest.approx(t, abs=1e-9)
    assert s["/sensors/cam/depth"].data.shape == (len(run.seen["cam"]), 90, 160)
    assert np.isinf(s["/sensors/cam/depth"].data).any() and (s["/sensors/cam/instance"].data == -1).any()
    assert (s["/sensors/cam/instance"].data >= 0).any()  # the lead car is in view
    assert s["/sensors/objects"].data.size and s["/sensors/radar"].data.size
    lidar = s["/sensors/top"]
    for i, (_, pts) in enumerate(run.seen["top"]):
        got = lidar.frame(i)
        for field in ("x", "y", "z", "intensity", "time", "actor_id", "channel", "class", "echo"):
            np.testing.assert_array_equal(got[field], pts[field].astype(got.dtype[field]), err_msg=field)
    assert {0, 1} <= set(lidar.data["channel"].tolist())  # returns of several rings, each with its own
    imu, gnss = s["/sensors/imu"], s["/sensors/gnss"]
    for i, (t, d) in enumerate(run.seen["imu"]):  # IMU: float64 through CDR, exact
        row = imu.frame(i)[0]
        np.testing.assert_array_equal([row[f"accel_{a}"] for a in "xyz"], d.accel)
        np.testing.assert_array_equal([row[f"gyro_{a}"] for a in "xyz"], d.gyro)
        assert imu.time[i] == pytest.approx(t, abs=1e-9) and imu.frame_id == "ego/imu"
    for i, (t, d) in enumerate(run.seen["gnss"]):  # GNSS: through latitude/longitude, to 1e-8 m
        assert gnss.time[i] == pytest.approx(t, abs=1e-9)
        row = gnss.frame(i)[0]
        np.testing.assert_allclose([row["x"], row["y"], row["z"]], d.position, rtol=0, atol=1e-8)
        np.testing.assert_array_equal([row["vx"], row["vy"], row["vz"]], d.velocity)
        assert row["heading"] == pytest.approx(d.heading, abs=1e-12) and (row["sigma_h"], row["sigma_v"]) == (0.5, 1.0)
    cam = run.sim.sensors.sensors[0]
    np.testing.assert_array_equal(s["/sensors/cam/calibration"].data[0], cam.intrinsics.matrix)


def test_frames_at_the_sensor_rates(runs: SimpleNamespace) -> None:
    """Frame k of a sensor at rate f is stamped k / f (dt 0.05 s divides every period): a frame logged twice,
    skipped or at a step's time instead of its own would fail."""
    s = runs.images.log.sensors
    for topic, name in (("/sensors/cam/depth", "cam"), ("/sensors/cam/boxes", "cam"), ("/sensors/radar", "radar"),
                        ("/sensors/objects", "objects"), ("/sensors/top", "top"), ("/sensors/imu", "imu"),
                        ("/sensors/gnss", "gnss")):  # fmt: skip
        n = math.floor(T_END * RATES[name] + 1e-9)
        np.testing.assert_allclose(s[topic].time, np.arange(n) / RATES[name], atol=1e-9, err_msg=topic)


def test_images_only_when_asked(runs: SimpleNamespace) -> None:
    """Without ``images`` the log keeps the small outputs (boxes, radar, objects, lidar) and no image layer."""
    plain, images = runs.plain.log.sensors, runs.images.log.sensors
    assert set(images) - set(plain) == {f"/sensors/cam/{k}" for k in ("depth", "semantic", "instance", "calibration")}
    with open(runs.images.path, "rb") as fh:  # not decoded by the reader (the boxes' rows are the data)
        notes = [json.loads(m.data) for _, _, m in make_reader(fh).iter_messages(topics=["/sensors/cam/annotations"])]
    assert len(notes) == len(runs.images.seen["cam"])
    box, note = runs.images.seen["cam"][-1][1].boxes[0], notes[-1]["points"][0]
    assert note["type"] == 2 and [(p["x"], p["y"]) for p in note["points"]] == [
        (box["u0"], box["v0"]), (box["u1"], box["v0"]), (box["u1"], box["v1"]), (box["u0"], box["v1"])
    ]  # fmt: skip
    np.testing.assert_array_equal(plain["/sensors/radar"].data, images["/sensors/radar"].data)
    assert runs.plain.path.stat().st_size < runs.images.path.stat().st_size


def test_mcap_valid_and_foxglove_channels_decode(
    runs: SimpleNamespace, schema_check: Callable[[Any, bytes], None], ros2_decode: Callable[[Any, bytes], Any]
) -> None:
    """The mcap package reads every record with CRC checks; every JSON Foxglove message of a sensor topic is
    valid against its JSON schema; every CDR message (images, IMU, GNSS fixes, /tf) decodes with mcap_ros2's
    decoder against its ``ros2msg`` schema (an implementation independent of ours): images with consistent
    size and encoding, IMU and GNSS values equal to the readings the agent was shown."""
    seen: dict[str, int] = {}
    imu_seen, gnss_seen = iter(runs.images.seen["imu"]), iter(runs.images.seen["gnss"])
    with open(runs.images.path, "rb") as fh:
        reader = make_reader(fh, validate_crcs=True)
        summary = reader.get_summary()
        assert summary is not None and summary.statistics is not None
        for schema, channel, message in reader.iter_messages():
            seen[channel.topic] = seen.get(channel.topic, 0) + 1
            if not (channel.topic.startswith("/sensors/") or channel.topic == "/tf") or schema is None:
                continue
            if channel.topic == "/tf":
                assert ros2_decode(schema, message.data).transforms
                continue
            if schema.name == "sensor_msgs/msg/Imu":
                imu, (t, d) = ros2_decode(schema, message.data), next(imu_seen)
                assert message.log_time == round(t * 1e9)
                acc, gyro = imu.linear_acceleration, imu.angular_velocity
                assert [acc.x, acc.y, acc.z] == d.accel.tolist() and [gyro.x, gyro.y, gyro.z] == d.gyro.tolist()
                assert imu.orientation_covariance[0] == -1 and imu.header.frame_id == "ego/imu"
                var = (200e-6 * 9.80665) ** 2 * RATES["imu"]  # 200 ug/sqrt(Hz) white noise at 20 Hz
                assert imu.linear_acceleration_covariance[::4] == pytest.approx([var] * 3, rel=1e-3)
                continue
            if schema.name == "foxglove_msgs/msg/LocationFix":
                fix, (t, d) = ros2_decode(schema, message.data), next(gnss_seen)
                assert message.log_time == round(t * 1e9)
                m_per_deg_lat = 6378137.0 * (1 - 6.69437999014e-3) * math.pi / 180  # WGS84 at the equator
                assert fix.latitude == pytest.approx(d.position[1] / m_per_deg_lat, abs=1e-12)
                assert fix.longitude == pytest.approx(d.position[0] / (6378137.0 * math.pi / 180), abs=1e-12)
                assert fix.altitude == d.position[2] and fix.position_covariance_type == 2
                assert fix.position_covariance[::4] == pytest.approx([0.25, 0.25, 1.0])
                assert fix.heading == pytest.approx(math.pi / 2 - d.heading)  # clockwise from north
                assert [fix.velocity_x, fix.velocity_y, fix.velocity_z] == d.velocity.tolist()
                continue
            if schema.encoding == "ros2msg":
                assert (schema.name, channel.message_encoding) == ("foxglove_msgs/msg/RawImage", "cdr")
                img = ros2_decode(schema, message.data)
                size = {"32FC1": 4, "mono8": 1, "mono16": 2}[img.encoding]
                assert (img.width, img.height, img.step, len(img.data)) == (160, 90, 160 * size, 160 * 90 * size)
                assert (
                    img.frame_id == "ego/cam/optical"
                    and bytes(img.data) == fg.raw_image_array(message.data)[2].tobytes()
                )
                assert img.timestamp.sec * 10**9 + img.timestamp.nanosec == message.log_time
                continue
            if schema.encoding != "jsonschema":
                assert channel.message_encoding == "simcore.rows" and json.loads(schema.data)["version"] == 1
                continue
            schema_check(schema, message.data)
        assert sum(seen.values()) == summary.statistics.message_count
    assert seen["/sensors/objects/scene"] == seen["/sensors/objects"]
    assert seen["/sensors/cam/depth"] == seen["/sensors/cam/semantic"] == seen["/sensors/cam/instance"] == 5


def test_mounts_and_optical_frame(runs: SimpleNamespace) -> None:
    """/tf carries each sensor's mount (the radar's 10 deg yaw as a quaternion) and the camera's optical frame,
    whose z axis is the body's x (forward) and x axis the body's -y (right)."""
    m = runs.images.log.mounts
    assert set(m) == {"ego/cam", "ego/cam/optical", "ego/radar", "ego/objects", "ego/top", "ego/imu", "ego/gnss"}
    np.testing.assert_array_equal(m["ego/imu"]["xyz"], [0.5, 0.2, 0.3])
    radar = m["ego/radar"]
    assert radar["parent"] == "ego"
    np.testing.assert_allclose(radar["xyz"], [3.7, 0.0, 0.5])
    c, s = math.cos(math.radians(10)), math.sin(math.radians(10))
    np.testing.assert_allclose(radar["rotation"], [[c, -s, 0], [s, c, 0], [0, 0, 1]], atol=1e-12)
    opt = m["ego/cam/optical"]
    assert opt["parent"] == "ego/cam"
    np.testing.assert_allclose(opt["rotation"] @ [0, 0, 1], [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(opt["rotation"] @ [1, 0, 0], [0, -1, 0], atol=1e-12)
    np.testing.assert_allclose(opt["rotation"] @ [0, 1, 0], [0, 0, -1], atol=1e-12)


def test_object_boxes_in_foxglove(runs: SimpleNamespace) -> None:
    """The object list's SceneUpdate puts one cube per object at its world pose and size."""
    run = runs.images
    with open(run.path, "rb") as fh:
        msgs = [json.loads(m.data) for _, _, m in make_reader(fh).iter_messages(topics=["/sensors/objects/scene"])]
    for msg, (_, frame) in zip(msgs, run.seen["objects"], strict=True):
        cubes = msg["entities"][0]["cubes"]
        assert len(cubes) == frame.objects.size
        for cube, o in zip(cubes, frame.objects, strict=True):
            assert cube["pose"]["position"]["x"] == pytest.approx(o["wx"])
            assert cube["pose"]["position"]["y"] == pytest.approx(o["wy"])
            q = cube["pose"]["orientation"]
            assert 2 * math.atan2(q["z"], q["w"]) == pytest.approx(math.remainder(o["wyaw"], 2 * math.pi))
            assert cube["size"]["x"] == pytest.approx(o["length"])


def test_point_cloud_and_image_codecs_by_hand() -> None:
    """A packed two-point cloud with int16/int32/float64 fields and a mono16 image decode to what went in."""
    dt = np.dtype([("x", "<f8"), ("y", "<f8"), ("z", "<f8"), ("id", "<i4"), ("n", "<i2")])
    rows = np.array([(1.5, -2.0, 0.25, 7, -3), (0.0, 1e-300, 3.0, -1, 2)], dtype=dt)
    msg = json.loads(fg.point_cloud_rows(1.25, "ego/r", rows))
    assert msg["point_stride"] == 30 and [f["type"] for f in msg["fields"]] == [8, 8, 8, 6, 4]
    assert [f["offset"] for f in msg["fields"]] == [0, 8, 16, 24, 28]
    np.testing.assert_array_equal(fg.point_cloud_array(msg), rows)
    img = np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000
    t, frame, back = fg.raw_image_array(fg.raw_image(2.5, "cam/x", img, "mono16"))  # 5-byte frame id: padded
    assert (t, frame) == (2.5, "cam/x") and back.dtype == np.uint16
    np.testing.assert_array_equal(back, img)
    with pytest.raises(ValueError, match="numeric type"):
        fg.point_cloud_rows(0.0, "f", np.zeros(1, dtype=[("x", "<i8")]))


def test_viewer_overlays_put_radar_hits_on_their_targets(runs: SimpleNamespace) -> None:
    """The viewer's radar overlay (sensor frame -> ego by the logged mount -> map by the logged ego pose)
    puts each detection of an actor on that actor: within its half-diagonal of the logged box centre, plus
    the radar's noise; object boxes are the objects' world poses."""
    from simcore.report.viewer import sensor_overlays

    log = runs.images.log
    over = {o["name"]: o for o in sensor_overlays(log)}
    assert set(over) == {"radar", "objects"}
    radar, det = over["radar"], log.sensors["/sensors/radar"]
    xy = np.frombuffer(base64.b64decode(radar["vals"]), "<f4").reshape(-1, 2)
    rows = np.repeat(np.arange(det.time.size), np.diff(det.start))
    st, w = log.state, runs.images.sim.world
    hits = np.flatnonzero(det.data["actor_id"] >= 0)
    assert hits.size >= 5
    for j in hits:
        a, k = int(det.data["actor_id"][j]), int(np.argmin(np.abs(st["time"] - det.time[rows[j]])))
        yaw, off = st["yaw"][k, a], float(w.params["center_offset"][a])
        cx, cy = st["x"][k, a] + off * math.cos(yaw), st["y"][k, a] + off * math.sin(yaw)
        reach = math.hypot(w.params["length"][a], w.params["width"][a]) / 2 + 1.0
        assert math.hypot(xy[j, 0] - cx, xy[j, 1] - cy) < reach, j
    objs = np.frombuffer(base64.b64decode(over["objects"]["vals"]), "<f4").reshape(-1, 5)
    o = log.sensors["/sensors/objects"].data
    np.testing.assert_array_equal(
        objs, np.column_stack([o["wx"], o["wy"], o["wyaw"], o["length"], o["width"]]).astype("<f4")
    )


def test_viewer_sensor_toggle_in_chromium(runs: SimpleNamespace, chromium: object, tmp_path: Path) -> None:
    """The viewer of a log with sensors has a "sensors" toggle; drawing the overlays changes the canvas and
    raises no console error."""
    from selenium.webdriver.common.by import By

    from simcore.report.viewer import write_view

    html = write_view(runs.images.path, tmp_path / "view.html")
    drv = chromium
    drv.get(html.as_uri())
    assert drv.execute_script("return window.simcoreViewer.sensors") == 2
    drv.execute_script("window.simcoreViewer.setTime(0.42)")
    shot = "return document.getElementById('sv-canvas').toDataURL()"
    with_sensors = drv.execute_script(shot)
    drv.find_element(By.ID, "sv-sensors").click()
    assert drv.execute_script(shot) != with_sensors
    assert [e for e in drv.get_log("browser") if e["level"] == "SEVERE"] == []


def test_cli_log_images_flag(runs: SimpleNamespace, tmp_path: Path) -> None:
    """``simcore run --out DIR --log-images`` puts the image layers into run.mcap (a compute budget makes the
    autopilot act through the protocol, so the sensors are polled)."""
    from simcore.cli import main

    scenario = runs.images.path.parent.parent / "sensors.yaml"
    out = tmp_path / "out"
    main(["run", str(scenario), "--out", str(out), "--log-images", "--budget", "10", "--quiet"])
    topics = set(read_run_log(out).sensors)
    assert {"/sensors/cam/depth", "/sensors/cam/semantic", "/sensors/cam/instance", "/sensors/radar"} <= topics
