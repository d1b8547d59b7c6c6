"""The ``rescore`` and ``replay`` sub-commands' arguments (``simcore.replay`` is imported only when one runs:
``simcore --help`` stays free of numba and the engine)."""

from __future__ import annotations

import argparse
from typing import Any


def _cmd_rescore(args: argparse.Namespace) -> int:
    from simcore.replay import cmd_rescore

    return cmd_rescore(args)


def _cmd_replay(args: argparse.Namespace) -> int:
    from simcore.replay import cmd_replay

    return cmd_replay(args)


def add_replay_commands(sub: Any) -> None:
    """Register ``rescore`` and ``replay`` with the CLI's sub-parsers."""
    rs = sub.add_parser("rescore", help="recompute scores and verdicts of logged runs; exit 0 pass, 1 fail, 2 bad log")
    rs.add_argument("logs", nargs="+", metavar="LOG", help="run.mcap files or run folders")
    rs.add_argument("--out", metavar="DIR", help="write result.json, junit.xml, report.html per run here")
    rs.add_argument("--quiet", action="store_true")
    rs.set_defaults(func=_cmd_rescore)
    rp = sub.add_parser("replay", help="restore a logged run at a step and continue it, e.g. with another agent")
    rp.add_argument("log", metavar="LOG", help="run.mcap or its run folder")
    rp.add_argument("--at", required=True, metavar="STEP|Ts", help="step number, or time in s (e.g. 12.5s)")
    rp.add_argument("--agent", action="append", metavar="[ROLE=]SPEC", help="agent from there on (default: logged)")
    rp.add_argument("--out", metavar="DIR", help="write run.mcap, result.json, junit.xml, report.html here")
    rp.add_argument("--quiet", action="store_true")
    rp.set_defaults(func=_cmd_replay)
