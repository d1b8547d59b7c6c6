"""Resolve an ``--agent`` spec: a built-in name, ``module:Class`` or ``path/file.py:Class``.

Agents are only ever named on the command line or in code, never inside scenario files.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

from simcore.agents.builtin.autopilot import Autopilot, Idle
from simcore.agents.protocol import Agent

BUILTIN: dict[str, type] = {"autopilot": Autopilot, "idle": Idle}


class AgentLoadError(ValueError):
    """The agent spec cannot be resolved into an Agent."""


def load_agent(spec: str) -> Agent:
    """Instantiate the agent named by ``spec`` (no constructor arguments)."""
    if spec in BUILTIN:
        return BUILTIN[spec]()
    if ":" not in spec:
        raise AgentLoadError(f"unknown agent {spec!r}: use one of {', '.join(BUILTIN)} or module:Class")
    target, _, cls_name = spec.rpartition(":")
    try:
        if target.endswith(".py"):
            path = Path(target)
            mod_spec = importlib.util.spec_from_file_location(path.stem, path)
            if mod_spec is None or mod_spec.loader is None or not path.is_file():
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
