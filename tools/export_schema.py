"""Regenerate simcore/schema/scenario.schema.json from the pydantic models (commit the result)."""

from __future__ import annotations

import sys
from pathlib import Path

from simcore.scenario.json_schema import SHIPPED, schema_text

#: Folder of the shipped JSON schemas.
SCHEMA_DIR = Path(__file__).resolve().parents[1] / "simcore" / "schema"
TARGET = SCHEMA_DIR / SHIPPED


def write_schema(name: str, text: str) -> int:
    """Write ``text`` to the shipped schema file ``name`` (UTF-8); print where; exit status 0."""
    target = SCHEMA_DIR / name
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


def main() -> int:
    """Write the scenario schema; print where."""
    return write_schema(SHIPPED, schema_text())


if __name__ == "__main__":
    sys.exit(main())
