"""Build the wheel and check that it carries the built-in scenarios and vehicles."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    """Exit 0 when every catalog file (scenarios, their maps and logs, vehicles, sensor rigs) is
    inside the wheel under simcore/data/, and the shipped JSON schemas and motion-platform files are too."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", tmp, str(ROOT)], check=True)
        wheel = next(Path(tmp).glob("simcore-*.whl"))
        names = set(zipfile.ZipFile(wheel).namelist())
    missing = []
    for folder in ("scenarios", "vehicles"):
        for f in sorted((ROOT / folder).rglob("*")):
            if not f.is_file() or f.suffix == ".png" or "__pycache__" in f.parts:
                continue
            inside = f"simcore/data/{folder}/{f.relative_to(ROOT / folder).as_posix()}"
            if inside not in names:
                missing.append(inside)
    pkg = ROOT / "simcore"
    shipped = [*(pkg / "schema").glob("*.json"), *(pkg / "cueing" / "platforms").glob("*.yaml")]
    for schema in sorted(shipped):
        inside = schema.relative_to(ROOT).as_posix()
        if inside not in names:
            missing.append(inside)
    if missing:
        print("wheel lacks:", *missing, sep="\n  ")
        return 1
    print(f"{wheel.name}: catalogs present ({len(names)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
