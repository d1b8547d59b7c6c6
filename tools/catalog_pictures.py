"""Render every built-in scenario and write the catalog page (docs/catalog.md + docs/images/catalog/).

Usage: python tools/catalog_pictures.py [--only NAME ...] [--check]

Each scenario is run once with the built-in autopilot (variant 0); its top-down picture goes to
docs/images/catalog/<folder>_<name>.png and docs/catalog.md lists the scenarios by folder with
their description, criteria, the run's outcome and the picture. ``--check`` only verifies that
docs/catalog.md lists every scenario (used by the tests' docs check, cheap).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images" / "catalog"
PAGE = ROOT / "docs" / "catalog.md"


def _scenarios() -> list[Path]:
    return sorted((ROOT / "scenarios").rglob("*.yaml"))


def _slug(path: Path) -> str:
    rel = path.relative_to(ROOT / "scenarios").with_suffix("")
    return "_".join(rel.parts)


def _criteria_text(spec) -> str:
    from simcore.scenario.schema import criterion_key

    parts = []
    for c in spec.criteria:
        name, value = criterion_key(c)
        parts.append(name if value is None else f"{name} {value:g}")
    return ", ".join(parts) or "none"


def render(paths: list[Path]) -> list[dict]:
    """Run and draw each scenario; returns one row per scenario for the page."""
    from tqdm import tqdm

    from simcore.api import simulation
    from simcore.render.topdown import draw_run
    from simcore.scenario.loader import load_scenario

    rows = []
    IMAGES.mkdir(parents=True, exist_ok=True)
    for path in tqdm(paths, unit="scenario"):
        spec = load_scenario(path).spec
        sim = simulation(path)
        res = sim.run()
        image = IMAGES / f"{_slug(path)}.png"
        draw_run(sim.world, res, image)
        rows.append(
            {
                "path": path.relative_to(ROOT).as_posix(),
                "name": spec.name,
                "description": " ".join(spec.description.split()),
                "criteria": _criteria_text(spec),
                "outcome": f"{'pass' if res.passed else 'FAIL'}, {res.termination} at {res.sim_time:.1f} s, "
                f"score {res.score:.1f}",
                "image": image.relative_to(PAGE.parent).as_posix(),
                "actors": int(sim.world.state.n),
            }
        )
    return rows


def write_page(rows: list[dict]) -> None:
    """docs/catalog.md: one section per scenario, grouped by folder."""
    lines = [
        "# Scenario catalog",
        "",
        "Every file under `scenarios/`, run with the built-in `autopilot` (variant 0, default seed).",
        "Regenerate this page and its pictures with `python tools/catalog_pictures.py`.",
        "Run one yourself with `simcore run <path> --out out`.",
        "",
        "| scenario | actors | criteria | autopilot |",
        "|---|---:|---|---|",
    ]
    for r in rows:
        lines.append(f"| [`{r['path']}`](#{_anchor(r['path'])}) | {r['actors']} | {r['criteria']} | {r['outcome']} |")
    folder = None
    for r in rows:
        top = r["path"].split("/")[1]
        if top != folder:
            folder = top
            lines += ["", f"## {folder}"]
        lines += [
            "",
            f"### {r['path']}",
            "",
            r["description"] or "(no description)",
            "",
            f"Criteria: {r['criteria']}. Autopilot: {r['outcome']}.",
            "",
            f"![{r['name']}]({r['image']})",
        ]
    PAGE.write_text("\n".join(lines) + "\n")


def _anchor(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum() or ch in "-_ ").replace(" ", "-")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check that docs/catalog.md lists every scenario")
    args = ap.parse_args(argv)
    paths = _scenarios()
    if args.check:
        text = PAGE.read_text() if PAGE.exists() else ""
        missing = [p.relative_to(ROOT).as_posix() for p in paths if f"### {p.relative_to(ROOT).as_posix()}" not in text]
        for m in missing:
            print(f"docs/catalog.md does not list {m}", file=sys.stderr)
        return 1 if missing else 0
    write_page(render(paths))
    print(f"wrote {PAGE.relative_to(ROOT)} and {len(paths)} pictures in {IMAGES.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
