"""Running 64-bit hash of a run's engine state: proves a rerun bit-identical across workers, backends, machines.

Every array element is folded as one 64-bit word: a float's IEEE-754 bit pattern (float32
widened to float64 first; every NaN folded as the one canonical quiet NaN, since NaN payloads
and signs vary by CPU), an integer or bool widened to 64 bits (two's complement). The word
values, not the bytes in memory, are hashed, so the result is the same on little- and
big-endian machines (it equals hashing each element's little-endian 8-byte form). Each fold
mixes ``h ^ word`` through the splitmix64 finaliser (a bijection of 64-bit words), so the hash
depends on every bit and on the order of the words. A group of arrays is folded as a head
(a tag word and each array's length), then the float arrays' elements, then the integer and
bool arrays' elements, each in the order given; so a changed shape or part changes the hash too.

The runner (``simcore.runner.loop.Simulation``) folds, as one group after every compiled
``advance`` call, the full state and the trajectory rows recorded in that call (every step by
default) and, at the end, the metric accumulators; ``Result.state_hash`` holds the hex digest.
"""

from __future__ import annotations

import numpy as np

from simcore._jit import kernel

#: Starting value of every hash (an arbitrary odd constant).
HASH_SEED = 0x5EED_C0DE_1234_ABCD
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_EXP = np.uint64(0x7FF0000000000000)
_MANT = np.uint64(0x000FFFFFFFFFFFFF)
_QNAN = np.uint64(0x7FF8000000000000)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)


@kernel
def _mix(h: np.uint64, w: np.uint64) -> np.uint64:
    x = (h ^ w) + _GOLDEN
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


@kernel
def fold_words(h: np.uint64, words: np.ndarray, is_float: bool) -> np.uint64:
    """``h`` with every word of ``words`` (uint64, 1-D) folded in, in order; NaN patterns made canonical."""
    for k in range(words.shape[0]):
        w = words[k]
        if is_float and (w & _EXP) == _EXP and (w & _MANT) != np.uint64(0):
            w = _QNAN
        h = _mix(h, w)
    return h


class StateHash:
    """A running hash; ``fold`` arrays in a fixed order, read ``hexdigest`` (16 hex digits)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = np.uint64(HASH_SEED)

    def fold(self, tag: int, *arrays: np.ndarray) -> None:
        """Fold one group of arrays: the words [tag, length of each array], then the elements of
        the float arrays in order, then those of the integer and bool arrays in order.

        Three kernel calls per group, whatever the number of arrays (the runner folds a group
        per ``advance`` call).
        """
        flats = [np.asarray(a).reshape(-1) for a in arrays]
        for a in flats:
            if a.dtype.kind not in "fbiu":
                raise TypeError(f"state hash: cannot fold an array of dtype {a.dtype}")
        head = np.array([tag, *(a.shape[0] for a in flats)], dtype=np.uint64)
        floats = [a for a in flats if a.dtype.kind == "f"]
        ints = [a for a in flats if a.dtype.kind != "f"]
        # Numba hands uint64 results back as Python ints: re-wrap them so every call types as uint64.
        h = np.uint64(fold_words(self.value, head, False))
        if floats:
            words = np.concatenate(floats, dtype=np.float64, casting="safe").view(np.uint64)
            h = np.uint64(fold_words(h, words, True))
        if ints:
            words = np.concatenate(ints, dtype=np.int64, casting="unsafe").view(np.uint64)
            h = np.uint64(fold_words(h, words, False))
        self.value = h

    def hexdigest(self) -> str:
        """The hash as 16 lower-case hex digits."""
        return f"{int(self.value):016x}"
