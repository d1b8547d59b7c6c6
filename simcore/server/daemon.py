"""The warm server: ``simcore server start|stop|status`` (registered by ``simcore.cli``).

One process per install (``client.install_key``) imports what the served commands need, listens
on a Unix socket in the user's private folder (``client.server_dir``) and, for each command, forks
a child that takes over the command's standard streams (``dup2`` of the descriptors the command
sent), working folder, umask, environment and ``sys.argv``, runs ``simcore.cli.main`` and exits
with its status. The server reports that status (or the signal the child died of) to the command,
relays the signals the command receives to the child, and ends the child when the command goes
away. Kernels a child loaded are loaded into the server afterwards (from the on-disk cache, while
it is idle), so the next command finds them loaded. Nothing a command reads (scenarios, maps,
catalogs) is kept in the server: each command reads its files in its own child.

The server exits after ``--idle-timeout`` seconds without a command, on ``simcore server stop``, on
SIGTERM, when its socket is removed, and when the install's code changes (then no command can
reach it anyway: the socket name is the install key).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import gc
import io
import json
import os
import pickle
import selectors
import signal
import socket
import struct
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from simcore._startup import flush_output
from simcore.server.client import (
    IDLE_ENV,
    SERVED,
    MessageReader,
    connect,
    install_key,
    send_message,
    server_dir,
    socket_path,
)

#: Idle time (s) after which a server exits, unless --idle-timeout or SIMCORE_SERVER_IDLE_S say otherwise.
DEFAULT_IDLE_S = 900.0
#: Seconds between a command going away (its child is sent SIGTERM) and SIGKILL.
KILL_GRACE_S = 2.0
#: How often (s) an idle server checks that its socket and the install's code are unchanged.
CHECK_EVERY_S = 10.0
#: Modules the served commands import inside their functions; imported once by the server.
WARM_MODULES = (
    "simcore.api",
    "simcore.agents.loading",
    "simcore.scenario.loader",
    "simcore.scenario.build",
    "simcore.scenario.expand",
    "simcore.scenario.openscenario",
    "simcore.scenario.json_schema",
    "simcore.sensors.scenario_rig",
    "simcore.report.outputs",
    "simcore.report.runlog",
    "simcore.evaluation.post_run",
    "numpy.ma",  # np.unique's (road.lane_graph)
    "simcore._startup",
    "pydantic.type_adapter",
    "subprocess",
    "tqdm",  # --out: progress, pictures
    "PIL.Image",
    "PIL.ImageDraw",
    "PIL.ImageFont",
    "simcore.drive.adapter",  # simcore drive (pygame, for the window, is left to the child)
    "simcore.drive.loop",
    "simcore.drive.udp",
    "simcore.drive.inputs",
)

Main = Callable[[list[str]], int]


def _loaded_kernels() -> set[tuple[str, str, bytes]]:
    """(module, name, pickled signature) of every compiled or loaded specialisation of the
    kernels that are module attributes of simcore (Numba dispatchers, found by duck typing)."""
    out = set()
    for modname, mod in list(sys.modules.items()):
        if not modname.startswith("simcore.") or mod is None:
            continue
        for name, value in list(vars(mod).items()):
            overloads = getattr(value, "overloads", None)
            if isinstance(overloads, dict) and hasattr(value, "py_func") and value.py_func.__module__ == modname:
                for sig in list(overloads):
                    with contextlib.suppress(Exception):  # a signature that does not pickle is skipped
                        out.add((modname, name, pickle.dumps(sig)))
    return out


def _build_validators() -> None:
    """Build the deferred validators of simcore's pydantic models (code only: no data is read)."""
    pydantic = sys.modules.get("pydantic")
    if pydantic is None:
        return
    todo = list(pydantic.BaseModel.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__module__.startswith("simcore.") and type(cls.__pydantic_validator__).__name__ == "MockValSer":
            with contextlib.suppress(Exception):
                cls.model_validate({})


def warm_up(main_parser: Callable[[], Any]) -> None:
    """Import what the served commands need and build the scenario validators."""
    import importlib

    main_parser()  # the parser's modules
    for name in WARM_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    _build_validators()
    if "PIL.Image" in sys.modules:
        sys.modules["PIL.Image"].preinit()  # imports the common image-format plugins
    from simcore._jit import cache_is_cold

    cache_is_cold()


@dataclass
class _Job:
    """A command being run by a child."""

    pid: int
    conn: socket.socket
    reader: MessageReader
    report: int  # read end of the pipe the child writes its loaded kernels to
    report_buf: bytearray = field(default_factory=bytearray)
    kill_at: float | None = None
    status: int | None = None


class Server:
    """The server's loop (module docstring)."""

    def __init__(self, main: Main, key: str, folder: str, idle_s: float, ready: int | None = None) -> None:
        self.main, self.key, self.folder, self.idle_s = main, key, folder, idle_s
        self.path = socket_path(folder, key)
        self.ready = ready
        self.jobs: dict[int, _Job] = {}
        self.by_conn: dict[int, _Job] = {}
        self.pending: list[tuple[str, str, bytes]] = []
        self.loaded: set[tuple[str, str, bytes]] = set()
        self.started = time.time()
        self.requests = 0
        self.stopping = False
        self.last_active = time.monotonic()

    # -- set-up -------------------------------------------------------------------------------
    def bind(self) -> None:
        """Listen on the socket (a stale one of a dead server is replaced: the lock is ours)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        os.chmod(self.path, 0o600)
        self.listener.listen(64)
        self.inode = os.stat(self.path).st_ino
        self.wake_r, self.wake_w = socket.socketpair()
        for s in (self.wake_r, self.wake_w, self.listener):
            s.setblocking(False)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.listener, selectors.EVENT_READ, "accept")
        self.sel.register(self.wake_r, selectors.EVENT_READ, "wake")
        signal.set_wakeup_fd(self.wake_w.fileno())
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    def _on_term(self, signum: int, frame: Any) -> None:
        self.stopping = True

    # -- loop ---------------------------------------------------------------------------------
    def serve(self) -> None:
        """Serve until stopped or idle; the socket is removed at the end."""
        self.loaded = _loaded_kernels()
        gc.freeze()  # children inherit a heap their collections need not scan
        if self.ready is not None:
            os.write(self.ready, f"{os.getpid()}\n".encode())
            os.close(self.ready)
        next_check = time.monotonic() + CHECK_EVERY_S
        try:
            while not (self.stopping and not self.jobs):
                now = time.monotonic()
                if not self.jobs and not self.stopping and now - self.last_active > self.idle_s:
                    break
                timeout = 0.0 if self.pending and not self.jobs else min(1.0, max(0.0, next_check - now))
                for key, _ in self.sel.select(timeout):
                    self._event(key.data, key.fileobj)
                self._reap()
                self._kill_overdue()
                if self.pending and not self.jobs:
                    self._load_one()
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + CHECK_EVERY_S
                    if not self.jobs and self._outdated():
                        break
        finally:
            self._close()

    def _outdated(self) -> bool:
        """True if the socket was removed or replaced, or the install's code changed."""
        try:
            if os.stat(self.path).st_ino != self.inode:
                return True
        except OSError:
            return True
        return install_key() != self.key

    def _close(self) -> None:
        with contextlib.suppress(OSError):
            if os.stat(self.path).st_ino == self.inode:
                os.unlink(self.path)
        signal.set_wakeup_fd(-1)
        self.sel.close()
        for sock in (self.listener, self.wake_r, self.wake_w):
            sock.close()

    def _event(self, kind: Any, obj: Any) -> None:
        if kind == "accept":
            with contextlib.suppress(BlockingIOError, InterruptedError):
                conn, _ = self.listener.accept()
                self._accept(conn)
        elif kind == "wake":
            with contextlib.suppress(BlockingIOError):
                self.wake_r.recv(4096)
        elif kind == "report":
            self._read_report(obj)
        else:
            self._client_message(obj)

    def _accept(self, conn: socket.socket) -> None:
        conn.setblocking(True)
        conn.settimeout(5.0)
        try:
            if hasattr(socket, "SO_PEERCRED"):
                _, uid, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
                if uid != os.getuid():
                    conn.close()
                    return
            reader = MessageReader(conn)
            request = reader.read(max_fds=8)
        except OSError:
            request, reader = None, None
        if request is None or reader is None:
            conn.close()
            return
        fds = reader.fds
        op = request.get("op")
        try:
            if op == "status":
                send_message(conn, self.status())
            elif op == "stop":
                self.stopping = True
                self.sel.unregister(self.listener)
                with contextlib.suppress(OSError):
                    os.unlink(self.path)
                send_message(conn, {"stopping": os.getpid()})
            elif (
                op == "run"
                and len(fds) >= 3
                and not self.stopping
                and request["argv"][:1]
                and request["argv"][0] in SERVED
            ):
                self._start(conn, reader, request, fds)
                return
            else:
                send_message(conn, {"error": f"cannot do {op!r} now"})
        except OSError:
            pass
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
        conn.close()

    def status(self) -> dict[str, Any]:
        """What ``simcore server status`` prints."""
        return {
            "pid": os.getpid(),
            "socket": self.path,
            "key": self.key,
            "started": self.started,
            "requests": self.requests,
            "running": len(self.jobs),
            "kernels_loaded": len(self.loaded),
            "idle_timeout_s": self.idle_s,
            "cpu_s": (t := os.times()).user + t.system,  # the server's own
            "children_cpu_s": t.children_user + t.children_system,  # the commands' children, when exited
        }

    def _start(self, conn: socket.socket, reader: MessageReader, request: dict[str, Any], fds: list[int]) -> None:
        report_r, report_w = os.pipe()
        flush_output(logs=False)  # nothing of the server's own output may reach the command's streams
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(report_r)
            conn.close()
            _child(self, request, fds, report_w)
        os.close(report_w)
        self.requests += 1
        self.last_active = time.monotonic()  # idle: no command for idle_s (status queries do not count)
        job = _Job(pid, conn, reader, report_r)
        self.jobs[pid] = job
        self.by_conn[conn.fileno()] = job
        try:
            send_message(conn, {"pid": pid})
        except OSError:
            self._client_gone(job)
        conn.setblocking(False)
        self.sel.register(conn, selectors.EVENT_READ, "client")
        os.set_blocking(report_r, False)
        self.sel.register(report_r, selectors.EVENT_READ, "report")

    def _client_message(self, conn: socket.socket) -> None:
        job = self.by_conn.get(conn.fileno())
        if job is None:
            return
        try:
            alive = job.reader.feed()
        except BlockingIOError:
            return
        except OSError:
            alive = False
        if not alive:
            self.sel.unregister(conn)
            self._client_gone(job)
            return
        while (msg := job.reader.next()) is not None:
            if msg.get("op") == "signal" and job.status is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(job.pid, int(msg["signal"]))

    def _client_gone(self, job: _Job) -> None:
        """The command went away (killed, say): end its child, SIGTERM first."""
        if job.status is None and job.kill_at is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(job.pid, signal.SIGTERM)
            job.kill_at = time.monotonic() + KILL_GRACE_S

    def _kill_overdue(self) -> None:
        now = time.monotonic()
        for job in self.jobs.values():
            if job.kill_at is not None and now >= job.kill_at and job.status is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(job.pid, signal.SIGKILL)
                job.kill_at = None

    def _read_report(self, fd: int) -> None:
        job = next((j for j in self.jobs.values() if j.report == fd), None)
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return
        if job is not None:
            job.report_buf += chunk
        if not chunk:
            self.sel.unregister(fd)
            os.close(fd)
            if job is not None:
                job.report = -1
                self._learn(bytes(job.report_buf))
                self._finish(job)

    def _learn(self, data: bytes) -> None:
        with contextlib.suppress(Exception):  # a child killed while writing: nothing learnt
            for item in pickle.loads(data):
                if item not in self.loaded and item not in self.pending:
                    self.pending.append(item)

    def _reap(self) -> None:
        while self.jobs:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            job = self.jobs.get(pid)
            if job is not None:
                job.status = status
                self._finish(job)

    def _finish(self, job: _Job) -> None:
        """Answer the command once the child has exited and its report is read."""
        if job.status is None or job.report != -1 or job.pid not in self.jobs:
            return
        del self.jobs[job.pid]
        self.by_conn.pop(job.conn.fileno(), None)
        doc = (
            {"signal": os.WTERMSIG(job.status)}
            if os.WIFSIGNALED(job.status)
            else {"exit": os.waitstatus_to_exitcode(job.status)}
        )
        with contextlib.suppress(OSError, KeyError, ValueError):
            self.sel.unregister(job.conn)
        with contextlib.suppress(OSError):
            job.conn.setblocking(True)
            send_message(job.conn, doc)
        job.conn.close()
        self.last_active = time.monotonic()

    def _load_one(self) -> None:
        """Load one kernel specialisation a child loaded (from the on-disk cache)."""
        item = self.pending.pop(0)
        self.loaded.add(item)
        modname, name, sig = item
        with contextlib.suppress(Exception):  # a kernel that no longer loads stays the child's
            getattr(sys.modules[modname], name).compile(pickle.loads(sig))
        if not self.pending:
            gc.freeze()


def _child(server: Server, request: dict[str, Any], fds: list[int], report: int) -> NoReturn:
    """In the forked child: become the command (module docstring), run it, exit with its status."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        server.sel.close()
        for s in (server.listener, server.wake_r, server.wake_w, *(j.conn for j in server.jobs.values())):
            s.close()
        for job in server.jobs.values():
            with contextlib.suppress(OSError):
                os.close(job.report)
        for std, fd in zip((0, 1, 2), fds[:3], strict=True):
            os.dup2(fd, std)
        if request.get("cwd_fd") and len(fds) > 3:
            os.fchdir(fds[3])
        else:
            os.chdir(request["cwd"])
        for fd in fds:
            if fd > 2:
                os.close(fd)
        os.umask(int(request["umask"]))
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()
        sys.argv = [request["argv0"], *request["argv"]]
        if sys.path:
            sys.path[0] = request["path0"]
        _own_streams(request["streams"])
    except BaseException:  # could not become the command: say why on its stderr
        with contextlib.suppress(Exception):
            os.write(2, traceback.format_exc().encode())
        os._exit(70)
    before = server.loaded
    try:
        code = server.main(list(request["argv"]))
    except SystemExit as exc:
        code = _exit_code(exc)
    except KeyboardInterrupt:
        traceback.print_exc()
        flush_output()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    except BaseException:  # as the interpreter would: traceback, status 1
        traceback.print_exc()
        code = 1
    with contextlib.suppress(Exception):
        data = pickle.dumps(sorted(_loaded_kernels() - before))
        with os.fdopen(report, "wb") as fh:
            fh.write(data)
    flush_output()
    os._exit(code)


def _exit_code(exc: SystemExit) -> int:
    """The exit status the interpreter gives ``exc`` (a message is printed, then status 1)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    print(exc.code, file=sys.stderr)
    return 1


def _own_streams(info: list[list[Any]]) -> None:
    """sys.stdin/stdout/stderr on descriptors 0-2, with the command's encodings and buffering."""
    streams = []
    for fd, (encoding, errors, line_buffering) in zip((0, 1, 2), info, strict=True):
        raw = io.FileIO(fd, "r" if fd == 0 else "w", closefd=False)
        buffered: Any = io.BufferedReader(raw) if fd == 0 else io.BufferedWriter(raw)
        streams.append(io.TextIOWrapper(buffered, encoding, errors, line_buffering=line_buffering))
    sys.stdin, sys.stdout, sys.stderr = streams


# -- the commands --------------------------------------------------------------------------------
def _idle_s(args: argparse.Namespace) -> float:
    if args.idle_timeout is not None:
        return float(args.idle_timeout)
    try:
        return float(os.environ.get(IDLE_ENV, "") or DEFAULT_IDLE_S)
    except ValueError:
        return DEFAULT_IDLE_S


def _lock(folder: str, key: str) -> int | None:
    """The server's lock (held for its life), or None if another server of this install holds it."""
    fd = os.open(os.path.join(folder, f"{key}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return None
        raise
    return fd


def _remove_stale(folder: str, key: str) -> None:
    """Remove the lock, log and socket files of other installs' servers that are no longer running."""
    for name in os.listdir(folder):
        stem, ext = os.path.splitext(name)
        if ext != ".lock" or stem == key:
            continue
        with contextlib.suppress(OSError):
            lock = _lock(folder, stem)
            if lock is None:
                continue  # that server still runs (an older code version, idling out)
            for leftover in (f"{stem}.log", f"{stem}.sock", name):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(folder, leftover))
            os.close(lock)


def _ask(op: str) -> dict[str, Any] | None:
    sock = connect()
    if sock is None:
        return None
    with sock:
        try:
            sock.settimeout(10.0)
            send_message(sock, {"op": op})
            return MessageReader(sock).read()
        except OSError:
            return None


def cmd_start(args: argparse.Namespace, main: Main, parser: Callable[[], Any]) -> int:
    """Start the server of this install (in the background unless --foreground); exit 0 when it
    answers (or one already does), 2 if it cannot."""
    if not hasattr(socket, "send_fds") or not hasattr(os, "fork"):
        print("simcore server: needs Unix sockets with descriptor passing (Linux, macOS)", file=sys.stderr)
        return 2
    folder = server_dir(create=True)
    if folder is None:
        print("simcore server: no private folder for the socket (set SIMCORE_SERVER_DIR)", file=sys.stderr)
        return 2
    key = install_key()
    _remove_stale(folder, key)
    lock = _lock(folder, key)
    if lock is None:
        info = _ask("status")
        print(f"server     already running (pid {info['pid'] if info else '?'})")
        return 0
    idle = _idle_s(args)
    if args.foreground:
        warm_up(parser)
        server = Server(main, key, folder, idle)
        server.bind()
        print(f"server     pid {os.getpid()} on {server.path}, idle timeout {idle:g} s", flush=True)
        server.serve()
        return 0
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the server: its own session, output to a log beside the socket
        os.close(ready_r)
        try:
            os.setsid()
            log = os.open(os.path.join(folder, f"{key}.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.close(null)
            os.close(log)
            warm_up(parser)
            server = Server(main, key, folder, idle, ready=ready_w)
            server.bind()
            server.serve()
        except BaseException:  # into the log; the starter sees no "ready"
            traceback.print_exc()
            flush_output()
            os._exit(1)
        flush_output()
        os._exit(0)
    os.close(ready_w)
    os.close(lock)  # the server holds it now
    with os.fdopen(ready_r, "rb") as fh:
        line = fh.read().decode().strip()
    if not line:
        print(f"simcore server: the server did not start (see {os.path.join(folder, key + '.log')})", file=sys.stderr)
        return 2
    print(f"server     pid {line} on {socket_path(folder, key)}, idle timeout {idle:g} s")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    """Stop this install's server (it finishes the commands it is running); exit 0."""
    info = _ask("stop")
    if info is None:
        print("server     not running")
        return 0
    pid = int(info["stopping"])
    deadline = time.monotonic() + 30.0
    folder, key = server_dir(), install_key()
    while time.monotonic() < deadline and folder is not None:  # gone when its lock is free
        lock = _lock(folder, key)
        if lock is not None:
            os.close(lock)
            break
        time.sleep(0.02)
    print(f"server     stopped (pid {pid})")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Print this install's server, if any; exit 0 if one runs, 1 if not."""
    info = _ask("status")
    if info is None:
        print("server     not running" + ("" if args.json else " (simcore server start)"))
        return 1
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    up = time.time() - float(info["started"])
    print(
        f"server     pid {info['pid']} on {info['socket']}\n"
        f"up         {up:.0f} s, {info['requests']} command(s) run, {info['running']} running, "
        f"{info['kernels_loaded']} kernel specialisation(s) loaded, idle timeout {info['idle_timeout_s']:g} s"
    )
    return 0


def add_server_commands(sub: Any, main: Main, parser: Callable[[], Any]) -> None:
    """Register ``server start|stop|status``; ``main`` runs the served commands, ``parser`` builds
    the CLI's parser (warming its modules)."""
    sv = sub.add_parser("server", help="a warm server that runs simcore run/validate/... in ~0.1 s (opt-in)")
    ssub = sv.add_subparsers(dest="server_command", required=True)
    st = ssub.add_parser("start", help="start this install's server (returns when it answers)")
    st.add_argument("--idle-timeout", type=float, metavar="S", help=f"exit after S s idle (default {DEFAULT_IDLE_S:g})")
    st.add_argument("--foreground", action="store_true", help="run in this process (logs to the terminal)")
    st.set_defaults(func=lambda a: cmd_start(a, main, parser))
    sp = ssub.add_parser("stop", help="stop it")
    sp.set_defaults(func=cmd_stop)
    ss = ssub.add_parser("status", help="is one running? exit 0 yes, 1 no")
    ss.add_argument("--json", action="store_true")
    ss.set_defaults(func=cmd_status)
