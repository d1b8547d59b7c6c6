"""The catalog page (docs/catalog.md) lists every built-in scenario with its picture."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_catalog_page_lists_every_scenario_with_an_existing_picture():
    page = (ROOT / "docs" / "catalog.md").read_text()
    for path in sorted((ROOT / "scenarios").rglob("*.yaml")):
        rel = path.relative_to(ROOT).as_posix()
        assert f"### {rel}" in page, f"docs/catalog.md lacks {rel}: run python tools/catalog_pictures.py"
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page):
        assert (ROOT / "docs" / image).is_file(), image
