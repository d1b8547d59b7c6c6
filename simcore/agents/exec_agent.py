"""Out-of-process agents: a child process speaking simcore-agent/1 (docs/agent-protocol.md).

The child is started without a shell from an argument list. Messages are JSON lines over its
stdin/stdout (``transport="stdio"``) or over a TCP connection it opens to 127.0.0.1
(``transport="tcp"``: the engine listens on an ephemeral port, passes it to the child as the
environment variable ``SIMCORE_AGENT_PORT`` and in place of ``{port}`` in its arguments).

Never blocks the engine: replies are read by a thread and waited for with a deadline, writes
go through a writer thread. Any failure (cannot start, exits, hangs past the timeout,
garbage, wrong protocol version) raises AgentFailure with the reason and the last lines of
the child's stderr; the runner records it as an ``agent_failure`` event. ``close`` always
ends and reaps the child (close message, then SIGTERM, then SIGKILL of its process group).

Only the engine's own child drives: each start makes a fresh random token, given to the child
as ``SIMCORE_AGENT_TOKEN`` (and in place of ``{token}`` in its arguments); over TCP a connection
whose ``hello`` does not carry it is closed and the engine keeps waiting for its agent. On
Linux the child gets SIGKILL when the engine dies (``PR_SET_PDEATHSIG``), even by SIGKILL.
Messages from the child are buffered up to ``limits.exec_inbox_messages``; past that the
engine stops reading and the child's writes block (back-pressure, not memory).
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import io
import os
import queue
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from simcore import limits
from simcore.agents.protocol import AgentInfo, AnyControl, Observation
from simcore.agents.wire import (
    MAX_LINE_BYTES,
    ProtocolError,
    check_hello,
    dumps,
    hello_message,
    observation_message,
    parse_control,
    parse_line,
    reset_message,
)

#: Lines of child stderr kept (and characters per line).
STDERR_LINES, STDERR_LINE_CHARS = 200, 400
#: Bytes of one stderr line read at a time; the rest of a longer line is skipped.
STDERR_READ_BYTES = 64 * 1024
#: Lines of stderr quoted in a failure message.
STDERR_QUOTED = 8
TRANSPORTS = ("stdio", "tcp")
#: Longest wait (s) for a SIGKILLed child to be reaped.
KILL_WAIT_S = 10.0
_EOF = object()


#: Seconds a TCP connection has to send its hello before it is dropped as a stranger.
HELLO_READ_S = 2.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGKILL when the engine's thread that started it
    ends (Linux ``prctl(PR_SET_PDEATHSIG)``); None elsewhere. Runs between fork and exec, so it
    only calls async-signal-safe functions."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the engine died before the prctl took effect
            os._exit(1)

    return preexec


class AgentFailure(RuntimeError):
    """The out-of-process agent failed; the message says why (and quotes its stderr)."""


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    """Send ``sig`` to the process group led by ``proc`` (its session: ``start_new_session``)."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:  # the group is empty
        pass
    except OSError:
        with contextlib.suppress(OSError):
            proc.send_signal(sig)


def _kill_group(proc: subprocess.Popen, grace_s: float) -> None:
    """End ``proc`` and its process group: wait ``grace_s`` (s) for it to exit, then SIGTERM,
    1 s later SIGKILL, and reap it (waiting at most KILL_WAIT_S after SIGKILL). Whatever is
    left of its group after it exited (a grandchild it started and left behind, which may
    hold our pipes open) is SIGKILLed too.

    The signal reaches only processes the child started: it led its own session, a group id
    is not reused while the group has members, and an emptied group's id (the child's pid)
    is not handed out again in the moment between the reap and the signal (pids cycle)."""
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        # SIGKILL cannot be ignored; the bounded wait only guards against a process stuck in
        # the kernel (uninterruptible sleep), which must not hang the engine.
        for sig, wait_s in ((signal.SIGTERM, 1.0), (signal.SIGKILL, KILL_WAIT_S)):
            _signal_group(proc, sig)
            try:
                proc.wait(timeout=wait_s)
                break
            except subprocess.TimeoutExpired:
                continue
    _signal_group(proc, signal.SIGKILL)


