"""Run log (MCAP): round trip of a real run, the mcap package's own reader, Foxglove channels decoded by
mcap_ros2 (CDR) or checked against their JSON schemas, every box and ego transform against the recorded rows,
streaming after a drain, strided reads."""

from __future__ import annotations

import itertools
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
    writer = RunLogWriter(out / RUN_MCAP, sim.world, scene_block=64).attach(sim)  # scene in several blocks
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


def _off_line_m(exact: np.ndarray, kept: np.ndarray) -> float:
    """Largest distance (m) of an ``exact`` point from ``kept`` (a subsequence of its points, ends included)
    drawn as a polyline: each dropped point against the segment between the kept points around it."""
    np.testing.assert_array_equal(kept[0], exact[0])
    at = [0]
    for q in kept[1:]:  # the next match after the previous one: repeated points stay in order
        at.append(at[-1] + 1 + int(np.flatnonzero((exact[at[-1] + 1 :] == q).all(axis=1))[0]))
    assert at[0] == 0 and at[-1] == len(exact) - 1
    worst = 0.0
    for i, k in itertools.pairwise(at):
        a, b = exact[i], exact[k]
        ab = b - a
        for p in exact[i + 1 : k]:
            u = float(np.clip(np.dot(p - a, ab) / max(float(np.dot(ab, ab)), 1e-300), 0.0, 1.0))
            worst = max(worst, float(np.hypot(*(p - (a + u * ab)))))
    return worst


def test_logged_map_is_the_exact_map_simplified_below_a_centimetre(run: SimpleNamespace) -> None:
    """The /map scene: every layer and polyline of ``map_layers``, each a subsequence of the exact points with
    both ends, no exact point more than MAP_SPAN_M * MAP_TURN_RAD / 4 (1.25 cm) off, far fewer points."""
    import simcore.render.map_view as mv
    import simcore.render.topdown as td

    bound = next(m.MAP_SPAN_M * m.MAP_TURN_RAD / 4 for m in (mv, td) if hasattr(m, "MAP_SPAN_M"))
    log = read_run_log(run.path)
    want = mv.map_layers(run.sim.world.network)
    assert list(log.map_layers) == [k for k, (_, _, polys) in want.items() if polys]
    worst, n_exact, n_kept = 0.0, 0, 0
    for name, (colour, closed, polys) in log.map_layers.items():
        assert (colour, closed) == want[name][:2] and len(polys) == len(want[name][2])
        for got, ref in zip(polys, want[name][2], strict=True):
            ref = np.asarray(ref, dtype=float).reshape(-1, 2)
            worst = max(worst, _off_line_m(ref, got))
            n_exact, n_kept = n_exact + len(ref), n_kept + len(got)
    assert 0.0 < worst <= 1.05 * bound  # the turn is summed as a sine or an angle: within 5 % up to 0.3 rad
    assert n_kept < n_exact / 3


def test_logged_map_keeps_what_the_packing_left_out(run: SimpleNamespace) -> None:
    """Polylines the pictures' packing left out (a whole layer, each layer's first polyline) go into the
    logged map exact; the others as packed."""
    from simcore.render.map_view import map_layers
    from simcore.render.topdown import pack_layers
    from simcore.report.runlog import _from_packed

    layers = map_layers(run.sim.world.network)
    packed = {}
    for p in pack_layers(layers)[1:]:  # the first packed layer left out
        keep = p.index[1:]  # so is each layer's first polyline
        parts = np.split(p.pts, p.ends[:-1])[1:]
        if parts:
            ends = np.cumsum([len(q) for q in parts])
            packed[p.name] = SimpleNamespace(pts=np.concatenate(parts), ends=ends, index=keep, parts=parts)
    got = _from_packed(layers, packed)
    assert list(got) == list(layers)
    for name, (colour, closed, xy, counts) in got.items():
        ps = layers[name][2]
        assert (colour, closed) == layers[name][:2] and counts.tolist() == [
            len(packed[name].parts[packed[name].index.tolist().index(k)])
            if name in packed and k in packed[name].index
            else len(q)
            for k, q in enumerate(ps)
        ]
        want = [
            packed[name].parts[packed[name].index.tolist().index(k)]
            if name in packed and k in packed[name].index
            else np.asarray(q, dtype=float)
            for k, q in enumerate(ps)
        ]
        np.testing.assert_array_equal(xy, np.concatenate(want) if want else np.empty((0, 2)), err_msg=name)


