"""The command's side of the warm server: find a live server of exactly this install and hand it
the command (arguments, working folder, environment, umask and the standard streams' file
descriptors); relay signals to the child running it; exit with its status.

Standard library only: ``simcore.cli.main`` calls :func:`forward` before importing anything else,
so a command answered by the server costs a bare interpreter start-up. Without a server (or with
``SIMCORE_NO_SERVER=1``) :func:`forward` returns None at once and the command runs in-process.

Where servers live: ``$SIMCORE_SERVER_DIR``, else ``$XDG_RUNTIME_DIR/simcore``, else
``/tmp/simcore-<uid>``; a folder that is not ours or that others can read is never used. A
server's socket is named after :func:`install_key`, a hash of this interpreter, its flags and
import path (with the modification time of site-packages), the environment variables read at
import time, and the size and modification time of every file of the simcore package: a server
started before a code change is never found.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import stat
import struct
import sys
from typing import Any

#: Commands the server answers; every other command (batch, map, view, server, ...) runs in-process.
SERVED = frozenset({"run", "validate", "expand", "list", "schema", "drive"})
#: Environment variables that select the folder, opt out, and set the idle timeout.
DIR_ENV, OFF_ENV, IDLE_ENV = "SIMCORE_SERVER_DIR", "SIMCORE_NO_SERVER", "SIMCORE_SERVER_IDLE_S"
#: Environment variables read while modules import (Numba, thread pools, locale, kernel cache,
#: Python itself): they are part of the install key, the rest of the environment goes per command.
_KEY_ENV_PREFIXES = ("NUMBA_", "SIMCORE_", "PYTHON", "LD_", "OMP_", "MKL_", "OPENBLAS_", "COVERAGE", "MPL", "LC_")
_KEY_ENV_NAMES = ("HOME", "XDG_CACHE_HOME", "LANG", "LANGUAGE")
#: How long the command waits for the server to accept it (s) before running in-process.
ACCEPT_TIMEOUT_S = 30.0
_HEADER = struct.Struct("!I")
_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def server_dir(create: bool = False) -> str | None:
    """The folder of this user's servers (created mode 0700 if ``create``), or None if it is
    missing or unsafe (a symbolic link, another owner, readable by others)."""
    path = os.environ.get(DIR_ENV)
    if not path:
        runtime = os.environ.get("XDG_RUNTIME_DIR")
        base = runtime if runtime and os.path.isdir(runtime) else os.environ.get("TMPDIR") or "/tmp"
        path = os.path.join(base, "simcore" if base == runtime else f"simcore-{os.getuid()}")
    if create:
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        except OSError:
            return None
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None
    return path


def install_key() -> str:
    """Hash (24 hex digits) of everything a warm server has fixed at import time (module docstring)."""
    h = hashlib.sha256()
    for item in (
        os.path.realpath(sys.executable),
        sys.version,
        sys.prefix,
        repr(sys.flags),
        sys.warnoptions,
        sys._xoptions,
        _PKG,
    ):
        h.update(repr(item).encode() + b"\0")
    for entry in sys.path[1:]:  # sys.path[0] (the script's or working folder) goes per command
        h.update(f"{entry}\0".encode())
        if os.path.basename(entry) in ("site-packages", "dist-packages"):  # pip install changes its mtime
            with contextlib.suppress(OSError):
                h.update(f"{os.stat(entry).st_mtime_ns}\0".encode())
    for name in sorted(os.environ):
        if (name.startswith(_KEY_ENV_PREFIXES) and name not in (DIR_ENV, OFF_ENV, IDLE_ENV)) or name in _KEY_ENV_NAMES:
            h.update(f"{name}={os.environ[name]}\0".encode())
    for root, dirs, files in os.walk(_PKG):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            path = os.path.join(root, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            h.update(f"{os.path.relpath(path, _PKG)}\0{st.st_mtime_ns}\0{st.st_size}\0".encode())
    return h.hexdigest()[:24]


def socket_path(folder: str, key: str) -> str:
    """The socket of the server for install ``key`` in ``folder``."""
    return os.path.join(folder, f"{key}.sock")


def send_message(sock: socket.socket, doc: dict[str, Any], fds: list[int] | None = None) -> None:
    """Send one JSON document (length-prefixed), with ``fds`` attached to its first bytes."""
    data = json.dumps(doc).encode()
    data = _HEADER.pack(len(data)) + data
    if fds:
        sent = socket.send_fds(sock, [data], fds)
        data = data[sent:]
    sock.sendall(data)


class MessageReader:
    """Length-prefixed JSON documents from a stream socket, with the file descriptors sent along."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""
        self.fds: list[int] = []

    def feed(self, max_fds: int = 0) -> bool:
        """Read what is there (blocking if nothing is); False at end of stream."""
        if max_fds:
            data, fds, _, _ = socket.recv_fds(self.sock, 1 << 16, max_fds)
            self.fds += fds
        else:
            data = self.sock.recv(1 << 16)
        self.buf += data
        return bool(data)

    def next(self) -> dict[str, Any] | None:
        """The next complete document read so far, or None."""
        if len(self.buf) < _HEADER.size:
            return None
        (n,) = _HEADER.unpack_from(self.buf)
        if len(self.buf) < _HEADER.size + n:
            return None
        doc = json.loads(self.buf[_HEADER.size : _HEADER.size + n])
        self.buf = self.buf[_HEADER.size + n :]
        return doc  # type: ignore[no-any-return]

    def read(self, max_fds: int = 0) -> dict[str, Any] | None:
        """Block until a whole document is here; None if the stream ends first."""
        while (doc := self.next()) is None:
            if not self.feed(max_fds):
                return None
        return doc


