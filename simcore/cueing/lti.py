"""Continuous transfer functions -> exact zero-order-hold discrete state space, and banks of them.

Every filter of the cueing package (washout channels, vestibular organs, the ISO 2631-1 ``Wf``
weighting) is written as a product of small continuous sections ``num(s) / den(s)`` and run
at the physics step. A section is realised in controller canonical form; a product becomes a
series connection of the sections (well conditioned even for the 8th-order ``Wf``), and the
whole chain is discretised exactly for piecewise-constant input (ZOH) with one matrix
exponential: ``exp([[A, B], [0, 0]] dt) = [[Ad, Bd], [0, I]]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.linalg import expm

from simcore._types import F64
from simcore.cueing.washout_kernels import bank_run, bank_step

#: A transfer-function section: (numerator, denominator) coefficients in descending powers of s.
Section = tuple[Sequence[float], Sequence[float]]


@dataclass(frozen=True)
class StateSpace:
    """x' = A x + B u, y = C x + D u (continuous) or x[k+1] = A x[k] + B u[k] (discrete); SISO.

    Attributes:
        a: (n, n). b: (n,). c: (n,). d: scalar feed-through.
    """

    a: F64
    b: F64
    c: F64
    d: float

    @property
    def order(self) -> int:
        """Number of states."""
        return int(self.a.shape[0])


def section_ss(num: Sequence[float], den: Sequence[float]) -> StateSpace:
    """Controller canonical realisation of one proper section ``num(s) / den(s)``."""
    den_a = np.trim_zeros(np.asarray(den, dtype=np.float64), "f")
    num_a = np.trim_zeros(np.asarray(num, dtype=np.float64), "f")
    if den_a.size == 0 or num_a.size > den_a.size:
        raise ValueError(f"section {list(num)} / {list(den)} is not proper")
    lead = den_a[0]
    den_a = den_a / lead
    n = den_a.size - 1
    b = np.zeros(n + 1)
    b[n + 1 - num_a.size :] = num_a / lead
    if n == 0:
        return StateSpace(np.zeros((0, 0)), np.zeros(0), np.zeros(0), float(b[0]))
    a = np.zeros((n, n))
    a[0, :] = -den_a[1:]
    a[1:, :-1] = np.eye(n - 1)
    bb = np.zeros(n)
    bb[0] = 1.0
    c = b[1:] - den_a[1:] * b[0]
    return StateSpace(a, bb, c, float(b[0]))


def series(first: StateSpace, second: StateSpace) -> StateSpace:
    """``second`` fed by ``first``: transfer function second(s) * first(s)."""
    n1, n2 = first.order, second.order
    a = np.zeros((n1 + n2, n1 + n2))
    a[:n1, :n1] = first.a
    a[n1:, :n1] = np.outer(second.b, first.c)
    a[n1:, n1:] = second.a
    b = np.concatenate([first.b, second.b * first.d])
    c = np.concatenate([second.d * first.c, second.c])
    return StateSpace(a, b, c, second.d * first.d)


def chain(sections: Sequence[Section], gain: float = 1.0) -> StateSpace:
    """Continuous state space of ``gain * prod(num_k / den_k)``."""
    out = StateSpace(np.zeros((0, 0)), np.zeros(0), np.zeros(0), float(gain))
    for num, den in sections:
        out = series(out, section_ss(num, den))
    return out


def zoh(sys: StateSpace, dt: float) -> StateSpace:
    """Exact discretisation for input held constant over each step ``dt`` (s)."""
    n = sys.order
    m = np.zeros((n + 1, n + 1))
    m[:n, :n] = sys.a * dt
    m[:n, n] = sys.b * dt
    e = expm(m)
    return StateSpace(e[:n, :n].copy(), e[:n, n].copy(), sys.c.copy(), sys.d)


def transfer(sections: Sequence[Section], gain: float, s: np.ndarray) -> np.ndarray:
    """The continuous transfer function evaluated at complex ``s`` (for docs and checks)."""
    out = np.full(np.shape(s), gain, dtype=np.complex128)
    for num, den in sections:
        out *= np.polyval(num, s) / np.polyval(den, s)
    return out


@dataclass
class FilterBank:
    """Several discrete SISO filters stepped together by one kernel call.

    Attributes:
        a: (m, N, N), b: (m, N), c: (m, N), d: (m,) discrete matrices, zero-padded to N states.
        x: (m, N) filter states. y: (m,) last outputs.
    """

    a: F64
    b: F64
    c: F64
    d: F64
    x: F64
    y: F64

    def __post_init__(self) -> None:
        self._tmp = np.zeros(self.x.shape[1])

    @classmethod
    def build(cls, systems: Sequence[StateSpace]) -> FilterBank:
        """Stack discrete systems (from ``zoh``) into one bank."""
        m = len(systems)
        n = max([s.order for s in systems] + [1])
        a, b, c = np.zeros((m, n, n)), np.zeros((m, n)), np.zeros((m, n))
        d = np.zeros(m)
        for k, s in enumerate(systems):
            q = s.order
            a[k, :q, :q], b[k, :q], c[k, :q], d[k] = s.a, s.b, s.c, s.d
        return cls(a, b, c, d, np.zeros((m, n)), np.zeros(m))

    def reset(self) -> None:
        """All states to zero (the filters at rest)."""
        self.x[:] = 0.0
        self.y[:] = 0.0

    def step(self, u: F64) -> F64:
        """One step with inputs ``u`` (m,); returns the outputs (m,) (a view, overwritten next step)."""
        bank_step(self.a, self.b, self.c, self.d, self.x, u, self.y, self._tmp)
        return self.y


def simulate(systems: Sequence[StateSpace], u: np.ndarray) -> np.ndarray:
    """Responses of discrete systems (from rest) to input sequences ``u`` (T,) or (T, m) -> (T, m)."""
    bank = FilterBank.build(systems)
    uu = np.ascontiguousarray(np.asarray(u, dtype=np.float64).reshape(len(u), -1))
    if uu.shape[1] == 1 and len(systems) > 1:
        uu = np.ascontiguousarray(np.repeat(uu, len(systems), axis=1))
    out = np.empty((uu.shape[0], len(systems)))
    bank_run(bank.a, bank.b, bank.c, bank.d, bank.x, uu, out, bank._tmp)
    return out
