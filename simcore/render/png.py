"""PNG files of palette pictures, written here rather than by Pillow: the same file layout (signature,
IHDR, PLTE, IDAT, IEND; rows unfiltered, as Pillow writes a palette picture), compressed with ISA-L's
deflate (the ``isal`` package) where it is installed: 10-15x faster than zlib at level 1 on these
pictures and about a fifth smaller (topdown.png of a catalog scenario: 0.09 ms instead of 1.1-1.5 ms).
Without ``isal``, the standard library's zlib at level 1 (what Pillow used).
"""

from __future__ import annotations

import struct
import zlib
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

try:  # the same zlib stream format (header, deflate, Adler-32), faster
    from isal.isal_zlib import compress as _compress
except ImportError:  # pragma: no cover - isal is a dependency; kept working without it
    from zlib import compress as _compress  # type: ignore[assignment]

#: Deflate level (ISA-L's 1: its fast level; zlib's 1: its fastest).
LEVEL = 1
SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: IHDR colour type of a palette picture.
_PALETTE = 3


def chunk(tag: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, tag, data, CRC-32 of tag and data."""
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(tag)))


def palette_png(img: Image.Image) -> bytes:
    """A palette ("P") picture as PNG bytes: 8 bits per pixel, every palette entry the picture has."""
    if img.mode != "P":
        raise ValueError(f"palette_png takes a palette picture, not mode {img.mode!r}")
    w, h = img.size
    rows = np.empty((h, w + 1), np.uint8)
    rows[:, 0] = 0  # filter type None: a palette picture compresses best unfiltered
    rows[:, 1:] = np.asarray(img)
    palette = bytes(img.getpalette("RGB") or b"\0\0\0")
    out = [SIGNATURE, chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, _PALETTE, 0, 0, 0)), chunk(b"PLTE", palette)]
    transparency = img.info.get("transparency")
    if isinstance(transparency, int):  # one transparent entry: alpha 0 there, 255 before it
        out.append(chunk(b"tRNS", b"\xff" * transparency + b"\0"))
    elif isinstance(transparency, bytes):  # alpha per entry
        out.append(chunk(b"tRNS", transparency))
    out.append(chunk(b"IDAT", _compress(rows.data, LEVEL)))
    out.append(chunk(b"IEND", b""))
    return b"".join(out)
