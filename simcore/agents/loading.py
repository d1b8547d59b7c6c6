"""Resolve ``--agent`` specs: a built-in name, ``replay:LOG.csv``, ``exec:CMD ARGS``,
``module:Class`` or ``path/file.py:Class``; ``ROLE=SPEC`` names the controlled vehicle.

Agents are only ever named on the command line or in code, never inside scenario files.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Iterable
from pathlib import Path

from simcore.agents.builtin.autopilot import Autopilot, Idle
from simcore.agents.builtin.replay import Replay, ReplayError
from simcore.agents.protocol import Agent

BUILTIN: dict[str, type] = {"autopilot": Autopilot, "idle": Idle}
#: A ROLE in ``ROLE=SPEC``: "ego" or a vehicle actor id (platoon members: ``id#k``).
_ROLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*(#[0-9]+)?$")


class AgentLoadError(ValueError):
    """The agent spec cannot be resolved into an Agent."""


def split_role(spec: str) -> tuple[str, str]:
    """``"ROLE=SPEC"`` -> (ROLE, SPEC); a bare SPEC is the ego's."""
    role, eq, rest = spec.partition("=")
    if eq and _ROLE.match(role.strip()) and rest.strip():
        return role.strip(), rest.strip()
    return "ego", spec


def load_agents(specs: Iterable[str]) -> dict[str, Agent]:
    """Agents by role from ``[ROLE=]SPEC`` strings (``--agent``, repeatable); a role may appear once."""
    out: dict[str, Agent] = {}
    for spec in specs:
        role, body = split_role(spec)
        if role in out:
            raise AgentLoadError(f"two agents for {role!r}: give each controlled vehicle one --agent")
        out[role] = load_agent(body)
    return out


def load_agent(spec: str) -> Agent:
    """Instantiate the agent named by ``spec`` (no constructor arguments for classes)."""
    if spec in BUILTIN:
        return BUILTIN[spec]()
    if spec.startswith("exec:") or spec.startswith("exec,"):
        from simcore.agents.exec_agent import parse_exec_spec

        try:
            return parse_exec_spec(spec)  # type: ignore[return-value]
        except ValueError as exc:
            raise AgentLoadError(str(exc)) from None
    if spec.startswith("replay:"):
        path = spec[len("replay:") :].strip()
        if not path:
            raise AgentLoadError("replay agent: give the log file, replay:PATH.csv")
        try:
            return Replay(path)
        except ReplayError as exc:
            raise AgentLoadError(str(exc)) from None
    if ":" not in spec:
        raise AgentLoadError(
            f"unknown agent {spec!r}: use one of {', '.join(BUILTIN)}, replay:LOG.csv, exec:COMMAND or module:Class"
        )
    target, _, cls_name = spec.rpartition(":")
    try:
        if target.endswith(".py"):
            path = Path(target)  # type: ignore[assignment]
            mod_spec = importlib.util.spec_from_file_location(path.stem, path)  # type: ignore[attr-defined]
            if mod_spec is None or mod_spec.loader is None or not path.is_file():  # type: ignore[attr-defined]
                raise AgentLoadError(f"cannot load agent file {target!r}")
            module = importlib.util.module_from_spec(mod_spec)
            mod_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(target)
    except AgentLoadError:
        raise
    except Exception as exc:  # an import failure of user code is reported, not a crash
        raise AgentLoadError(f"cannot import {target!r}: {type(exc).__name__}: {exc}") from exc
    cls = getattr(module, cls_name, None)
    if cls is None:
        raise AgentLoadError(f"{target!r} has no attribute {cls_name!r}")
    try:
        agent = cls()
    except Exception as exc:
        raise AgentLoadError(f"cannot construct {spec!r}: {type(exc).__name__}: {exc}") from exc
    if not callable(getattr(agent, "act", None)) or not callable(getattr(agent, "reset", None)):
        raise AgentLoadError(f"{spec!r} is not an Agent: it needs reset(info) and act(obs)")
    if not hasattr(agent, "name"):
        agent.name = cls_name
    return agent
