"""Map-mutation fuzzing: every mutant of a shared map loads, or is refused with a typed, located
MapError, within a time and memory bound.

Mutations (Hypothesis): an attribute of a random element set to a hostile value (non-finite, huge,
negative, empty, text, wrong type), an attribute removed or added, an element removed or
duplicated. CI runs ``FUZZ_EXAMPLES`` cases (about 30 s); set ``SIMCORE_FUZZ_EXAMPLES=2000``
for a longer local profile. Every crash found became a case in ``test_opendrive_tolerant.py``.
"""

from __future__ import annotations

import os
import re
import time
import tracemalloc
import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml.ElementTree as DET
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simcore.road.errors import MapError
from simcore.road.network import RoadNetwork
from simcore.road.opendrive import load_opendrive

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "esmini" / "xodr"
#: Small maps, so that a case costs well under a second when accepted.
BASES = [Path(__file__).parent / "data" / "small_town.xodr"] + [
    SHARED / n for n in ("straight_500m_signs.xodr", "fabriksgatan_traffic_lights.xodr", "curve_r100.xodr")
]
BASES = [p for p in BASES if p.is_file()]
#: Cases per CI run; the environment variable raises it for a local profile.
FUZZ_EXAMPLES = int(os.environ.get("SIMCORE_FUZZ_EXAMPLES", "40"))
#: CI draws the same cases every run; the local profile explores new ones each time.
DERANDOMIZE = "SIMCORE_FUZZ_EXAMPLES" not in os.environ
#: Per-case bounds: wall time (s, generous for a shared CI machine) and traced peak memory (MiB).
MAX_CASE_S = 20.0
MAX_CASE_MIB = 400.0

HOSTILE = [
    "nan", "NaN", "inf", "-inf", "1e308", "-1e308", "1e300", "1e-320", "0", "-0", "-1", "-1e9", "1e9",
    "", " ", "abc", "0x10", "1,5", "99999999999999999999999", "3:0:1", "true", "start", "end", "none",
]  # fmt: skip


@pytest.fixture(scope="module")
def trees() -> list[ET.Element]:
    # The maps are read like the loader does (declaration dropped: some have comments before it).
    return [DET.fromstring(re.sub(r"<\?xml[^?]*\?>", "", p.read_text(), count=1)) for p in BASES]


def _mutate(root: ET.Element, data: st.DataObject) -> str:
    elements = list(root.iter())
    el = elements[data.draw(st.integers(0, len(elements) - 1), label="element")]
    op = data.draw(st.sampled_from(["set", "set", "set", "drop_attr", "add_attr", "drop_el", "dup_el"]), label="op")
    if op in ("set", "drop_attr") and el.attrib:
        key = data.draw(st.sampled_from(sorted(el.attrib)), label="attr")
        if op == "drop_attr":
            del el.attrib[key]
        else:
            value = data.draw(
                st.one_of(
                    st.sampled_from(HOSTILE),
                    st.floats(allow_nan=True, allow_infinity=True).map(repr),
                    st.integers(-(10**30), 10**30).map(str),
                ),
                label="value",
            )
            el.attrib[key] = value
    elif op == "add_attr":
        el.attrib[data.draw(st.sampled_from(["s", "length", "a", "d", "id", "junk"]), label="new")] = data.draw(
            st.sampled_from(HOSTILE), label="new_value"
        )
    elif op in ("drop_el", "dup_el") and el is not root:
        parent = next(p for p in root.iter() if el in list(p))
        if op == "drop_el":
            parent.remove(el)
        else:
            parent.insert(list(parent).index(el), DET.fromstring(ET.tostring(el)))
    return ET.tostring(root, encoding="unicode")


@pytest.mark.skipif(not BASES, reason="no base maps")
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=DERANDOMIZE)
@given(data=st.data())
def test_map_mutants_load_or_fail_located_within_bounds(trees, data):
    base = data.draw(st.integers(0, len(trees) - 1), label="base")
    text = _mutate(DET.fromstring(ET.tostring(trees[base])), data)  # a fresh copy
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        net = load_opendrive(text=text)
        assert isinstance(net, RoadNetwork)
    except MapError as exc:
        assert str(exc).startswith("<string>") and exc.reason  # typed, located by file (and road where known)
    finally:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    elapsed = time.perf_counter() - t0
    assert elapsed < MAX_CASE_S, f"{elapsed:.1f} s on {BASES[base].name}"
    assert peak < MAX_CASE_MIB, f"{peak:.0f} MiB on {BASES[base].name}"
