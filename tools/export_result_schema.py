"""Regenerate simcore/schema/result.schema.json from simcore/report/result_schema.py (commit the result)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from export_schema import write_schema

from simcore.report.result_schema import SHIPPED, schema_text


def main() -> int:
    """Write the result schema; print where."""
    return write_schema(SHIPPED, schema_text())


if __name__ == "__main__":
    sys.exit(main())