def test_packed_line_scene_is_line_scene() -> None:
    """The packed encoder writes the same bytes as the per-polyline one (empty layers and polylines too)."""
    from simcore.report import foxglove_cdr as fc

    rng = np.random.default_rng(3)
    polys = [rng.normal(size=(k, 2)) for k in (2, 5, 0, 3)]
    layers = {"a": ("#102030", True, polys), "b": ("#ffffff", False, []), "c": ("#000001", False, polys[1:2])}
    packed = {
        n: (c, closed, np.concatenate(ps) if ps else np.empty((0, 2)), np.array([len(p) for p in ps]))
        for n, (c, closed, ps) in layers.items()
    }
    assert fc.packed_line_scene(1.5, packed) == fc.line_scene(1.5, layers)


def test_strided_read_matches_recorder_view(run: SimpleNamespace) -> None:
    log = read_run_log(run.path, max_rows=50)
    want = run.sim.recorder.view(50)
    for name, arr in want.items():
        np.testing.assert_array_equal(log.state[name], arr, err_msg=name)
    assert log.state["time"][-1] == run.full["time"][-1]


def test_mcap_reader_and_foxglove_schemas(
    run: SimpleNamespace, schema_check: Callable[[Any, bytes], None], ros2_decode: Callable[[Any, bytes], Any]
) -> None:
    """Every message read by the mcap package with CRC checks; Foxglove channels decode with mcap_ros2 against
    their ``ros2msg`` schemas (CDR) or are valid against their JSON schemas; the scene is CDR."""
    with open(run.path, "rb") as fh:
        reader = make_reader(fh, validate_crcs=True)
        summary = reader.get_summary()
        assert summary is not None and summary.statistics is not None
        seen: dict[str, int] = {}
        for schema, channel, message in reader.iter_messages():
            seen[channel.topic] = seen.get(channel.topic, 0) + 1
            if channel.topic in ("/map", "/actors", "/tf"):
                assert (schema.encoding, channel.message_encoding) == ("ros2msg", "cdr")
                assert schema.name.startswith("foxglove_msgs/msg/")
                ros2_decode(schema, message.data)
            foxglove = schema is not None and schema.encoding == "jsonschema" and schema.name.startswith("foxglove.")
            if foxglove and seen[channel.topic] <= 25:  # the first 25 per channel (jsonschema is slow)
                schema_check(schema, message.data)
        assert sum(seen.values()) == summary.statistics.message_count
    assert seen["/map"] == 1 and seen["/actors"] > 10 and seen["/tf"] == seen["/actors"]
    # rows go in blocks, one message per compiled call (at most ROWS_PER_MESSAGE rows each)
    assert run.full["time"].size / ROWS_PER_MESSAGE <= seen["/simcore/state"] < run.full["time"].size / 4


def test_foxglove_boxes_by_hand(run: SimpleNamespace, ros2_decode: Callable[[Any, bytes], Any]) -> None:
    """Every /actors message (decoded by mcap_ros2) holds exactly the actors active in the recorded row of
    its time, each cube at its box centre (x + offset cos yaw, ...), rotated by its yaw, with its size; every
    /tf message puts ``ego`` at the ego's recorded x, y, yaw. The run spans several encoded blocks."""
    w = run.sim.world
    rows = {round(float(t), 9): k for k, t in enumerate(run.full["time"])}
    ids = list(w.actor_ids)
    with open(run.path, "rb") as fh:
        msgs = [(s, c.topic, m) for s, c, m in make_reader(fh).iter_messages(topics=["/actors", "/tf"])]
    scenes = [(m.log_time, ros2_decode(s, m.data)) for s, topic, m in msgs if topic == "/actors"]
    assert len(scenes) > 64  # more frames than one block (the fixture's scene_block)
    for ns, scene in scenes:
        k = rows[round(ns * 1e-9, 9)]
        on = np.flatnonzero(run.full["active"][k])
        assert [e.id for e in scene.entities] == [ids[i] for i in on]
        for e, i in zip(scene.entities, on, strict=True):
            x, y, yaw = (float(run.full[f][k, i]) for f in ("x", "y", "yaw"))
            off = float(w.params["center_offset"][i])
            cube = e.cubes[0]
            assert e.timestamp.sec * 10**9 + e.timestamp.nanosec == ns and e.frame_id == "map"
            assert (cube.pose.position.x, cube.pose.position.y) == pytest.approx(
                (x + off * math.cos(yaw), y + off * math.sin(yaw)), abs=1e-12
            )
            q = cube.pose.orientation
            assert 2 * math.atan2(q.z, q.w) == pytest.approx(math.remainder(yaw, 2 * math.pi), abs=1e-12)
            assert (cube.size.x, cube.size.y) == (float(w.params["length"][i]), float(w.params["width"][i]))
    tfs = [(m.log_time, ros2_decode(s, m.data).transforms[0]) for s, topic, m in msgs if topic == "/tf"]
    assert [ns for ns, _ in tfs] == [ns for ns, _ in scenes]
    for ns, tf in tfs:
        k = rows[round(ns * 1e-9, 9)]
        assert (tf.parent_frame_id, tf.child_frame_id) == ("map", "ego")
        assert (tf.translation.x, tf.translation.y) == (run.full["x"][k, w.ego], run.full["y"][k, w.ego])
        assert 2 * math.atan2(tf.rotation.z, tf.rotation.w) == pytest.approx(
            math.remainder(float(run.full["yaw"][k, w.ego]), 2 * math.pi), abs=1e-12
        )


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


