"""Regression gate: compare two batch folders run by run (``simcore regress``).

Runs are matched on (scenario, variant, seed, agent). Reported: new failures (passed before,
not now), fixed runs, score changes beyond the tolerance, state-hash changes with an
unchanged outcome (the run is no longer bit-identical although it ends the same), flaky
scenarios (outcome differs across the seeds of one variant, in either batch), and runs only
in one of the two. The gate fails on new failures and on score drops beyond the tolerance
(optionally also on hash changes); it writes JUnit XML (one case per matched run) and an
HTML diff with the worst changes side by side.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simcore.batch.store import read_rows

#: Score change (points of 100) tolerated before it is reported.
DEFAULT_TOLERANCE = 1.0
#: Worst changes shown with pictures in the HTML diff.
SHOWN = 8

Key = tuple[str, Any, Any, str]


def _key(r: dict[str, Any]) -> Key:
    return (r["scenario_key"], r["variant"], r["seed"], r["agent_key"])


def _name(k: Key) -> str:
    return f"{k[0]}[{k[1]}] seed {k[2]} ({k[3]})"


@dataclass
class Change:
    """One matched run that changed: what kind, the two rows, the score delta."""

    kind: str
    key: Key
    base: dict[str, Any] | None
    cur: dict[str, Any] | None
    delta: float | None = None

    @property
    def name(self) -> str:
        return _name(self.key)


@dataclass
class Comparison:
    """Every finding of ``compare``; ``regressed`` says whether the gate fails."""

    matched: int = 0
    changes: list[Change] = field(default_factory=list)
    flaky: list[dict[str, Any]] = field(default_factory=list)
    fail_on_hash: bool = False

    def of(self, kind: str) -> list[Change]:
        """The changes of one kind."""
        return [c for c in self.changes if c.kind == kind]

    @property
    def regressed(self) -> bool:
        """New failures or score drops beyond the tolerance (and hash changes when asked)."""
        kinds = {"new_failure", "score_drop", "missing"} | ({"hash_changed"} if self.fail_on_hash else set())
        return any(c.kind in kinds for c in self.changes)

    def counts(self) -> dict[str, int]:
        """Number of changes per kind, and flaky groups."""
        kinds = ("new_failure", "fixed", "score_drop", "score_rise", "hash_changed", "missing", "new")
        return {**{k: len(self.of(k)) for k in kinds}, "flaky": len(self.flaky), "matched": self.matched}


def _flaky(rows: list[dict[str, Any]], which: str) -> list[dict[str, Any]]:
    groups: dict[tuple[str, Any, str], dict[Any, str]] = {}
    for r in rows:
        groups.setdefault((r["scenario_key"], r["variant"], r["agent_key"]), {})[r["seed"]] = r["status"]
    return [
        {
            "batch": which,
            "scenario": k[0],
            "variant": k[1],
            "agent": k[2],
            "outcomes": {str(s): v for s, v in o.items()},
        }
        for k, o in sorted(groups.items(), key=lambda kv: str(kv[0]))
        if len(o) > 1 and len(set(o.values())) > 1
    ]


def compare(
    base_rows: list[dict[str, Any]],
    cur_rows: list[dict[str, Any]],
    tolerance: float = DEFAULT_TOLERANCE,
    fail_on_hash: bool = False,
) -> Comparison:
    """Compare the store rows of a baseline and a current batch."""
    base = {_key(r): r for r in base_rows if r.get("agent_key")}
    cur = {_key(r): r for r in cur_rows if r.get("agent_key")}
    out = Comparison(fail_on_hash=fail_on_hash)
    for k in sorted(set(base) | set(cur), key=str):
        b, c = base.get(k), cur.get(k)
        if b is None:
            out.changes.append(Change("new", k, None, c))
            continue
        if c is None:
            out.changes.append(Change("missing", k, b, None))
            continue
        out.matched += 1
        passed_before, passed_now = b["status"] == "pass", c["status"] == "pass"
        if passed_before and not passed_now:
            out.changes.append(Change("new_failure", k, b, c))
        elif passed_now and not passed_before:
            out.changes.append(Change("fixed", k, b, c))
        bs, cs = b.get("score"), c.get("score")
        if bs is not None and cs is not None and abs(cs - bs) > tolerance:
            out.changes.append(Change("score_drop" if cs < bs else "score_rise", k, b, c, cs - bs))
        same_outcome = (b["status"], b.get("outcome")) == (c["status"], c.get("outcome"))
        if same_outcome and b.get("state_hash") and c.get("state_hash") and b["state_hash"] != c["state_hash"]:
            out.changes.append(Change("hash_changed", k, b, c))
    out.flaky = _flaky(base_rows, "baseline") + _flaky(cur_rows, "current")
    return out


def _message(c: Change) -> str:
    b, r = c.base or {}, c.cur or {}
    if c.kind == "new_failure":
        why = r.get("error") or ", ".join(json.loads(r.get("failed_criteria") or "[]")) or r.get("outcome")
        return f"passed in the baseline, now {r['status']}: {why}"
    if c.kind == "score_drop":
        return f"score {b['score']:.2f} -> {r['score']:.2f} ({c.delta:+.2f})"
    if c.kind == "hash_changed":
        return f"state hash {b['state_hash']} -> {r['state_hash']} with the same outcome ({r['status']})"
    if c.kind == "missing":
        return "in the baseline, not in the current batch"
    return c.kind


def write_junit(cmp: Comparison, cur_rows: list[dict[str, Any]], path: Path) -> None:
    """One test case per matched or missing run; a failure for each regression."""
    from simcore.report.junit import JUnitCase
    from simcore.report.junit import write_junit as _write

    gate = {"new_failure", "score_drop", "missing"} | ({"hash_changed"} if cmp.fail_on_hash else set())
    bad: dict[Key, list[str]] = {}
    for c in cmp.changes:
        if c.kind in gate:
            bad.setdefault(c.key, []).append(_message(c))
    keys = sorted({_key(r) for r in cur_rows if r.get("agent_key")} | set(bad), key=str)
    cases = []
    for k in keys:
        msgs = bad.get(k, [])
        failure = ("; ".join(msgs)[:500], "\n".join(msgs)) if msgs else None
        props = {"scenario": k[0], "variant": k[1], "seed": k[2], "agent": k[3]}
        cases.append(JUnitCase(f"regress.{k[0]}", _name(k), 0.0, failure=failure, properties=props))
    _write(cases, path, name="simcore regress")


def _side_by_side(c: Change, base_dir: Path, cur_dir: Path) -> str:
    from simcore.report.html import png_data_uri

    cells = []
    for label, row, root in (("baseline", c.base, base_dir), ("current", c.cur, cur_dir)):
        if row is None:
            cells.append(f"<td><b>{label}</b><br>(no run)</td>")
            continue
        png = root / row["dir"] / "topdown.png"
        img = (
            f'<img alt="{label} top-down" src="{png_data_uri(png.read_bytes())}">' if png.is_file() else "(no picture)"
        )
        score = "-" if row.get("score") is None else f"{row['score']:.2f}"
        cells.append(f"<td><b>{label}</b>: {html.escape(row['status'])}, score {score}, "
                     f"{html.escape(str(row.get('outcome')))}<br>{img}</td>")  # fmt: skip
    return "<table><tr>" + "".join(cells) + "</tr></table>"


def _score_plot(base_rows: list[dict[str, Any]], cur_rows: list[dict[str, Any]]) -> bytes | None:
    from simcore.render.mpl import fig_png, plt

    cur = {_key(r): r for r in cur_rows}
    pts = [(b["score"], cur[_key(b)]["score"]) for b in base_rows if _key(b) in cur and b.get("score") is not None
           and cur[_key(b)].get("score") is not None]  # fmt: skip
    if not pts:
        return None
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.plot([0, 100], [0, 100], color="0.7", lw=1)
    ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=12)
    ax.set_xlabel("baseline score")
    ax.set_ylabel("current score")
    ax.set_title("score per matched run")
    fig.tight_layout()
    return fig_png(fig)


def write_html(cmp: Comparison, base_rows: list[dict[str, Any]], cur_rows: list[dict[str, Any]], base_dir: Path,
               cur_dir: Path, path: Path) -> None:  # fmt: skip
    """The HTML diff: counts, the changes by kind, flaky groups, the worst changes side by side."""
    from simcore.report.html import png_data_uri

    e = html.escape
    verdict = "REGRESSION" if cmp.regressed else "OK"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>simcore regress</title>',
        "<style>body{font-family:system-ui,Helvetica,Arial,sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;"
        "vertical-align:top}th{background:#f2f2f2}img{max-width:480px}</style></head><body>",
        f"<h1>simcore regress: {verdict}</h1>",
        f"<p>baseline {e(str(base_dir))} vs current {e(str(cur_dir))}</p><table>",
        *(f"<tr><th>{e(k)}</th><td>{n}</td></tr>" for k, n in cmp.counts().items()),
        "</table>",
    ]
    png = _score_plot(base_rows, cur_rows)
    if png is not None:
        out.append(f'<img alt="score per matched run" src="{png_data_uri(png)}">')
    for kind in ("new_failure", "score_drop", "hash_changed", "missing", "fixed", "score_rise", "new"):
        items = cmp.of(kind)
        if items:
            out.append(f"<h2>{e(kind.replace('_', ' '))} ({len(items)})</h2><ul>")
            out += [f"<li>{e(c.name)}: {e(_message(c))}</li>" for c in items]
            out.append("</ul>")
    if cmp.flaky:
        out.append(f"<h2>flaky ({len(cmp.flaky)})</h2><ul>")
        out += [f"<li>{e(f['batch'])}: {e(f['scenario'])}[{f['variant']}] ({e(f['agent'])}): "
                f"{e(json.dumps(f['outcomes']))}</li>" for f in cmp.flaky]  # fmt: skip
        out.append("</ul>")
    worst = sorted(
        (c for c in cmp.changes if c.kind in ("new_failure", "score_drop", "hash_changed")),
        key=lambda c: (c.kind != "new_failure", c.delta if c.delta is not None else 0.0),
    )[:SHOWN]
    if worst:
        out.append("<h2>worst changes side by side</h2>")
        for c in worst:
            out.append(f"<h3>{e(c.name)}: {e(_message(c))}</h3>" + _side_by_side(c, base_dir, cur_dir))
    out.append("</body></html>")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def regress(
    baseline: Path, current: Path, *, tolerance: float = DEFAULT_TOLERANCE, fail_on_hash: bool = False,
    junit: Path | None = None, html_out: Path | None = None,
) -> Comparison:  # fmt: skip
    """Compare two batch folders; write JUnit XML and the HTML diff (default: into ``current``)."""
    base_rows, cur_rows = read_rows(baseline), read_rows(current)
    cmp = compare(base_rows, cur_rows, tolerance, fail_on_hash)
    write_junit(cmp, cur_rows, junit or current / "regress.xml")
    write_html(cmp, base_rows, cur_rows, baseline, current, html_out or current / "regress.html")
    return cmp


def format_comparison(cmp: Comparison) -> str:
    """Text report: counts, then every regression and notable change."""
    lines = ["regress    " + ", ".join(f"{k} {n}" for k, n in cmp.counts().items())]
    for kind in ("new_failure", "score_drop", "missing", "hash_changed", "fixed", "score_rise", "new"):
        for c in cmp.of(kind):
            lines.append(f"  {kind:12s} {c.name}: {_message(c)}")
    for f in cmp.flaky:
        lines.append(f"  flaky        {f['batch']}: {f['scenario']}[{f['variant']}] ({f['agent']}) {f['outcomes']}")
    lines.append("result     " + ("REGRESSION" if cmp.regressed else "OK"))
    return "\n".join(lines)
