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

Every step of a run (``fold_engine_state``, called by the compiled step itself) folds the full
``EngineState`` of its instance in the field order of ``simcore.state.EngineState``, every array
row-major, as the same 64-bit words. Per step the words of an array go to four lanes (word i of
each array to lane i mod 4, lanes carried from one array to the next, each lane absorbing a word as
``lane = rotl(lane + w * P2, 31) * P1``, xxHash64's round, so the four lanes run in parallel), and
the step's digest ``rotl(l0, 1) + rotl(l1, 7) + rotl(l2, 12) + rotl(l3, 18)`` is mixed into the
running hash with the splitmix64 finaliser. Each round, the sum and the mix are bijective in the
changed word, so one changed word of one step always changes the hash. The route samples
(``route_x``, ``route_y``, ``route_mu``; the step only reads them) are folded as a group at
reset and again at every step where the storyboard fired (the only writer), with the step number
(a storyboard compiled into the step: as one more lane digest after that step's, inside the step).
Of the collision-pair arrays ``touch_i``/``touch_j`` only the ``n_touch`` pairs in use are folded.
The stream does not depend on how a run is chunked into compiled calls.
``Simulation`` keeps the running value in ``Outputs.state_hash``; ``Result.state_hash`` holds the
hex digest.
"""

from __future__ import annotations

import numpy as np

from simcore.record.state_hash_kernels import (
    HASH_SEED,
    LANE_ROT,
    LANE_SEEDS,
    ROUTE_FIELDS,
    fold_engine_state,
    fold_words,
)

__all__ = ["HASH_SEED", "LANE_ROT", "LANE_SEEDS", "ROUTE_FIELDS", "StateHash", "fold_engine_state", "fold_words"]


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
