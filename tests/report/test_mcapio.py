"""The run log's MCAP writer (``report.mcapio``) against the ``mcap`` package: the same records, byte for byte,
as that package's own writer given the same messages one at a time; every chunk compression read back by the
package's reader with CRC checks."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import numpy as np
import pytest
from mcap.reader import make_reader
from mcap.stream_reader import StreamReader
from mcap.writer import CompressionType, IndexType, Writer

from simcore.report.mcapio import COMPRESSIONS, McapWriter

#: The messages: random bytes at sorted random log times (ns); from 330 on, all of one length (given to
#: ``add_block`` as the rows of one array).
RNG = np.random.default_rng(7)
DATAS = [RNG.bytes(int(n)) for n in RNG.integers(0, 400, 330)] + [RNG.bytes(150) for _ in range(90)]
TIMES = np.sort(RNG.integers(0, 10**10, 420)).astype(np.int64)


def _write(fh: io.BufferedIOBase | io.BytesIO, ours: bool, compression: str = "") -> None:
    """Two schemas, three channels (one registered after messages went), 420 messages: single and in blocks of
    uneven size (some larger than a chunk, the last one an array), so chunks close inside blocks and on single
    messages."""
    if ours:
        w = McapWriter(fh, chunk_bytes=4096, compression=compression)
    else:
        w0 = Writer(fh, chunk_size=4096, compression=CompressionType.NONE,
                    index_types=IndexType.CHUNK | IndexType.MESSAGE)  # fmt: skip
        w0.start(profile="", library="simcore")
    reg_s = w.register_schema if ours else lambda n, e, d: w0.register_schema(name=n, encoding=e, data=d)
    reg_c = w.register_channel if ours else lambda t, e, s: w0.register_channel(topic=t, message_encoding=e,
                                                                               schema_id=s)  # fmt: skip
    s1 = reg_s("a.A", "jsonschema", b'{"type": "object"}')
    s2 = reg_s("b/msg/B", "ros2msg", b"float64 x")
    chans = [reg_c("/a", "json", s1), reg_c("/b", "cdr", s2)]
    seq = {c: 0 for c in range(1, 4)}
    cuts = [0, 1, 2, 5, 40, 41, 100, 101, 160, 250, 251, 330, 420]
    for i, (lo, hi) in enumerate(itertools.pairwise(cuts)):
        if lo == 160:
            chans.append(reg_c("/c", "cdr", s2))
        c = chans[i % len(chans)]
        if ours and lo == 330:
            rows = np.frombuffer(b"".join(DATAS[lo:hi]), dtype=np.uint8).reshape(hi - lo, -1)
            w.add_block(c, TIMES[lo:hi], rows, seq[c])
        elif ours and hi - lo > 1:
            w.add_block(c, TIMES[lo:hi], DATAS[lo:hi], seq[c])
        else:
            for j in range(lo, hi):
                if ours:
                    w.add(c, int(TIMES[j]), DATAS[j], seq[c] + j - lo)
                else:
                    t = int(TIMES[j])
                    w0.add_message(c, log_time=t, data=DATAS[j], publish_time=t, sequence=seq[c] + j - lo)
        seq[c] += hi - lo
    if ours:
        w.finish()
    else:
        w0.finish()


def test_same_bytes_as_the_mcap_package() -> None:
    """Uncompressed, the file is the one ``mcap.writer.Writer`` writes (summary without attachment and metadata
    index groups, which this log never has): every record, index offset, statistic and CRC."""
    ref, got = io.BytesIO(), io.BytesIO()
    _write(ref, ours=False)
    _write(got, ours=True)
    assert got.getvalue() == ref.getvalue()
    stats = make_reader(io.BytesIO(got.getvalue()), validate_crcs=True).get_summary()
    assert stats is not None and stats.statistics is not None
    assert stats.statistics.message_count == 420 and stats.statistics.chunk_count > 10


@pytest.mark.parametrize("compression", [c for c in COMPRESSIONS if c])
def test_compressed_chunks_read_back(compression: str) -> None:
    """zstd and lz4 chunks: the mcap reader (CRCs checked, indexed and streamed) gives the uncompressed file's
    records, apart from the chunks' own sizes."""
    plain, packed = io.BytesIO(), io.BytesIO()
    _write(plain, ours=True)
    _write(packed, ours=True, compression=compression)
    assert len(packed.getvalue()) < len(plain.getvalue())

    def records(data: bytes) -> list[object]:
        out = []
        for r in StreamReader(io.BytesIO(data), validate_crcs=True).records:
            name = type(r).__name__
            if name in ("Message", "Schema", "Channel", "MessageIndex", "Statistics", "Header"):
                out.append(r)
            elif name == "ChunkIndex":
                out.append((r.message_start_time, r.message_end_time, r.uncompressed_size, r.compression or "none"))
        return out

    want = [r if not isinstance(r, tuple) else (*r[:3], compression) for r in records(plain.getvalue())]
    assert records(packed.getvalue()) == want
    reader = make_reader(io.BytesIO(packed.getvalue()), validate_crcs=True)
    got = [(c.topic, m.sequence, m.log_time, m.data) for _, c, m in reader.iter_messages(log_time_order=False)]
    assert [(t, d) for _, _, t, d in got] == list(zip(TIMES.tolist(), DATAS, strict=True))


def test_unknown_compression_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="brotli"), open(tmp_path / "x.mcap", "wb") as fh:
        McapWriter(fh, compression="brotli")
