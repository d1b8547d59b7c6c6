"""Results store of a batch: one SQLite row per run (``results.sqlite``), queries, CSV/Parquet export.

Rebuilt from the batch folder after every batch (the folder's result.json files are the
truth), so a resumed or partly rerun batch always has a complete, consistent store.
Columns: the fixed ones in ``COLUMNS``, then ``metric_<name>`` for every metric,
``events_<kind>`` for every event kind and ``score_<name>`` for every published score.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import simcore

#: The store's file name inside a batch folder.
STORE_DB = "results.sqlite"
#: Fixed columns (name, SQL type), in order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "TEXT PRIMARY KEY"),
    ("scenario", "TEXT"),
    ("scenario_key", "TEXT"),
    ("scenario_file", "TEXT"),
    ("variant", "INTEGER"),
    ("seed", "INTEGER"),
    ("agent", "TEXT"),
    ("agent_key", "TEXT"),
    ("agent_name", "TEXT"),
    ("status", "TEXT"),
    ("outcome", "TEXT"),
    ("termination", "TEXT"),
    ("score", "REAL"),
    ("failed_criteria", "TEXT"),
    ("parameters", "TEXT"),
    ("tags", "TEXT"),
    ("sim_time_s", "REAL"),
    ("wall_time_s", "REAL"),
    ("events", "INTEGER"),
    ("state_hash", "TEXT"),
    ("engine_version", "TEXT"),
    ("git_revision", "TEXT"),
    ("error", "TEXT"),
    ("dir", "TEXT"),
)


def git_revision() -> str | None:
    """The git commit of the simcore source tree, when it is a checkout; else None."""
    root = Path(simcore.__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    rev = out.stdout.strip()
    return rev if out.returncode == 0 and rev else None


def _tags(entry: dict[str, Any], data: dict[str, Any]) -> list[str]:
    """The scenario's own ``tags``, then derived ones: its folders below the batch root, its regulation
    verdicts (each tag once)."""
    key = entry.get("scenario_key") or ""
    folders = key.split("/")[:-1]
    tags = [*(data.get("tags") or []), *folders, *(f"regulation:{k}" for k in sorted(data.get("regulation") or {}))]
    return list(dict.fromkeys(tags))


def run_rows(entries: list[dict[str, Any]], out: Path, git_rev: str | None) -> list[dict[str, Any]]:
    """One row per entry: its job fields, status, and from result.json every metric, event count and score."""
    rows = []
    for e in entries:
        data: dict[str, Any] = {}
        if e["status"] in ("pass", "fail"):
            try:
                data = json.loads((out / e["dir"] / "result.json").read_text())
            except (OSError, ValueError):
                data = {}
        row: dict[str, Any] = {
            "run_id": e["dir"],
            "scenario": data.get("scenario"),
            "scenario_key": e.get("scenario_key"),
            "scenario_file": e.get("scenario_file"),
            "variant": e.get("variant"),
            "seed": data.get("seed", e.get("seed")),
            "agent": e.get("agent"),
            "agent_key": e.get("agent_key"),
            "agent_name": data.get("agent"),
            "status": e["status"],
            "outcome": data.get("termination") or e["status"],
            "termination": data.get("termination"),
            "score": (data.get("score") or {}).get("value"),
            "failed_criteria": json.dumps([c["name"] for c in data.get("criteria", []) if not c.get("passed")]),
            "parameters": json.dumps(data.get("parameters") or e.get("overrides") or {}, sort_keys=True),
            "tags": json.dumps(_tags(e, data)),
            "sim_time_s": data.get("sim_time_s"),
            "wall_time_s": data.get("wall_time_s"),
            "events": len(data.get("events", [])),
            "state_hash": data.get("state_hash"),
            "engine_version": simcore.__version__,
            "git_revision": git_rev,
            "error": e.get("error"),
            "dir": e["dir"],
        }
        for k, v in (data.get("metrics") or {}).items():
            row[f"metric_{k}"] = v
        for k, n in Counter(ev["kind"] for ev in data.get("events", [])).items():
            row[f"events_{k}"] = n
        for k, v in (data.get("scores") or {}).items():
            row[f"score_{k}"] = v
        rows.append(row)
    return rows


def _columns(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    fixed = dict(COLUMNS)
    extra = sorted({k for r in rows for k in r if k not in fixed})
    return [*COLUMNS, *((k, "INTEGER" if k.startswith("events_") else "REAL") for k in extra)]


def write_store(rows: list[dict[str, Any]], path: Path) -> None:
    """(Re)write the SQLite store at ``path`` (atomically: a reader sees the old or the new one)."""
    cols = _columns(rows)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    try:
        con.execute(f"CREATE TABLE runs ({', '.join(f'{_q(n)} {t}' for n, t in cols)})")
        names = [n for n, _ in cols]
        con.executemany(
            f"INSERT INTO runs VALUES ({', '.join('?' * len(names))})", [[r.get(n) for n in names] for r in rows]
        )
        con.commit()
    finally:
        con.close()
    tmp.replace(path)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def open_store(folder: Path) -> sqlite3.Connection:
    """A read-only connection to a batch folder's store (rows as ``sqlite3.Row``)."""
    path = Path(folder) / STORE_DB
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no results store (run simcore batch --out {folder} first)")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    return con


