"""A small MCAP writer for the run log: records packed with ``struct`` and NumPy, blocks of messages in one
call, the chunk compression chosen by the caller.

The ``mcap`` package's ``Writer`` spends about 8 us of Python per message (a record object, a field at a time
into a stream) and as much again per message-index entry when a chunk closes: most of a short run's log.
This writer keeps each open chunk as a list of byte strings and its message index as lists of integers,
packs a block of message heads with one NumPy structured array, and writes each message index as one array.
The file follows the MCAP specification (https://mcap.dev/spec): magic, Header, then chunks (Schema, Channel
and Message records) each followed by its MessageIndex records, DataEnd, the summary (Schemas, Channels,
Statistics, ChunkIndexes), SummaryOffsets, Footer, magic. The ``mcap`` package's reader reads it, CRCs
checked (tests/report/test_mcapio.py compares it, record by record, with what that package writes).

Compression per chunk (``COMPRESSIONS``): ``zstd`` at ``ZSTD_LEVEL`` (default), ``lz4`` or none (``""``).
"""

from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Callable, Sequence
from typing import IO

import numpy as np

#: The file's first and last eight bytes.
MAGIC = b"\x89MCAP0\r\n"
#: Record opcodes (MCAP specification).
HEADER, FOOTER, SCHEMA, CHANNEL, MESSAGE, CHUNK, MESSAGE_INDEX, CHUNK_INDEX = range(1, 9)
STATISTICS, SUMMARY_OFFSET, DATA_END = 0x0B, 0x0E, 0x0F
#: Chunk compressions a writer takes (the names MCAP readers know; "" is none).
COMPRESSIONS = ("zstd", "lz4", "")
#: zstd level of the chunks. Level 1 against the ``mcap`` package's 3, measured on run logs (tools/bench/
#: runlog.py, docs/run-log.md): about 40 % less compression time for 3-9 % larger files.
ZSTD_LEVEL = 1
#: A Message record's head: opcode, record length, channel id, sequence, log time, publish time (31 bytes).
MESSAGE_HEAD = np.dtype(
    [("op", "u1"), ("len", "<u8"), ("channel", "<u2"), ("seq", "<u4"), ("log", "<u8"), ("publish", "<u8")]
)
_RECORD = struct.Struct("<BQ")


def _string(s: str) -> bytes:
    b = s.encode()
    return struct.pack("<I", len(b)) + b


def _record(op: int, body: bytes) -> bytes:
    return _RECORD.pack(op, len(body)) + body


@functools.cache
def _compressor(name: str) -> Callable[[bytes], bytes]:
    """``bytes -> bytes`` for chunk compression ``name`` (one zstd context per process: setting one up costs
    more than compressing a small chunk)."""
    if name == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress
    if name == "lz4":
        import lz4.frame

        return lz4.frame.compress  # type: ignore[no-any-return]
    return bytes


