"""Run log (MCAP): round trip of a real run, the mcap package's own reader, Foxglove channels
against their JSON schemas, hand-computed box poses, streaming after a drain, strided reads."""

from __future__ import annotations

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
from simcore.record.trajectory import TrajectoryRecorder
from simcore.report.runlog import ROWS_PER_MESSAGE, RUN_MCAP, RunLogWriter, read_run_log

jsonschema = pytest.importorskip("jsonschema")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """urban/cut_in with the autopilot, logged while it runs."""
    out = tmp_path_factory.mktemp("run")
    sim = simulation("urban/cut_in", "autopilot")
    writer = RunLogWriter(out / RUN_MCAP, sim.world).attach(sim)
    res = sim.run()
    writer.finish(res)
    return SimpleNamespace(sim=sim, res=res, path=out / RUN_MCAP, full=sim.recorder.view())


def test_round_trip_identical_arrays(run: SimpleNamespace) -> None:
    log = read_run_log(run.path.parent)
    assert set(log.state) == set(run.full)
    for name, arr in run.full.items():
        assert log.state[name].dtype == arr.dtype, name
        np.testing.assert_array_equal(log.state[name], arr, err_msg=name)
    assert log.events == [e.to_json() for e in run.res.events]
    assert log.result == json.loads(json.dumps(run.res.to_json(include_timing=False)))
    assert log.meta["actor_ids"] == list(run.sim.world.actor_ids)
    assert log.controls["accel"].shape == (log.controls["time"].size, 1)  # the ego, once per compiled call
    assert "lane:driving" in log.map_layers


def test_strided_read_matches_recorder_view(run: SimpleNamespace) -> None:
    log = read_run_log(run.path, max_rows=50)
    want = run.sim.recorder.view(50)
    for name, arr in want.items():
        np.testing.assert_array_equal(log.state[name], arr, err_msg=name)
    assert log.state["time"][-1] == run.full["time"][-1]


def test_mcap_reader_and_foxglove_schemas(run: SimpleNamespace, schema_check: Callable[[Any, bytes], None]) -> None:
    """Every message read by the mcap package; Foxglove channels valid against their JSON schemas."""
    with open(run.path, "rb") as fh:
        reader = make_reader(fh)
        summary = reader.get_summary()
        assert summary is not None and summary.statistics is not None
        seen: dict[str, int] = {}
        for schema, channel, message in reader.iter_messages():
            seen[channel.topic] = seen.get(channel.topic, 0) + 1
            foxglove = schema is not None and schema.encoding == "jsonschema" and schema.name.startswith("foxglove.")
            if foxglove and seen[channel.topic] <= 25:  # the first 25 per channel (jsonschema is slow)
                schema_check(schema, message.data)
        assert sum(seen.values()) == summary.statistics.message_count
    assert seen["/map"] == 1 and seen["/actors"] > 10 and seen["/tf"] == seen["/actors"]
    # rows go in blocks, one message per compiled call (at most ROWS_PER_MESSAGE rows each)
    assert run.full["time"].size / ROWS_PER_MESSAGE <= seen["/simcore/state"] < run.full["time"].size / 4


def test_foxglove_boxes_by_hand(run: SimpleNamespace) -> None:
    """The first /actors message puts the ego's cube at its box centre, rotated by its yaw."""
    w = run.sim.world
    with open(run.path, "rb") as fh:
        _, _, msg = next(make_reader(fh).iter_messages(topics=["/actors"]))
    ent = next(e for e in json.loads(msg.data)["entities"] if e["id"] == "ego")
    x0, y0, yaw0 = (float(run.full[k][0, w.ego]) for k in ("x", "y", "yaw"))
    off = float(w.params["center_offset"][w.ego])
    pos, q = ent["cubes"][0]["pose"]["position"], ent["cubes"][0]["pose"]["orientation"]
    assert pos["x"] == pytest.approx(x0 + off * math.cos(yaw0), abs=1e-3)
    assert pos["y"] == pytest.approx(y0 + off * math.sin(yaw0), abs=1e-3)
    assert 2 * math.atan2(q["z"], q["w"]) == pytest.approx(math.remainder(yaw0, 2 * math.pi), abs=1e-6)
    assert ent["cubes"][0]["size"]["x"] == pytest.approx(float(w.params["length"][w.ego]))