def test_lidar_sweeps_as_foxglove_point_clouds(tmp_path: Path, ros2_decode: Callable[[Any, bytes], Any]) -> None:
    """Each sweep the agent was shown goes to /sensors/top (valid PointCloud: per return x, y, z, intensity,
    time as float32, actor id, channel, class, echo at the offsets its fields name), the mount to /tf as
    ego -> ego/top rotated by the mount's yaw."""
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
    msg = clouds[-1][1]
    fields = {f["name"]: (f["offset"], f["type"]) for f in msg["fields"]}
    types = {"<f4": 7, "<i4": 6, "<i2": 4, "i1": 2, "u1": 1}  # Foxglove NumericType codes
    want_fields = [("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("intensity", "<f4"), ("time", "<f4"),
                   ("actor_id", "<i4"), ("channel", "<i2"), ("class", "i1"), ("echo", "u1")]  # fmt: skip
    raw = base64.b64decode(msg["data"])
    assert msg["frame_id"] == "ego/top" and len(raw) == msg["point_stride"] * len(last.data) > 0
    for name, code in want_fields:
        off, ftype = fields[name]
        assert ftype == types[code], name
        got = np.ndarray(len(last.data), dtype=code, buffer=raw, offset=off, strides=(msg["point_stride"],))
        np.testing.assert_array_equal(got, last.data[name].astype(code), err_msg=name)
    assert (last.data["channel"] > 0).any() and (last.data["intensity"] > 0).any()
    mount = next(
        tf
        for s, c, m in msgs
        if c.topic == "/tf"
        for tf in ros2_decode(s, m.data).transforms
        if tf.child_frame_id == "ego/top"
    )
    tr, q = mount.translation, mount.rotation
    assert mount.parent_frame_id == "ego" and (tr.x, tr.y, tr.z) == (1.2, 0.0, 1.9)
    assert (q.x, q.y) == (0.0, 0.0) and q.z == pytest.approx(math.sin(math.pi / 4)) == q.w


def test_scene_blocks_are_bounded_and_lose_no_frame(run: SimpleNamespace, tmp_path: Path) -> None:
    """Rows fed in uneven pieces (as compiled calls do) over 300 simulated s: the writer buffers at most one
    block of scene frames (its arrays never grow), yet every 0.2 s frame reaches /actors and /tf, in order."""
    from simcore.report.runlog import scene_block_frames

    w = run.sim.world
    n, g = w.state.n, w.network.n_signals
    default = RunLogWriter(tmp_path / "default.mcap", w)
    default.finish()
    assert default._block["time"].shape[0] == scene_block_frames(n)
    # by hand: 256 KiB of 200-byte entities for 2 actors; 64 frames for 60; 4 MiB of them for 1000
    assert (scene_block_frames(2), scene_block_frames(60), scene_block_frames(1000)) == (655, 64, 20)
    writer = RunLogWriter(tmp_path / RUN_MCAP, w, scene_block=64)
    cap = writer._block["time"].shape[0]
    assert cap == 64
    rng = np.random.default_rng(3)
    k0 = 0
    for size in rng.integers(1, 400, 30):  # 0.1 s rows, pieces of 1-399 rows
        t = 0.1 * np.arange(k0, k0 + size)
        rows = {"time": t, "signals": np.zeros((size, g), np.int8), "active": np.ones((size, n), bool)}
        rows |= {k: rng.normal(size=(size, n)) for k in ("x", "y", "yaw", "speed")}
        writer.write_rows(rows)
        k0 += int(size)
        assert writer._block["time"].shape[0] == cap and writer._nb < cap
    writer.finish()
    with open(tmp_path / RUN_MCAP, "rb") as fh:
        times = {"/actors": [], "/tf": []}
        for _, c, m in make_reader(fh, validate_crcs=True).iter_messages(topics=list(times)):
            times[c.topic].append(m.log_time)
    want = [round(0.1 * k * 1e9) for k in range(0, k0, 2)]  # every other 0.1 s row: 5 Hz
    assert times["/actors"] == times["/tf"] == want and len(want) > 10 * cap


def test_actor_boxes_codec_at_every_phase_and_actor_set(ros2_decode: Callable[[Any, bytes], Any]) -> None:
    """Block encoding by hand: ids of 1-8 characters (entities start at both 8-byte phases) and a different set
    of active actors in most frames of the block; mcap_ros2 decodes every frame to exactly its actors, poses,
    times and the fixed sizes and colour."""
    from simcore.report import foxglove_cdr as fc
    from simcore.report.cdr import schema_text

    schema = SimpleNamespace(name=fc.SCENE_UPDATE, encoding="ros2msg", data=schema_text(fc.SCENE_UPDATE).encode(), id=1)
    ids = ["e", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh"]
    rng = np.random.default_rng(0)
    length, width, height = rng.random((3, len(ids))) + 1
    scene = fc.ActorsScene(ids, length, width, height, ["#102030"] * len(ids), 0.4)
    t, active = np.sort(rng.random(50) * 100), rng.random((50, len(ids))) < 0.6
    cx, cy, yaw = rng.normal(size=(3, 50, len(ids)))
    for k, msg in enumerate(scene.messages(t, active, cx, cy, yaw)):
        on = np.flatnonzero(active[k])
        ents = ros2_decode(schema, msg).entities
        assert [e.id for e in ents] == [ids[i] for i in on]
        for e, i in zip(ents, on, strict=True):
            c = e.cubes[0]
            assert (c.pose.position.x, c.pose.position.y, c.pose.position.z) == (cx[k, i], cy[k, i], height[i] / 2)
            assert (c.pose.orientation.z, c.pose.orientation.w) == (math.sin(yaw[k, i] / 2), math.cos(yaw[k, i] / 2))
            assert (c.size.x, c.size.y, c.size.z) == (length[i], width[i], height[i])
            assert e.timestamp.sec * 10**9 + e.timestamp.nanosec == round(t[k] * 1e9)
            assert (e.lifetime.sec, e.lifetime.nanosec, e.frame_id) == (0, 400_000_000, "map")
            assert (c.color.r, c.color.g, c.color.b, c.color.a) == (0x10 / 255, 0x20 / 255, 0x30 / 255, 1.0)


@pytest.mark.parametrize("compression", ["lz4", ""])
def test_chunk_compression_choice_reads_back(run: SimpleNamespace, tmp_path: Path, compression: str) -> None:
    """A log written with lz4 or uncompressed chunks (``RunLogWriter(compression=...)``): the mcap reader finds
    every chunk so compressed (CRCs checked) and ``read_run_log`` gives the same arrays as the zstd log."""
    path = tmp_path / RUN_MCAP
    writer = RunLogWriter(path, run.sim.world, compression=compression, chunk_bytes=64 << 10)
    writer.write_rows(run.full)
    writer.finish()
    with open(path, "rb") as fh:
        reader = make_reader(fh, validate_crcs=True)
        summary = reader.get_summary()
        assert summary is not None and len(summary.chunk_indexes) > 1
        assert {c.compression for c in summary.chunk_indexes} == {compression}
        assert sum(1 for _ in reader.iter_messages()) == summary.statistics.message_count
    log, ref = read_run_log(path), read_run_log(run.path)
    for name, arr in run.full.items():
        np.testing.assert_array_equal(log.state[name], arr, err_msg=name)
    assert log.map_layers.keys() == ref.map_layers.keys()
