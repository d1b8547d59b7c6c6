"""Parameters: sweeps x draws expand to reproducible variants; values reach the scenario."""

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from simcore.api import simulation
from simcore.cli import main
from simcore.scenario.expand import expand
from simcore.scenario.loader import load_scenario

SWEEP = Path(__file__).parents[1] / "data" / "sweep.yaml"


def test_variants_are_the_cartesian_product_of_sweeps_times_draws():
    variants = expand(SWEEP, draws=4)
    assert len(variants) == 3 * 2 * 4
    combos = {(v.parameters["headway"], v.parameters["lanes"]) for v in variants}
    assert combos == set(itertools.product([1.0, 1.5, 2.0], [1, 2]))
    # every combination gets 4 different random draws
    for combo in combos:
        speeds = {
            v.parameters["speed_kph"] for v in variants if (v.parameters["headway"], v.parameters["lanes"]) == combo
        }
        assert len(speeds) == 4
    for v in variants:
        assert 30 <= v.parameters["speed_kph"] <= 50
        assert 1.0 <= v.parameters["gap"] <= 3.0  # normal draw clipped to [min, max]
        assert v.parameters["label"] == "fixed"


def test_a_variant_is_reproducible_from_file_index_and_seed():
    a = expand(SWEEP, draws=2)
    b = expand(SWEEP, draws=2)
    assert [v.parameters for v in a] == [v.parameters for v in b]
    c = expand(SWEEP, draws=2, seed=99)
    assert [v.parameters["speed_kph"] for v in a] != [v.parameters["speed_kph"] for v in c]
    # the same variant in a fresh process
    code = f"from simcore.scenario.expand import expand; print(repr(expand({str(SWEEP)!r}, draws=2)[7].parameters))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == repr(a[7].parameters)


@pytest.mark.parametrize("k", [0, 3, 5])
def test_run_variant_uses_that_variants_values(k):
    expected = expand(SWEEP)[k].parameters
    loaded = load_scenario(SWEEP, variant=k)
    assert loaded.parameters == expected
    lead = loaded.spec.actors[0]
    assert lead.behavior.idm.time_headway_s == expected["headway"]
    assert lead.behavior.idm.min_gap_m == pytest.approx(expected["gap"])
    assert loaded.spec.ego.start.speed_kph == pytest.approx(expected["speed_kph"])
    res = simulation(SWEEP, variant=k).run()
    assert res.variant == k and res.parameters == expected


def test_expand_cli_json(capsys):
    assert main(["expand", str(SWEEP), "--draws", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["variants"]) == 12
    assert data["variants"][1]["parameters"]["headway"] == 1.5


def test_set_overrides_a_sweep():
    loaded = load_scenario(SWEEP, overrides={"headway": 2.5}, variant=1)
    assert loaded.spec.actors[0].behavior.idm.time_headway_s == 2.5