class McapWriter:
    """Writes an MCAP file to ``fh`` (binary, written in order; not closed here).

    ``chunk_bytes``: a chunk is closed once its records pass this many bytes (uncompressed), so memory holds
    one chunk (plus at most one block of ``add_block``) whatever the run's length. ``compression``: one of
    ``COMPRESSIONS``. Schema and channel ids count from 1."""

    def __init__(self, fh: IO[bytes], *, chunk_bytes: int = 1 << 20, compression: str = "zstd",
                 profile: str = "", library: str = "simcore") -> None:  # fmt: skip
        if compression not in COMPRESSIONS:
            raise ValueError(f"chunk compression {compression!r}: expected one of {COMPRESSIONS}")
        self._fh = fh
        self._compression = compression
        self._compress = _compressor(compression)
        self.chunk_bytes = int(chunk_bytes)
        self._schemas: list[bytes] = []
        self._channels: list[bytes] = []
        #: Messages written per channel (index: channel id - 1).
        self.message_counts: list[int] = []
        self._chunk_indexes: list[bytes] = []
        self._start: int | None = None  # first and last log time of the file (ns)
        self._end = 0
        self._pos = 0
        self._new_chunk()
        self._write(MAGIC + _record(HEADER, _string(profile) + _string(library)))

    def _write(self, data: bytes) -> None:
        self._fh.write(data)
        self._pos += len(data)

    def _new_chunk(self) -> None:
        self._parts: list[bytes | memoryview] = []
        self._size = 0  # bytes of the open chunk's records
        #: channel id -> (log times, offsets in the chunk) of its messages in the open chunk
        self._index: dict[int, tuple[list[int], list[int]]] = {}
        self._c_start: int | None = None
        self._c_end = 0

    def _in_chunk(self, rec: bytes) -> None:
        self._parts.append(rec)
        self._size += len(rec)
        if self._size > self.chunk_bytes:
            self._close_chunk()

    def register_schema(self, name: str, encoding: str, data: bytes) -> int:
        """A schema record; returns its id."""
        sid = len(self._schemas) + 1
        rec = _record(SCHEMA, struct.pack("<H", sid) + _string(name) + _string(encoding) + _string_bytes(data))
        self._schemas.append(rec)
        self._in_chunk(rec)
        return sid

    def register_channel(self, topic: str, message_encoding: str, schema_id: int) -> int:
        """A channel record (no metadata); returns its id."""
        cid = len(self._channels) + 1
        rec = _record(CHANNEL, struct.pack("<HH", cid, schema_id) + _string(topic) + _string(message_encoding)
                      + struct.pack("<I", 0))  # fmt: skip
        self._channels.append(rec)
        self.message_counts.append(0)
        self._in_chunk(rec)
        return cid

    def add(self, channel_id: int, log_ns: int, data: bytes, seq: int) -> None:
        """One message of ``channel_id`` at log (= publish) time ``log_ns`` with sequence number ``seq``."""
        times, offsets = self._index.setdefault(channel_id, ([], []))
        times.append(log_ns)
        offsets.append(self._size)
        head = struct.pack("<BQHIQQ", MESSAGE, 22 + len(data), channel_id, seq, log_ns, log_ns)
        self._parts += (head, data)
        self._size += 31 + len(data)
        self._span(log_ns, log_ns, channel_id, 1)
        if self._size > self.chunk_bytes:
            self._close_chunk()

    def add_block(self, channel_id: int, log_ns: np.ndarray, datas: Sequence[bytes] | np.ndarray, seq0: int) -> None:
        """Messages ``datas`` of ``channel_id`` at log (= publish) times ``log_ns`` (ns, int64), sequence
        numbers ``seq0``, ``seq0 + 1``, ...: their heads packed by one NumPy assignment. ``datas``: the messages
        as byte strings, or as the rows of a 2-D uint8 array (messages of one length: the records are then
        one array too)."""
        k = len(datas)
        if k == 0:
            return
        ns = np.asarray(log_ns, dtype=np.int64)
        arr = datas if isinstance(datas, np.ndarray) else None
        rows = arr is not None
        sizes = np.full(k, arr.shape[1]) if arr is not None else np.fromiter(map(len, datas), np.int64, count=k)
        heads = np.empty(k, dtype=MESSAGE_HEAD)
        heads["op"], heads["len"], heads["channel"] = MESSAGE, 22 + sizes, channel_id
        heads["seq"], heads["log"], heads["publish"] = np.arange(seq0, seq0 + k), ns, ns
        ends = np.cumsum(31 + sizes)  # each message's end, from the block's start
        hb: bytes | memoryview
        if arr is not None:
            recs = np.empty((k, 31 + arr.shape[1]), dtype=np.uint8)
            recs[:, :31] = heads.view(np.uint8).reshape(k, 31)
            recs[:, 31:] = arr
            hb = recs.data.cast("B")  # no copy: the chunk's parts keep the array until it is written
        else:
            hb = heads.tobytes()
        lo = 0
        while lo < k:  # close chunks as they fill (the message that passes the limit is the chunk's last)
            before = int(ends[lo - 1]) if lo else 0
            room = self.chunk_bytes - self._size + before
            hi = max(lo + 1, min(int(np.searchsorted(ends, room, side="right")) + 1, k))
            base = self._size - before
            times, offsets = self._index.setdefault(channel_id, ([], []))
            times += ns[lo:hi].tolist()
            offsets += (base + ends[lo:hi] - 31 - sizes[lo:hi]).tolist()
            if rows:
                self._parts.append(hb[before : int(ends[hi - 1])])
            else:
                for j in range(lo, hi):
                    self._parts += (hb[31 * j : 31 * j + 31], datas[j])
            self._size = base + int(ends[hi - 1])
            self._span(int(ns[lo:hi].min()), int(ns[lo:hi].max()), channel_id, hi - lo)
            lo = hi
            if self._size > self.chunk_bytes:
                self._close_chunk()

    def _span(self, lo: int, hi: int, channel_id: int, count: int) -> None:
        self._c_start = lo if self._c_start is None else min(lo, self._c_start)
        self._c_end = max(hi, self._c_end)
        self.message_counts[channel_id - 1] += count

    def _close_chunk(self) -> None:
        """Compress and write the open chunk and its message indexes (nothing while it holds no message: its
        schema and channel records stay for the next)."""
        if self._c_start is None:
            return
        data = b"".join(self._parts)
        packed = self._compress(data)
        comp = _string(self._compression)
        rec = _record(CHUNK, struct.pack("<QQQI", self._c_start, self._c_end, len(data), zlib.crc32(data)) + comp
                      + struct.pack("<Q", len(packed)) + packed)  # fmt: skip
        chunk_at = self._pos
        self._write(rec)
        index_at, parts, where = self._pos, list[bytes](), list[bytes]()
        for cid, (times, offsets) in self._index.items():
            pairs = np.empty((len(times), 2), dtype="<u8")
            pairs[:, 0], pairs[:, 1] = times, offsets
            where.append(struct.pack("<HQ", cid, index_at + sum(map(len, parts))))
            parts.append(_record(MESSAGE_INDEX, struct.pack("<HI", cid, pairs.nbytes) + pairs.tobytes()))
        index = b"".join(parts)
        self._write(index)
        offsets_map = b"".join(where)
        self._chunk_indexes.append(_record(CHUNK_INDEX, struct.pack("<QQQQ", self._c_start, self._c_end, chunk_at,
                                                                      len(rec))
                                           + struct.pack("<I", len(offsets_map)) + offsets_map
                                           + struct.pack("<Q", len(index)) + comp
                                           + struct.pack("<QQ", len(packed), len(data))))  # fmt: skip
        self._start = self._c_start if self._start is None else min(self._start, self._c_start)
        self._end = max(self._end, self._c_end)
        self._new_chunk()

    def finish(self) -> None:
        """Close the last chunk; write DataEnd, the summary (schemas, channels, statistics, chunk indexes),
        the summary offsets, the footer (with the summary's CRC) and the closing magic."""
        self._close_chunk()
        self._write(_record(DATA_END, struct.pack("<I", 0)))  # no data-section CRC (as ``mcap``'s default)
        summary_at = self._pos
        groups, parts, at = list[bytes](), list[bytes](), summary_at
        counts = b"".join(struct.pack("<HQ", cid + 1, n) for cid, n in enumerate(self.message_counts) if n)
        stats = _record(STATISTICS, struct.pack("<QHIIIIQQ", sum(self.message_counts), len(self._schemas),
                                                len(self._channels), 0, 0, len(self._chunk_indexes),
                                                self._start or 0, self._end)
                        + struct.pack("<I", len(counts)) + counts)  # fmt: skip
        for op, recs in ((SCHEMA, self._schemas), (CHANNEL, self._channels), (STATISTICS, [stats]),
                         (CHUNK_INDEX, self._chunk_indexes)):  # fmt: skip
            group = b"".join(recs)
            if group:
                groups.append(_record(SUMMARY_OFFSET, struct.pack("<BQQ", op, at, len(group))))
                parts.append(group)
                at += len(group)
        summary = b"".join(parts) + b"".join(groups)
        footer = struct.pack("<BQQQ", FOOTER, 20, summary_at, at)
        self._write(summary + footer + struct.pack("<I", zlib.crc32(footer, zlib.crc32(summary))) + MAGIC)


def _string_bytes(data: bytes) -> bytes:
    return struct.pack("<I", len(data)) + data
