"""Connects to the engine's agent port as a stranger first (a hello without the run's token),
records whether the engine hung up on it, then runs the real fake agent (tests/agents/children)."""

import json
import os
import socket
import sys
from pathlib import Path

port = int(os.environ["SIMCORE_AGENT_PORT"])
with socket.create_connection(("127.0.0.1", port)) as sock:
    rfile = sock.makefile("rb")
    rfile.readline()  # the engine's hello
    hello = {"type": "hello", "protocol": "simcore-agent/1", "name": "intruder", "token": "guessed"}
    sock.sendall((json.dumps(hello) + "\n").encode())
    rest = rfile.read()  # the engine closes a stranger's connection: end of file, nothing sent
    print(f"intruder got {len(rest)} bytes, then the connection closed", file=sys.stderr, flush=True)
child = Path(__file__).resolve().parents[1] / "agents" / "children" / "fake_agent.py"
os.execv(sys.executable, [sys.executable, str(child), "tcp"])
