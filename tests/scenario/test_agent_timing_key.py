"""The scenario key ``agent_timing`` reaches the Simulation; explicit options override it."""

from pathlib import Path

from simcore.api import simulation

CATALOG = Path(__file__).resolve().parents[2] / "scenarios" / "urban" / "t_junction_left_turn.yaml"


def _with_timing(tmp_path: Path, block: str) -> Path:
    text = CATALOG.read_text() + "\n" + block + "\n"
    path = tmp_path / "timed.yaml"
    path.write_text(text)
    return path


def test_agent_timing_from_the_scenario_file(tmp_path):
    path = _with_timing(tmp_path, "agent_timing: {control_latency_s: 0.15, compute_budget_s: 0.5, late_policy: brake}")
    sim = simulation(path, "autopilot", record_every=0)
    assert sim.timing.latency_s == 0.15
    assert sim.timing.budget_s == 0.5
    assert sim.timing.late_policy == "brake"


def test_explicit_options_override_the_scenario(tmp_path):
    path = _with_timing(tmp_path, "agent_timing: {control_latency_s: 0.15, late_policy: brake}")
    sim = simulation(path, "autopilot", record_every=0, control_latency_s=0.0, late_policy="hold")
    assert sim.timing.latency_s == 0.0
    assert sim.timing.late_policy == "hold"


def test_default_is_no_latency(tmp_path):
    sim = simulation(CATALOG, "autopilot", record_every=0)
    assert sim.timing.latency_s == 0.0 and sim.timing.budget_s is None
