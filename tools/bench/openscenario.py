"""OpenSCENARIO load time of each shared esmini file: our safe parse and translation vs peers.

    python tools/bench/openscenario.py [--quick] [--json FILE]

Per file, medians over repeats (ms): ``parse`` (defusedxml SAX with line/col, our reader),
``translate`` (parameters, catalogs, positions, the whole scenario data; map already cached),
``load_cold`` (the first load_scenario of the file in this process, including the OpenDRIVE map
and validation), plain ``ElementTree`` parse (unsafe, no locations: the floor) and
scenariogeneration's ``ParseOpenScenario`` (the peer) where it parses the file. Files with
unsupported elements are translated with partial translation allowed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _report import median_time, print_table, write_json

from simcore.scenario.loader import load_scenario
from simcore.scenario.openscenario import xosc_options
from simcore.scenario.openscenario.load import translate_file
from simcore.scenario.openscenario.xml import parse_xml

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "esmini" / "xosc"


def bench_file(path: Path, repeats: int) -> dict:
    t0 = time.perf_counter()
    with xosc_options(allow_partial=True):
        load_scenario(path)
    cold = time.perf_counter() - t0
    parse, _ = median_time(lambda: parse_xml(path), repeats)
    trans, _ = median_time(lambda: translate_file(path), repeats)
    plain, _ = median_time(lambda: ET.parse(path), repeats)
    peer = None
    try:
        from scenariogeneration import xosc

        with contextlib.redirect_stdout(io.StringIO()):  # it prints the version it detects
            xosc.ParseOpenScenario(str(path))
            peer, _ = median_time(lambda: xosc.ParseOpenScenario(str(path)), repeats)
    except Exception:  # the peer refuses some esmini files; the row says so
        peer = None
    _, ignored = translate_file(path)
    return {
        "file": path.name,
        "elements": sum(1 for _ in parse_xml(path).walk()),
        "ignored": len(ignored),
        "parse_ms": parse * 1e3,
        "translate_ms": trans * 1e3,
        "load_cold_ms": cold * 1e3,
        "elementtree_ms": plain * 1e3,
        "scenariogeneration_ms": None if peer is None else peer * 1e3,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 repeats instead of 15")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    if not SHARED.is_dir():
        print(f"skipped: {SHARED} is absent")
        return
    repeats = 3 if args.quick else 15
    files = sorted(SHARED.glob("*.xosc"))
    rows = []
    for k, f in enumerate(files):
        print(f"[{k + 1}/{len(files)}] {f.name}", file=sys.stderr, flush=True)
        rows.append(bench_file(f, repeats))
    cols = [
        "file",
        "elements",
        "ignored",
        "parse_ms",
        "translate_ms",
        "load_cold_ms",
        "elementtree_ms",
        "scenariogeneration_ms",
    ]
    print_table("OpenSCENARIO load time per file (ms, medians)", rows, cols)
    med = {
        c: sorted(r[c] for r in rows)[len(rows) // 2]
        for c in ("parse_ms", "translate_ms", "load_cold_ms", "elementtree_ms")
    }
    print("median over files: " + ", ".join(f"{k} {v:.2f}" for k, v in med.items()))
    write_json(args.json, "openscenario", rows, {"repeats": repeats, "median_over_files": med})


if __name__ == "__main__":
    main()
