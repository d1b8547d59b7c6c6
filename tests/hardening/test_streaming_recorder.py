"""The trajectory recorder streams to disk: memory flat in simulated time, same rows (issue 17)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np

from simcore import limits
from simcore.api import simulation
from simcore.record import trajectory
from simcore.record.trajectory import TrajectoryRecorder
from simcore.runner.loop import Simulation
from simcore.state import WorldState

ROOT = Path(__file__).resolve().parents[2]
REAR_END = ROOT / "tests" / "data" / "rear_end.yaml"
KEYS = ("time", "x", "y", "yaw", "speed", "active", "signals")


def _state(n: int) -> WorldState:
    sim = simulation(REAR_END, record_every=0)
    st = sim.world.state
    assert st.n <= n
    return st


def _record(rows: int, n_actors: int = 571) -> tuple[int, TrajectoryRecorder]:
    """Peak traced bytes while recording ``rows`` snapshots of ``n_actors`` actors, and the recorder."""
    s = WorldState.__new__(WorldState)
    for name in ("x", "y", "yaw", "speed"):
        object.__setattr__(s, name, np.arange(n_actors, dtype=np.float64))
    object.__setattr__(s, "active", np.ones(n_actors, dtype=np.bool_))
    tracemalloc.start()
    rec = TrajectoryRecorder(n_actors, rows + 2, 1, 4, buffer_rows=64)
    for k in range(rows):
        s.x[0] = k
        rec.append(k, k * 0.05, s, np.full(4, k % 5, dtype=np.int8))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, rec


def test_recorder_memory_is_independent_of_duration() -> None:
    short, a = _record(200)
    long, b = _record(2000)  # 10x the simulated time
    buffer_bytes = 64 * 571 * (4 * 8 + 1) + 64 * (8 + 4)
    assert short < 2 * buffer_bytes and long < 2 * buffer_bytes
    assert abs(long - short) < 0.1 * buffer_bytes
    assert b.total_rows == 2000 and b.drained == 1984 and b.rows == 16
    full = b.view()
    assert full["x"].shape == (2000, 571) and (full["x"][:, 0] == np.arange(2000)).all()
    assert (full["signals"][:, 0] == np.arange(2000) % 5).all()
    thin = b.view(max_rows=100)
    assert thin["time"].shape[0] <= 100 and thin["x"][0, 0] == 0 and thin["x"][-1, 0] == 1999
    a.close()
    b.close()


def test_a_simulation_sizes_its_recorder_by_the_buffer_not_by_the_duration() -> None:
    base = simulation(REAR_END)
    sizes = []
    for timeout in (60.0, 3600.0):
        sim = Simulation(base.world, base.agent, end=base.end.model_copy(update={"timeout_s": timeout}))
        rec = sim.recorder
        sizes.append(sum(getattr(rec, k).nbytes for k in KEYS))
    assert sizes[0] == sizes[1]


def test_a_drained_run_records_the_same_rows_as_one_kept_in_memory() -> None:
    with limits.override(recorder_rows=10**6):
        whole = simulation(REAR_END).run().trajectory
    with limits.override(recorder_rows=1):  # the smallest buffer: one compiled chunk (258 rows)
        sim = simulation(REAR_END)
        streamed = sim.run().trajectory
        assert sim.recorder.drained > 0
    for key in KEYS:
        np.testing.assert_array_equal(streamed[key], whole[key])


def test_reports_read_at_most_output_rows() -> None:
    with limits.override(output_rows=50):
        res = simulation(REAR_END).run()
    t = res.trajectory["time"]
    assert t.shape[0] <= 50 and t[0] == 0.0 and np.isclose(t[-1], res.sim_time)


def test_restore_rolls_back_rows_drained_after_the_snapshot() -> None:
    # a 258-row buffer and 1-step calls: between the snapshot and the restore the recorder drains to disk
    with limits.override(recorder_rows=1):
        whole = simulation(REAR_END)
        whole.run()
        ref = whole.recorder.view()
        sim = simulation(REAR_END)
        for _ in range(40):
            sim.step()
        snap = sim.snapshot()
        for _ in range(600):
            if sim.step().done:
                break
        assert sim.recorder.drained > snap.rec_total  # rows after the snapshot reached the spill file
        sim.restore(snap)
        assert sim.recorder.total_rows == snap.rec_total == 41
        res = sim.run()
        again = sim.recorder.view()
    assert again["time"].shape == ref["time"].shape
    for key in KEYS:
        np.testing.assert_array_equal(again[key], ref[key])
    assert res.state_hash == whole.result(0.0).state_hash


def test_recorder_truncate_and_load_keep_rows_in_order() -> None:
    _, rec = _record(300)  # 64-row buffer: 256 rows on disk
    full = rec.view()
    rec.truncate(100)  # back into the disk part
    assert rec.total_rows == 100 and rec.rows == 0
    s = WorldState.__new__(WorldState)
    for name in ("x", "y", "yaw", "speed"):
        object.__setattr__(s, name, np.full(571, -1.0))
    object.__setattr__(s, "active", np.zeros(571, dtype=np.bool_))
    for k in range(100, 200):
        rec.append(k, k * 0.05, s, np.zeros(4, dtype=np.int8))
    v = rec.view()
    assert v["x"].shape[0] == 200
    np.testing.assert_array_equal(v["x"][:100], full["x"][:100])
    assert (v["x"][100:] == -1.0).all()
    rec.load(full)
    np.testing.assert_array_equal(rec.view()["x"], full["x"])
    np.testing.assert_array_equal(rec.view()["signals"], full["signals"])
    rec.close()


def _read_peak(fn) -> tuple[int, int]:
    """Peak traced bytes of ``fn()`` and the bytes of what it returned."""
    tracemalloc.start()
    out = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, sum(a.nbytes for a in (out.values() if isinstance(out, dict) else [out]))


def test_reading_back_is_exact_and_bounded(monkeypatch) -> None:
    monkeypatch.setattr(trajectory, "READ_BYTES", 64 << 10)  # blocks of 64 KiB (14 rows of 571 actors)
    _, a = _record(200)
    _, b = _record(2000)
    full = b.view()
    cols = b.view(actors=[3, 0])
    for key in ("x", "y", "yaw", "speed", "active"):
        np.testing.assert_array_equal(cols[key], full[key][:, [3, 0]])
    np.testing.assert_array_equal(cols["signals"], full["signals"])
    mask = np.zeros(571, dtype=np.bool_)
    mask[[1, 5, 7]] = True
    b.active[: b.rows, 5] = False  # some rows of one selected actor inactive (in the buffer)
    full = b.view()
    count = (full["active"] & mask).sum(axis=1)
    expect = (full["speed"] * (full["active"] & mask)).sum(axis=1) / count
    np.testing.assert_array_equal(b.mean_speed(mask), expect)
    assert b.view(names=("signals",)).keys() == {"signals"}
    # reading 100 strided rows, every row of one actor, or the traffic speed: what is returned (at
    # most twice, while it is joined) and a few blocks, never a 9 MB spill file of a field
    for read in (lambda r: r.view(max_rows=100), lambda r: r.view(actors=[0]), lambda r: r.mean_speed(mask)):
        for rec in (a, b):
            peak, kept = _read_peak(lambda read=read, rec=rec: read(rec))
            assert peak < 2 * kept + 600_000, (peak, kept)
    a.close()
    b.close()


def test_post_run_metrics_from_columns_equal_those_from_every_row() -> None:
    from simcore.evaluation.post_run import post_run_metrics, post_run_trajectory

    sim = simulation(ROOT / "scenarios" / "urban" / "emergency_vehicle.yaml")
    sim.run()
    sim.recorder.drain()  # every row on disk: the blocks are read back
    assert sim.recorder.drained > 200 and sim.emergency_vehicles
    w, rec = sim.world, sim.recorder
    args = (sim._collisions_info, sim.emergency_vehicles, False, 0.5)
    old = post_run_metrics(w, rec.view(), *args)
    new = post_run_metrics(w, post_run_trajectory(w, rec, sim.emergency_vehicles), *args)
    assert old and new.keys() == old.keys()
    np.testing.assert_array_equal(list(new.values()), list(old.values()))