def _write_all(stream: Any) -> Callable[[bytes], None]:
    """A function writing all of its bytes to the unbuffered ``stream`` (a raw write may be partial)."""

    def write(data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = stream.write(view)
            view = view[n or 0 :]

    return write


class ExecAgent:
    """An agent in another process (any language), driven over simcore-agent/1.

    Args:
        argv: the command and its arguments (no shell).
        transport: ``stdio`` (JSON lines on the child's stdin/stdout) or ``tcp``.
        startup_timeout_s: time (s) for the process to start and answer ``hello`` (and, for
            tcp, to connect).
        step_timeout_s: time (s) for each control answer; past it the agent is hung and fails.
        close_grace_s: time (s) a closed agent has to exit before SIGTERM (1 s later SIGKILL).
        cwd, env: working directory and extra environment variables of the child.
    """

    in_engine = False
    #: Runs in its own process with its own deadlines: the runner calls it directly (agents.guard).
    isolated = True

    def __init__(
        self,
        argv: Sequence[str],
        *,
        transport: str = "stdio",
        startup_timeout_s: float = 20.0,
        step_timeout_s: float = 10.0,
        close_grace_s: float = 2.0,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        if not argv:
            raise ValueError("exec agent: empty command")
        if transport not in TRANSPORTS:
            raise ValueError(f"exec agent: transport must be one of {', '.join(TRANSPORTS)}, got {transport!r}")
        if not (startup_timeout_s > 0 and step_timeout_s > 0 and close_grace_s >= 0):
            raise ValueError("exec agent: timeouts must be > 0 s (close grace >= 0 s)")
        self.argv = list(argv)
        self.transport = transport
        self.startup_timeout_s, self.step_timeout_s = float(startup_timeout_s), float(step_timeout_s)
        self.close_grace_s = float(close_grace_s)
        self.cwd, self.env = cwd, dict(env or {})
        self.name = f"exec:{os.path.basename(self.argv[0])}"
        self.proc: subprocess.Popen | None = None
        self.last_pid: int | None = None
        self._actor_ids: tuple[str, ...] = ()
        self._stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._inbox: queue.Queue = queue.Queue(limits.current().exec_inbox_messages)
        self._outbox: queue.Queue = queue.Queue()
        self._closing = threading.Event()
        self.token = ""
        #: Connections refused because their hello lacked this run's token (TCP).
        self.strangers = 0
        self._threads: list[threading.Thread] = []
        self._closers: list[Callable[[], None]] = []
        self._send_eof: Callable[[], None] | None = None
        self._finalizer: weakref.finalize | None = None
        self._failed: str = ""

    def __repr__(self) -> str:
        return f"ExecAgent({shlex.join(self.argv)!r}, transport={self.transport!r})"

    # -- process and transport -----------------------------------------------------------------
    def _start(self) -> None:
        self._stderr.clear()
        self._inbox, self._outbox = queue.Queue(limits.current().exec_inbox_messages), queue.Queue()
        self._closing = threading.Event()
        self._failed = ""
        self.token = secrets.token_hex(16)
        env = {**os.environ, **self.env, "SIMCORE_AGENT_TOKEN": self.token}
        argv = [a.replace("{token}", self.token) for a in self.argv]
        listener = None
        if self.transport == "tcp":
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind(("127.0.0.1", 0))
            listener.listen(8)
            port = listener.getsockname()[1]
            env["SIMCORE_AGENT_PORT"] = str(port)
            argv = [a.replace("{port}", str(port)) for a in argv]
        stdio = self.transport == "stdio"
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if stdio else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE if stdio else subprocess.STDOUT,
                cwd=self.cwd,
                env=env,
                bufsize=0,
                start_new_session=True,
                preexec_fn=_die_with_parent(os.getpid()),
            )
        except OSError as exc:
            if listener is not None:
                listener.close()
            raise AgentFailure(f"cannot start agent {shlex.join(argv)!r}: {exc}") from None
        proc = self.proc
        self.last_pid = proc.pid
        self._finalizer = weakref.finalize(self, _kill_group, proc, 0.0)
        assert proc.stdout is not None
        if stdio:
            assert proc.stdin is not None and proc.stderr is not None
            self._read_pipe(self._read_lines, proc.stdout)
            self._read_pipe(self._read_stderr, proc.stderr)
            stdin = proc.stdin
            self._spawn(self._write_lines, _write_all(stdin))
            self._send_eof = stdin.close
            self._closers.append(stdin.close)
        else:
            assert listener is not None
            self._read_pipe(self._read_stderr, proc.stdout)
            listener.settimeout(0.05)
            deadline = time.monotonic() + self.startup_timeout_s
            found = None
            try:
                while found is None:
                    try:
                        conn, _ = listener.accept()
                    except TimeoutError:
                        if proc.poll() is not None:
                            raise self._failure(
                                f"agent exited with code {proc.returncode} before connecting{self._refused()}"
                            ) from None
                        if time.monotonic() > deadline:
                            raise self._failure(
                                f"agent did not connect to 127.0.0.1 within {self.startup_timeout_s:g} s"
                                + self._refused()
                            ) from None
                        continue
                    found = self._handshake(conn)
            finally:
                listener.close()
            conn, rfile, hello = found
            self._inbox.put(hello)
            conn.settimeout(None)
            self._spawn(self._read_lines, rfile)
            self._spawn(self._write_lines, conn.sendall)
            self._send_eof = lambda: conn.shutdown(socket.SHUT_WR)
            self._closers += [lambda: conn.shutdown(socket.SHUT_RDWR), conn.close, rfile.close]

    def _handshake(self, conn: socket.socket) -> tuple[socket.socket, Any, bytes] | None:
        """Send our hello on a new connection and read its hello (at most HELLO_READ_S); the
        connection is the agent's when the hello carries this run's token, else it is closed."""
        rfile = conn.makefile("rb")
        try:
            conn.settimeout(HELLO_READ_S)
            conn.sendall(dumps(hello_message(_engine_version())))
            line = rfile.readline(MAX_LINE_BYTES + 1)
            msg = parse_line(line) if line and len(line) <= MAX_LINE_BYTES else {}
            if msg.get("type") == "hello" and secrets.compare_digest(str(msg.get("token", "")), self.token):
                return conn, rfile, line
        except (OSError, ProtocolError, ValueError):
            pass
        self.strangers += 1
        with contextlib.suppress(OSError):
            rfile.close()
            conn.close()
        return None

    def _refused(self) -> str:
        return f" (refused {self.strangers} connection(s) without this run's token)" if self.strangers else ""

    def _put(self, item: object) -> None:
        """Queue a message for the engine; blocks while the inbox is full, until close."""
        while not self._closing.is_set():
            try:
                self._inbox.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _read_pipe(self, fn: Callable[..., None], raw: Any) -> None:
        """Run ``fn`` on a buffered reader of the unbuffered pipe ``raw`` in a thread (a raw
        pipe's readline would make one read(2) per byte), and register how to close it."""
        reader = io.BufferedReader(raw)
        th = self._spawn(fn, reader)
        # A BufferedReader's close waits for its lock, which a thread blocked in read(2)
        # holds: close the raw pipe instead while the thread is still inside.
        self._closers.append(lambda: (raw if th.is_alive() else reader).close())

    def _spawn(self, fn: Callable[..., None], arg: Any) -> threading.Thread:
        th = threading.Thread(target=fn, args=(arg,), daemon=True, name=f"simcore-exec-{fn.__name__}")
        th.start()
        self._threads.append(th)
        return th

    def _read_lines(self, stream: Any) -> None:
        try:
            while True:
                line = stream.readline(MAX_LINE_BYTES + 1)
                if not line:
                    break
                if len(line) > MAX_LINE_BYTES:
                    self._put(ProtocolError(f"message line longer than {MAX_LINE_BYTES} bytes"))
                    return
                self._put(line)
        except (OSError, ValueError):
            pass
        self._put(_EOF)

    def _read_stderr(self, stream: Any) -> None:
        """Keep the child's log lines (the first STDERR_LINE_CHARS characters of each) in memory
        bounded by STDERR_LINES lines and STDERR_READ_BYTES bytes per read."""
        continued = False
        try:
            while raw := stream.readline(STDERR_READ_BYTES):
                if not continued:
                    self._stderr.append(raw.decode("utf-8", "replace").rstrip("\r\n")[:STDERR_LINE_CHARS])
                continued = not raw.endswith(b"\n")
        except (OSError, ValueError):
            pass

    def _write_lines(self, write: Callable[[bytes], Any]) -> None:
        outbox = self._outbox
        while True:
            data = outbox.get()
            if data is _EOF:
                return
            try:
                write(data)
            except (OSError, ValueError):
                return

    def stderr_tail(self, n: int = STDERR_QUOTED) -> list[str]:
        """The last ``n`` lines the child wrote to stderr."""
        return list(self._stderr)[-n:]

    def _failure(self, reason: str) -> AgentFailure:
        """An AgentFailure with ``reason`` and the child's last stderr lines; marks the agent failed.

        Once the child has exited, its stderr is read to the end first (up to 1 s), so the
        quoted lines do not depend on thread timing; a live (hung) child gets 50 ms."""
        proc = self.proc
        readers = [th for th in self._threads if th.name.endswith("_read_stderr")]
        if proc is not None and proc.poll() is not None:
            for th in readers:
                th.join(timeout=1.0)
        else:
            time.sleep(0.05)  # let the stderr reader catch the child's last words
        tail = self.stderr_tail()
        self._failed = reason
        if tail:
            reason += "; agent stderr (last lines): " + " | ".join(tail)
        return AgentFailure(reason)

    def _send(self, msg: dict[str, Any]) -> None:
        self._outbox.put(dumps(msg))

    def _receive(self, timeout_s: float, what: str) -> dict[str, Any]:
        try:
            item = self._inbox.get(timeout=timeout_s)
        except queue.Empty:
            raise self._failure(f"agent sent no {what} within {timeout_s:g} s (hung?)") from None
        if item is _EOF:
            proc = self.proc
            code = None
            if proc is not None:
                try:
                    code = proc.wait(timeout=1.0)
                except subprocess.TimeoutExpired:
                    code = None
            how = f"exited with code {code}" if code is not None else "closed its output"
            raise self._failure(f"agent {how} before sending its {what}")
        if isinstance(item, ProtocolError):
            raise self._failure(f"garbage from agent: {item}")
        try:
            return parse_line(item)
        except ProtocolError as exc:
            raise self._failure(f"garbage from agent: {exc}") from None

    # -- Agent protocol ------------------------------------------------------------------------
    def reset(self, info: AgentInfo) -> None:
        """Start the process (first run) and handshake, then send the reset message."""
        if self._failed or (self.proc is not None and self.proc.poll() is not None):
            self.close()
        if self.proc is None:
            self._start()
            if self.transport == "stdio":  # over TCP the hello went out (and came back) in _handshake
                self._send(hello_message(_engine_version()))
            msg = self._receive(self.startup_timeout_s, "hello")
            try:
                name = check_hello(msg)
            except ProtocolError as exc:
                raise self._failure(str(exc)) from None
            self.name = f"exec:{name}"
        self._actor_ids = info.actor_ids
        self._send(reset_message(info))

    def act(self, obs: Observation) -> AnyControl | None:
        """Send the observation, wait (at most ``step_timeout_s``) for the matching control."""
        if self.proc is None:
            raise AgentFailure("exec agent used before reset (or after close)")
        if self._failed:
            raise AgentFailure(self._failed)
        self._send(observation_message(obs, self._actor_ids))
        msg = self._receive(self.step_timeout_s, f"control for step {obs.step}")
        try:
            return parse_control(msg, obs.step)
        except ProtocolError as exc:
            raise self._failure(f"garbage from agent: {exc}") from None

    def close(self) -> None:
        """Say goodbye, then end and reap the process (always; safe to call twice)."""
        proc = self.proc
        if proc is None:
            return
        self.proc = None
        self._closing.set()  # a reader blocked on a full inbox gives up
        try:
            if proc.poll() is None and not self._failed:
                self._send({"type": "close"})
            self._outbox.put(_EOF)
            grace = 0.0 if self._failed else self.close_grace_s
            # End of input (after the writer drained) also tells a well-behaved child to exit.
            for th in self._threads:
                if th.name.endswith("_write_lines"):
                    th.join(timeout=0.5)
            if self._send_eof is not None:
                with contextlib.suppress(OSError, ValueError):
                    self._send_eof()
            _kill_group(proc, grace)
        finally:
            if proc.poll() is None:
                proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=KILL_WAIT_S)
            # The group is dead, so the pipes are at end of file and the threads end; join
            # them before closing the streams they read.
            for th in self._threads:
                th.join(timeout=0.5)
            self._threads = []
            for fn in self._closers:
                with contextlib.suppress(OSError, ValueError):
                    fn()
            self._closers = []
            self._send_eof = None
            if self._finalizer is not None:
                self._finalizer.detach()
                self._finalizer = None


