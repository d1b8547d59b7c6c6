"""``simcore drive`` on the command line: outputs, exit codes, refusals."""

import json

import numpy as np

from simcore.cli import main


def test_drive_command_writes_the_run_and_drive_outputs(tmp_path, capsys, monkeypatch):
    import simcore.report.outputs as outputs

    seen = []  # the run's own reports are simcore run's (tested there, and slow): record the call only
    monkeypatch.setattr(outputs, "write_run_outputs", lambda world, res, folder: seen.append((res, folder)))
    code = main(
        [
            "drive",
            "cut_in",
            "--input",
            "autopilot",
            "--no-window",
            "--faster-than-real-time",
            "--max-time",
            "2",
            "--cueing",
            "mpc",
            "--out",
            str(tmp_path),
        ]
    )
    assert code in (0, 1)
    text = capsys.readouterr().out
    assert "physics" in text and "platform   hexapod_6dof (mpc)" in text
    doc = json.loads((tmp_path / "drive.json").read_text())
    assert doc["timing"]["ticks"] == 2000 and doc["timing"]["paced"] is False
    assert doc["platform"]["cueing"] == "mpc" and "surge" in doc["fidelity"]["channels"]
    log = np.load(tmp_path / "drive_log.npz")
    assert log["pose"].shape == (2000, 6)
    assert len(seen) == 1 and seen[0][1] == tmp_path and seen[0][0].sim_time == 2.0


def test_drive_command_refuses_bad_combinations(capsys, tmp_path):
    assert main(["drive", "cut_in", "--input", "keyboard", "--no-window"]) == 2
    bad = tmp_path / "p.yaml"
    bad.write_text("simcore_platform: 1\nname: p\n")
    assert main(["drive", "cut_in", "--input", "autopilot", "--no-window", "--platform", str(bad)]) == 2
    assert "p.yaml:1:1" in capsys.readouterr().err
