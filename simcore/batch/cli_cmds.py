"""``simcore results | regress | search``: the batch folder's store, the regression gate, scenario search."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

EXIT_OK, EXIT_REGRESSION, EXIT_INVALID = 0, 1, 2


def cmd_results(args: argparse.Namespace) -> int:
    """Print a batch folder's runs (or groups of them); export them; print its coverage."""
    from simcore.batch.coverage import coverage, format_coverage
    from simcore.batch.store import export, format_table, group_rows, read_rows

    folder = Path(args.dir)
    try:
        rows = read_rows(folder, args.where)
        if args.export:
            export(rows, Path(args.export))
            print(f"written    {args.export} ({len(rows)} runs)")
        if args.coverage:
            print(format_coverage(coverage(rows, folder)))
        elif args.group_by:
            print(format_table(group_rows(rows, args.group_by)))
        elif not args.export:
            cols = ["run_id", "status", "outcome", "score", "metric_min_ttc_s", "state_hash"]
            print(format_table(rows, [c for c in cols if not rows or c in rows[0]]))
    except (FileNotFoundError, sqlite3.Error, KeyError, RuntimeError, ValueError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"simcore results: {msg}", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


def cmd_regress(args: argparse.Namespace) -> int:
    """Compare a current batch with a baseline; exit 1 on regression."""
    from simcore.batch.regress import format_comparison, regress

    cur = Path(args.current)
    try:
        cmp = regress(
            Path(args.baseline),
            cur,
            tolerance=args.tolerance,
            fail_on_hash=args.fail_on_hash_change,
            junit=Path(args.junit) if args.junit else None,
            html_out=Path(args.html) if args.html else None,
        )
    except (FileNotFoundError, sqlite3.Error) as exc:
        print(f"simcore regress: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if not args.quiet:
        print(format_comparison(cmp))
        print(f"written    {args.junit or cur / 'regress.xml'}, {args.html or cur / 'regress.html'}")
    return EXIT_REGRESSION if cmp.regressed else EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    """Search a scenario's parameters for the agent's worst case; write a regression scenario."""
    from simcore.batch.runner import BackendUnavailableError
    from simcore.batch.search import search
    from simcore.scenario.errors import ScenarioError

    def show(done: int, budget: int, best: float) -> None:
        if not args.quiet:
            print(f"\rsearch     {done}/{budget} runs, best objective {best:.4g}", end="", file=sys.stderr)

    try:
        res = search(
            args.scenario,
            args.agent,
            objective=args.objective,
            budget=args.budget,
            out=Path(args.out),
            workers=args.workers,
            backend=args.backend,
            address=args.address,
            sampler=args.sampler,
            seed=args.seed,
            timeout_s=args.timeout_s,
            progress=show,
        )
    except (ScenarioError, ValueError, FileNotFoundError, BackendUnavailableError) as exc:
        print(f"\nsimcore search: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("\nsimcore search: interrupted", file=sys.stderr)
        return 130
    if not args.quiet:
        data = res.to_json()
        print(file=sys.stderr)
        print(f"search     {data['search_runs']} runs, {data['failures']} failing; first failure at run "
              f"{data['first_failure_run']}")  # fmt: skip
        if res.minimised is not None:
            print(f"minimised  moved from nominal: {', '.join(res.moved) or 'none'}; "
                  f"{json.dumps(res.minimised.values)}")  # fmt: skip
            print(f"written    {res.scenario_out} (alone: {res.confirmed_status})")
    return EXIT_REGRESSION if res.minimised is not None else EXIT_OK


def add_batch_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``results``, ``regress`` and ``search`` on the top-level parser."""
    r = sub.add_parser("results", help="query a batch folder's results store; export CSV/Parquet; coverage")
    r.add_argument("dir", help="batch output folder (holds results.sqlite)")
    r.add_argument("--group-by", metavar="scenario|agent|tag|COLUMN", help="one row per group")
    r.add_argument("--where", metavar="SQL", help="filter, e.g. \"status = 'fail' AND metric_min_ttc_s < 1\"")
    r.add_argument("--export", metavar="FILE.csv|FILE.parquet", help="write the (filtered) runs to a file")
    r.add_argument("--coverage", action="store_true", help="parameter ranges, tags, road features, criticality")
    r.set_defaults(func=cmd_results)
    g = sub.add_parser("regress", help="compare a batch with a baseline; exit 1 on regression")
    g.add_argument("--baseline", required=True, metavar="DIR")
    g.add_argument("--current", required=True, metavar="DIR")
    g.add_argument("--tolerance", type=float, default=1.0, help="score change (of 100) tolerated (default 1)")
    g.add_argument("--fail-on-hash-change", action="store_true", help="a changed state hash is a regression too")
    g.add_argument("--junit", metavar="FILE", help="JUnit XML (default CURRENT/regress.xml)")
    g.add_argument("--html", metavar="FILE", help="HTML diff (default CURRENT/regress.html)")
    g.add_argument("--quiet", action="store_true")
    g.set_defaults(func=cmd_regress)
    s = sub.add_parser("search", help="search a scenario's parameters for failures; exit 1 if one was found")
    s.add_argument("scenario")
    s.add_argument("--agent", default="autopilot", metavar="SPEC")
    s.add_argument("--objective", default="score", help="score or a result metric (min_ttc_s, min_gap_m, ...)")
    s.add_argument("--budget", type=int, default=40, help="runs of the search (minimising adds a few)")
    s.add_argument("--workers", type=int, default=1)
    s.add_argument("--backend", choices=("local", "ray"), default="local")
    s.add_argument("--address", default=None, help="Ray cluster address")
    s.add_argument("--sampler", choices=("cmaes", "random"), default="cmaes")
    s.add_argument("--seed", type=int, default=0, help="seed of the sampler")
    s.add_argument("--timeout-s", type=float, default=None, help="wall-clock limit per run (s)")
    s.add_argument("--out", required=True, metavar="DIR")
    s.add_argument("--quiet", action="store_true")
    s.set_defaults(func=cmd_search)