def _engine_version() -> str:
    from simcore import __version__

    return __version__


def parse_exec_spec(spec: str) -> ExecAgent:
    """``exec:CMD ARGS`` or ``exec,OPTION=VALUE,...:CMD ARGS`` -> ExecAgent.

    Options: ``transport=stdio|tcp``, ``step_timeout=SECONDS``, ``startup_timeout=SECONDS``.
    The command is split like a POSIX shell would (``shlex``) but run without one.
    """
    head, sep, cmd = spec.partition(":")
    if not sep or not head.startswith("exec"):
        raise ValueError(f"exec agent spec must look like 'exec:COMMAND ARGS', got {spec!r}")
    opts: dict[str, str] = {}
    for part in head.split(",")[1:]:
        key, eq, value = part.partition("=")
        if not eq or key.strip() not in ("transport", "step_timeout", "startup_timeout"):
            raise ValueError(f"exec agent option {part!r}: use transport=stdio|tcp, step_timeout=S, startup_timeout=S")
        opts[key.strip()] = value.strip()
    if head.split(",")[0] != "exec":
        raise ValueError(f"exec agent spec must start with 'exec:' or 'exec,OPTIONS:', got {spec!r}")
    try:
        argv = shlex.split(cmd)
    except ValueError as exc:
        raise ValueError(f"exec agent command {cmd!r}: {exc}") from None
    if not argv:
        raise ValueError("exec agent: empty command after 'exec:'")
    if shutil.which(argv[0]) is None:
        raise ValueError(f"exec agent: command not found: {argv[0]!r}")
    kwargs: dict[str, Any] = {"transport": opts.get("transport", "stdio")}
    for key in ("step_timeout", "startup_timeout"):
        if key in opts:
            try:
                kwargs[f"{key}_s"] = float(opts[key])
            except ValueError:
                raise ValueError(f"exec agent option {key}={opts[key]!r} is not a number of seconds") from None
    return ExecAgent(argv, **kwargs)
