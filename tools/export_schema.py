"""Regenerate simcore/schema/scenario.schema.json from the pydantic models (commit the result)."""

from __future__ import annotations

import sys
from pathlib import Path

from simcore.scenario.json_schema import SHIPPED, schema_text

TARGET = Path(__file__).resolve().parents[1] / "simcore" / "schema" / SHIPPED


def main() -> int:
    """Write the schema; print where."""
    TARGET.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