def read_rows(folder: Path, where: str | None = None) -> list[dict[str, Any]]:
    """Every row of the store (filtered by the SQL expression ``where``), in run order."""
    con = open_store(folder)
    try:
        sql = "SELECT * FROM runs" + (f" WHERE {where}" if where else "") + " ORDER BY rowid"
        return [dict(r) for r in con.execute(sql)]
    finally:
        con.close()


def group_rows(rows: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """Per group (``scenario``, ``agent``, ``tag``, or any column): runs, outcomes, pass rate, score stats."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if by == "tag":
            keys = json.loads(r.get("tags") or "[]") or ["(none)"]
        else:
            col = {"scenario": "scenario_key", "agent": "agent_key"}.get(by, by)
            if col not in r:
                raise KeyError(f"--group-by {by}: no such column")
            keys = [str(r[col])]
        for k in keys:
            groups.setdefault(k, []).append(r)
    out = []
    for k, rs in sorted(groups.items()):
        scores = sorted(r["score"] for r in rs if r.get("score") is not None)
        ttc = [float(v) for r in rs if (v := r.get("metric_min_ttc_s")) is not None]
        n = len(rs)
        out.append(
            {
                by: k,
                "runs": n,
                "pass": sum(r["status"] == "pass" for r in rs),
                "fail": sum(r["status"] == "fail" for r in rs),
                "error": sum(r["status"] not in ("pass", "fail") for r in rs),
                "pass_rate": sum(r["status"] == "pass" for r in rs) / n,
                "score_mean": sum(scores) / len(scores) if scores else None,
                "score_min": scores[0] if scores else None,
                "score_median": scores[len(scores) // 2] if scores else None,
                "min_ttc_s": min(ttc) if ttc else None,
            }
        )
    return out


def format_table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    """Plain-text table of ``rows`` (floats to 4 significant digits)."""
    if not rows:
        return "(no runs)"
    cols = columns or list(rows[0])

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return "-" if v is None else str(v)

    cells = [[cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=False))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) for row in cells]
    return "\n".join(lines)


def export(rows: list[dict[str, Any]], path: Path) -> None:
    """Write ``rows`` as CSV (``.csv``, standard library) or Parquet (``.parquet``, needs pyarrow)."""
    cols = list(dict.fromkeys(k for r in rows for k in r))
    if path.suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise RuntimeError("Parquet export needs pyarrow: pip install 'simcore[store]' (or export .csv)") from exc
        pq.write_table(pa.table({c: [r.get(c) for r in rows] for c in cols}), path)
        return
    if path.suffix != ".csv":
        raise ValueError(f"{path}: export to .csv or .parquet")
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