def test_rows_drained_before_the_writer_saw_them(run: SimpleNamespace, tmp_path: Path) -> None:
    """A writer attached after the recorder spilled rows to disk still writes every row, exactly."""
    w = run.sim.world
    n, g = w.state.n, w.network.n_signals
    rng = np.random.default_rng(7)
    rec = TrajectoryRecorder(n, 100, 1, n_signals=g, buffer_rows=4)
    for k in range(10):
        s = SimpleNamespace(x=rng.normal(size=n), y=rng.normal(size=n), yaw=rng.normal(size=n),
                            speed=rng.normal(size=n), active=rng.random(n) < 0.7)  # fmt: skip
        rec.append(k, 0.1 * k, s, rng.integers(0, 3, g).astype(np.int8))
    assert rec.drained > 0
    sim = SimpleNamespace(recorder=rec, events=[], on_advance=[], step_index=0, t=0.0)
    RunLogWriter(tmp_path / RUN_MCAP, w).attach(sim).finish()
    log = read_run_log(tmp_path / RUN_MCAP)
    for name, arr in rec.view().items():
        np.testing.assert_array_equal(log.state[name], arr, err_msg=name)


LIDAR_SCENARIO = """simcore: 1
name: lidar-log
seed: 3
dt: 0.05
map: {generate: intersection, lanes_per_direction: 1, arm_length: 60}
ego:
  vehicle: sedan
  start: {lane: south_in_1, s: 10, speed_kph: 20}
  route: {to: north_out_1}
  sensors:
    - {name: top, type: lidar, rate_hz: 10, mount: {x: 1.2, z: 1.9, yaw_deg: 90}, channels: 4, points_per_channel: 90}
actors:
  - {id: lead, vehicle: suv, start: {lane: south_in_1, s: 35, speed_kph: 20}, route: {to: north_out_1}}
end: {timeout_s: 0.5}
"""


def test_lidar_sweeps_as_foxglove_point_clouds(tmp_path: Path) -> None:
    """Each sweep the agent was shown goes to /sensors/top (valid PointCloud, the reading's points as
    float32), the mount to /tf as ego -> ego/top rotated by the mount's yaw."""
    import base64

    from simcore.agents.builtin.autopilot import Autopilot

    class Protocol(Autopilot):
        in_engine = False  # acts through ``act``: observations (and sensor readings) are built

    scenario = tmp_path / "lidar.yaml"
    scenario.write_text(LIDAR_SCENARIO)
    sim = simulation(scenario, Protocol())
    writer = RunLogWriter(tmp_path / RUN_MCAP, sim.world).attach(sim)
    writer.finish(sim.run())
    last = sim.observations["ego"].sensors["top"]
    with open(tmp_path / RUN_MCAP, "rb") as fh:
        msgs = [(s, c, m) for s, c, m in make_reader(fh).iter_messages(topics=["/sensors/top", "/tf"])]
    clouds = [(s, json.loads(m.data)) for s, c, m in msgs if c.topic == "/sensors/top"]
    assert len(clouds) == 5  # 10 Hz for 0.5 s: sweeps at 0.0 ... 0.4 s
    validator = jsonschema.Draft202012Validator(json.loads(clouds[0][0].data))
    for _, msg in clouds:
        validator.validate(msg)
    pts = np.frombuffer(base64.b64decode(clouds[-1][1]["data"]), "<f4").reshape(-1, 3)
    want = np.column_stack([last.data["x"], last.data["y"], last.data["z"]]).astype("<f4")
    assert pts.shape[0] > 0 and clouds[-1][1]["frame_id"] == "ego/top"
    np.testing.assert_array_equal(pts, want)
    mount = next(json.loads(m.data)["transforms"][0] for _, c, m in msgs if c.topic == "/tf" and b"ego/top" in m.data)
    assert mount["parent_frame_id"] == "ego" and mount["translation"] == {"x": 1.2, "y": 0.0, "z": 1.9}
    q = mount["rotation"]
    assert (q["x"], q["y"]) == (0.0, 0.0) and q["z"] == pytest.approx(math.sin(math.pi / 4)) == q["w"]
