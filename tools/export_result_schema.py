"""Regenerate simcore/schema/result.schema.json from simcore/report/result_schema.py (commit the result)."""

from __future__ import annotations

import sys
from pathlib import Path

from simcore.report.result_schema import SHIPPED, schema_text

TARGET = Path(__file__).resolve().parents[1] / "simcore" / "schema" / SHIPPED


def main() -> int:
    """Write the schema; print where."""
    TARGET.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