def connect(key: str | None = None) -> socket.socket | None:
    """A connection to the live server of this install, or None."""
    if not hasattr(socket, "send_fds") or not hasattr(os, "fork"):
        return None
    folder = server_dir()
    if folder is None:
        return None
    path = socket_path(folder, key or install_key())
    if not os.path.exists(path):
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    return sock


def _stream_info(stream: Any) -> list[Any]:
    return [
        getattr(stream, "encoding", None) or "utf-8",
        getattr(stream, "errors", None) or "strict",
        bool(getattr(stream, "line_buffering", False)),
    ]


def forward(argv: list[str]) -> int | None:
    """Run ``simcore ARGV`` on a live server of this install and return its exit status; None if
    it cannot (no server, an unserved command, ``SIMCORE_NO_SERVER=1``): then run it here."""
    if os.environ.get(OFF_ENV, "") not in ("", "0") or not argv or argv[0] not in SERVED:
        return None
    try:
        for fd in (0, 1, 2):
            os.fstat(fd)
    except OSError:
        return None  # a closed standard stream: nothing to hand over
    sock = connect()
    if sock is None:
        return None
    with sock:
        return _run_remote(sock, argv)


def _run_remote(sock: socket.socket, argv: list[str]) -> int | None:
    umask = os.umask(0)
    os.umask(umask)
    fds = [0, 1, 2]
    with contextlib.suppress(OSError):  # an unreadable working folder: the child changes to it by name
        fds.append(os.open(".", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)))
    request = {
        "op": "run",
        "argv": argv,
        "argv0": sys.argv[0],
        "path0": sys.path[0] if sys.path else "",
        "cwd": os.getcwd(),
        "cwd_fd": len(fds) == 4,
        "env": dict(os.environ),
        "umask": umask,
        "streams": [_stream_info(s) for s in (sys.stdin, sys.stdout, sys.stderr)],
    }
    try:
        sock.settimeout(ACCEPT_TIMEOUT_S)
        send_message(sock, request, fds)
        reader = MessageReader(sock)
        accepted = reader.read()
    except OSError:
        accepted = None
    finally:
        if len(fds) == 4:
            os.close(fds[3])
    if accepted is None or "pid" not in accepted:
        return None  # the server went away before taking the command: run it here
    sock.settimeout(None)
    relayed = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)

    def relay(signum: int, frame: Any) -> None:
        with contextlib.suppress(OSError):
            send_message(sock, {"op": "signal", "signal": signum})

    previous = {}
    for sig in relayed:
        if signal.getsignal(sig) is not signal.SIG_IGN:  # ignored here (nohup): ignored there too
            previous[sig] = signal.signal(sig, relay)
    try:
        done = reader.read()
    except OSError:
        done = None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if done is None:
        sys.stderr.write("simcore: the server ended without the command's exit status\n")
        return 1
    if done.get("signal"):
        signum = int(done["signal"])  # the child died of a signal: so does this process
        sys.stdout.flush()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return 128 + signum
    return int(done.get("exit", 1))
