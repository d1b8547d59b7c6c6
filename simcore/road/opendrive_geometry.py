"""OpenDRIVE planView maths: reference-line geometries (line, arc, spiral, poly3, paramPoly3) and cubic profiles.

Every geometry is evaluated at local arc length ``ds`` in ``[0, length]`` (m) and returns the
reference-line point (x, y) in the map frame (m, ENU) and its heading (rad, CCW from x).
Sources: ASAM OpenDRIVE 1.7, section 7.6 (line, arc, spiral, poly3, paramPoly3) and 8.4/9.3
(cubic polynomials in s for elevation, lane offset and lane widths).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from simcore._types import F64


def _fresnel_function() -> Callable[..., Any] | None:
    """``scipy.special.fresnel``, imported on the first spiral (about 0.5 s of CPU that maps
    without spirals, and every ``simcore run`` of a generated road, need not pay); None without
    scipy (the spiral then falls back to Gauss-Legendre quadrature)."""
    try:
        from scipy.special import fresnel
    except ImportError:  # pragma: no cover - exercised only without scipy
        return None
    return fresnel


#: Curvature rate (1/m^2) below which a spiral is evaluated as an arc of its mean curvature.
#: At this rate the heading differs from the arc's by < 1e-9 rad over 100 m.
MIN_SPIRAL_RATE = 1e-13
#: Largest Fresnel argument trusted for the closed form; beyond it the difference of two large
#: Fresnel values loses digits and quadrature is used instead.
MAX_FRESNEL_ARG = 50.0
#: Gauss-Legendre panel length (m) and order for quadratures along a curve; 8 nodes over 2 m
#: integrate the heading's cos/sin to ~1e-15 for curvatures up to 1/m.
_PANEL_M = 2.0
_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)
#: Records of a piecewise cubic whose starts differ from a boundary by less than this are at it (m).
RECORD_TOL_M = 1e-9
#: Spacing (m) of the arc-length tables used by poly3 and paramPoly3.
_TABLE_SPACING_M = 0.25


def _quad_cumulative(speed: object, t_max: float, n_panels: int) -> tuple[F64, F64]:
    """Cumulative integral of ``speed(t)`` over panel edges of ``[0, t_max]`` (Gauss-Legendre per panel)."""
    edges = np.linspace(0.0, t_max, n_panels + 1)
    half = 0.5 * (edges[1:] - edges[:-1])
    mid = 0.5 * (edges[1:] + edges[:-1])
    nodes = mid[:, None] + half[:, None] * _GL_X[None, :]
    vals = speed(nodes)  # type: ignore[operator]
    panel = (vals * _GL_W[None, :]).sum(axis=1) * half
    return edges, np.concatenate([[0.0], np.cumsum(panel)])


@dataclass(frozen=True)
class Geometry:
    """One planView ``<geometry>`` record: start s, start pose and length.

    Attributes:
        s: start along the road reference line (m).
        x, y: start point (m, map frame). hdg: start heading (rad, CCW from x).
        length: arc length (m), > 0.
    """

    s: float
    x: float
    y: float
    hdg: float
    length: float

    def evaluate(self, ds: F64) -> tuple[F64, F64, F64]:
        """(x, y, heading) at local arc lengths ``ds`` (m), ``0 <= ds <= length``."""
        raise NotImplementedError

    def curvature(self, ds: F64) -> F64:
        """Signed curvature (1/m, left positive) at local arc lengths ``ds``."""
        raise NotImplementedError

    def end_pose(self) -> tuple[float, float, float]:
        """(x, y, heading) at the end of the geometry."""
        x, y, h = self.evaluate(np.array([self.length]))
        return float(x[0]), float(y[0]), float(h[0])


@dataclass(frozen=True)
class Line(Geometry):
    """Straight line: ``x = x0 + ds cos(hdg)``, ``y = y0 + ds sin(hdg)``."""

    def evaluate(self, ds: F64) -> tuple[F64, F64, F64]:
        ds = np.asarray(ds, float)
        return self.x + ds * math.cos(self.hdg), self.y + ds * math.sin(self.hdg), np.full(ds.shape, self.hdg)

    def curvature(self, ds: F64) -> F64:
        return np.zeros(np.shape(ds))


@dataclass(frozen=True)
class Arc(Geometry):
    """Circular arc of constant curvature ``k`` (1/m, left positive).

    ``h(ds) = hdg + k ds``, ``x = x0 + (sin h - sin hdg) / k``, ``y = y0 - (cos h - cos hdg) / k``.
    """

    k: float = 0.0

    def evaluate(self, ds: F64) -> tuple[F64, F64, F64]:
        ds = np.asarray(ds, float)
        if self.k == 0.0:
            return Line(self.s, self.x, self.y, self.hdg, self.length).evaluate(ds)
        h = self.hdg + self.k * ds
        # Half-angle chord form: no cancellation for small k * ds.
        half = 0.5 * self.k * ds
        chord = np.where(np.abs(half) > 1e-12, np.sin(half) / np.where(half == 0, 1.0, half), 1.0) * ds
        mid = self.hdg + half
        return self.x + chord * np.cos(mid), self.y + chord * np.sin(mid), h

    def curvature(self, ds: F64) -> F64:
        return np.full(np.shape(ds), self.k)


@dataclass(frozen=True)
class Spiral(Geometry):
    """Clothoid (Euler spiral): curvature linear in arc length from ``k0`` to ``k1``.

    ``k(ds) = k0 + c ds`` with ``c = (k1 - k0) / length``; ``h(ds) = hdg + k0 ds + c ds^2 / 2``.
    Position: with ``a = sqrt(pi / |c|)``, ``u = (ds + k0 / c) / a`` and ``phi = hdg - k0^2 / (2 c)``,
    ``x = x0 + a [cos(phi) dC - sgn(c) sin(phi) dS]``, ``y = y0 + a [sin(phi) dC + sgn(c) cos(phi) dS]``
    where ``dC, dS`` are differences of the Fresnel integrals ``C(u), S(u)`` between ``ds`` and 0.
    Without scipy, or when the Fresnel arguments are too large to difference accurately, the
    position is the Gauss-Legendre quadrature of ``(cos h, sin h)``.
    """

    k0: float = 0.0
    k1: float = 0.0

    @property
    def rate(self) -> float:
        """Curvature rate ``c`` (1/m^2)."""
        return (self.k1 - self.k0) / self.length

    def heading(self, ds: F64) -> F64:
        """Heading (rad) at local arc lengths ``ds``."""
        return self.hdg + self.k0 * ds + 0.5 * self.rate * ds * ds

    def evaluate(self, ds: F64) -> tuple[F64, F64, F64]:
        ds = np.asarray(ds, float)
        c = self.rate
        if abs(c) < MIN_SPIRAL_RATE:
            x, y, _ = Arc(self.s, self.x, self.y, self.hdg, self.length, 0.5 * (self.k0 + self.k1)).evaluate(ds)
            return x, y, self.heading(ds)
        a = math.sqrt(math.pi / abs(c))
        u0 = (self.k0 / c) / a
        u1 = (self.length + self.k0 / c) / a
        _fresnel = _fresnel_function()
        if _fresnel is not None and max(abs(u0), abs(u1)) <= MAX_FRESNEL_ARG:
            sgn = 1.0 if c > 0 else -1.0
            phi = self.hdg - self.k0 * self.k0 / (2.0 * c)
            s_u, c_u = _fresnel((ds + self.k0 / c) / a)
            s_0, c_0 = _fresnel(u0)
            dc = c_u - c_0
            dsn = s_u - s_0
            x = self.x + a * (math.cos(phi) * dc - sgn * math.sin(phi) * dsn)
            y = self.y + a * (math.sin(phi) * dc + sgn * math.cos(phi) * dsn)
            return x, y, self.heading(ds)
        return self._evaluate_quadrature(ds)

    def _evaluate_quadrature(self, ds: F64) -> tuple[F64, F64, F64]:
        """Position by Gauss-Legendre quadrature of the heading (reference and fallback).

        One cumulative table over panels of ``[0, max ds]`` plus one partial panel per point:
        O(panels + points), so a long spiral costs no more than its length.
        """
        ds = np.asarray(ds, float)
        flat = np.clip(ds.ravel(), 0.0, None)
        if flat.size == 0:
            return np.zeros(ds.shape), np.zeros(ds.shape), self.heading(ds)
        top = float(flat.max())
        n = max(1, math.ceil(top / _PANEL_M))
        edges, cx = _quad_cumulative(lambda t: np.cos(self.heading(t)), top, n)
        _, cy = _quad_cumulative(lambda t: np.sin(self.heading(t)), top, n)
        k = np.clip(np.searchsorted(edges, flat, side="right") - 1, 0, n - 1)
        a = edges[k]
        half = 0.5 * (flat - a)
        nodes = (a + half)[:, None] + half[:, None] * _GL_X[None, :]
        h = self.heading(nodes)
        px = cx[k] + (np.cos(h) * _GL_W).sum(axis=1) * half
        py = cy[k] + (np.sin(h) * _GL_W).sum(axis=1) * half
        return (self.x + px).reshape(ds.shape), (self.y + py).reshape(ds.shape), self.heading(ds)

    def curvature(self, ds: F64) -> F64:
        return self.k0 + self.rate * np.asarray(ds, float)


@dataclass(frozen=True)
class ParamPoly3(Geometry):
    """Parametric cubic in the local (u, v) frame of the start pose.

    ``u(p) = aU + bU p + cU p^2 + dU p^3``, ``v(p)`` alike, with ``p`` in ``[0, 1]`` (``normalized``)
    or ``[0, length]`` (``arcLength``). The true arc length of the curve is tabulated by
    Gauss-Legendre quadrature and inverted, so ``ds`` is real arc length; if the curve's own
    length differs from the declared one, ``ds`` is scaled so the curve still ends at ``p_max``.
    ``poly3`` (``v = a + b u + c u^2 + d u^3``) is the special case ``u(p) = p``.
    """

    coef_u: tuple[float, float, float, float] = (0.0, 1.0, 0.0, 0.0)
    coef_v: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    p_max: float = 1.0
    p_limit: float = 0.0

    def _uv(self, p: F64, deriv: int) -> tuple[F64, F64]:
        out = []
        for a, b, c, d in (self.coef_u, self.coef_v):
            if deriv == 0:
                out.append(a + p * (b + p * (c + p * d)))
            elif deriv == 1:
                out.append(b + p * (2 * c + 3 * d * p))
            else:
                out.append(2 * c + 6 * d * p)
        return out[0], out[1]

    def _speed(self, p: F64) -> F64:
        du, dv = self._uv(p, 1)
        return np.hypot(du, dv)

    def _table(self) -> tuple[F64, F64]:
        cache = self.__dict__.get("_table_cache")
        if cache is None:
            n = max(16, math.ceil(self.length / _TABLE_SPACING_M))
            cache = _quad_cumulative(self._speed, self.p_max, n)
            object.__setattr__(self, "_table_cache", cache)
        return cache

    def curve_length(self) -> float:
        """True arc length (m) of the curve over ``[0, p_max]``."""
        return float(self._table()[1][-1])

    def param_at(self, ds: F64) -> F64:
        """Curve parameter ``p`` at local arc length ``ds`` (m)."""
        p_tab, s_tab = self._table()
        scale = s_tab[-1] / self.length if self.length > 0 else 1.0
        return np.interp(np.asarray(ds, float) * scale, s_tab, p_tab)

    def evaluate(self, ds: F64) -> tuple[F64, F64, F64]:
        p = self.param_at(ds)
        u, v = self._uv(p, 0)
        du, dv = self._uv(p, 1)
        ch, sh = math.cos(self.hdg), math.sin(self.hdg)
        return self.x + u * ch - v * sh, self.y + u * sh + v * ch, self.hdg + np.arctan2(dv, du)

    def curvature(self, ds: F64) -> F64:
        p = self.param_at(ds)
        du, dv = self._uv(p, 1)
        ddu, ddv = self._uv(p, 2)
        return (du * ddv - dv * ddu) / np.maximum(np.hypot(du, dv) ** 3, 1e-300)


def poly3(
    s: float, x: float, y: float, hdg: float, length: float, a: float, b: float, c: float, d: float
) -> ParamPoly3:
    """A ``poly3`` geometry ``v(u) = a + b u + c u^2 + d u^3`` as a ParamPoly3 with ``u = p``.

    ``u`` runs from 0 to the value where the curve's arc length reaches ``length``, found by
    bisection on the tabulated arc length (``u <= length`` always).
    """
    lo, hi = 0.0, length
    probe = ParamPoly3(s, x, y, hdg, length, (0.0, 1.0, 0.0, 0.0), (a, b, c, d), length)
    total = probe.curve_length()
    if total > length:
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            trial = ParamPoly3(s, x, y, hdg, length, (0.0, 1.0, 0.0, 0.0), (a, b, c, d), mid)
            if trial.curve_length() > length:
                hi = mid
            else:
                lo = mid
            if hi - lo < 1e-9:
                break
        u_max = 0.5 * (lo + hi)
    else:
        u_max = length
    return ParamPoly3(s, x, y, hdg, length, (0.0, 1.0, 0.0, 0.0), (a, b, c, d), u_max)


@dataclass(frozen=True)
class Cubic:
    """Piecewise cubic ``f(s) = a + b ds + c ds^2 + d ds^3`` with ``ds = s - s_i`` from the last start ``s_i <= s``.

    Used for elevation, lane offset and lane width/border (with ``s`` local to the lane section).
    An empty record list is the zero function.

    Attributes:
        starts: (n,) sorted start positions (m). coefs: (n, 4) a, b, c, d.
    """

    starts: F64
    coefs: F64

    @staticmethod
    def zero() -> Cubic:
        """The zero function."""
        return Cubic(np.zeros(1), np.zeros((1, 4)))

    def __call__(self, s: F64, upper: float | None = None) -> F64:
        """Value at ``s``.

        With ``upper`` (m), records starting at or after ``upper`` are not used: the value at the
        end of an interval ``[.., upper]`` is the left limit there, not the next record's start
        value (lane-section ends where a new record begins exactly at the boundary).
        """
        s = np.asarray(s, float)
        if self.starts.size == 0:
            return np.zeros(s.shape)
        if self.starts.size == 1:  # one record (most lanes): no search
            a, b, c, d = self.coefs[0]
            ds = s - self.starts[0]
            return a + ds * (b + ds * (c + ds * d))
        last = self.starts.size - 1
        if upper is not None:
            last = max(int(np.searchsorted(self.starts, upper - RECORD_TOL_M, side="left")) - 1, 0)
        i = np.minimum(np.maximum(np.searchsorted(self.starts, s + RECORD_TOL_M, side="right") - 1, 0), last)
        ds = s - self.starts[i]
        a, b, c, d = self.coefs[i, 0], self.coefs[i, 1], self.coefs[i, 2], self.coefs[i, 3]
        return a + ds * (b + ds * (c + ds * d))


@dataclass(frozen=True)
class ReferenceLine:
    """A road's planView: geometries sorted by start s.

    Attributes:
        geometries: the records, contiguous in s.
        starts: (n,) their start s (m).
    """

    geometries: tuple[Geometry, ...]
    starts: F64

    @staticmethod
    def of(geometries: list[Geometry]) -> ReferenceLine:
        """Build from records sorted by s."""
        return ReferenceLine(tuple(geometries), np.array([g.s for g in geometries], dtype=np.float64))

    @property
    def length(self) -> float:
        """Total length (m)."""
        last = self.geometries[-1]
        return last.s + last.length

    def evaluate(self, s: F64) -> tuple[F64, F64, F64]:
        """(x, y, heading) at road s (m); s past the end extrapolates the last geometry's formula."""
        s = np.asarray(s, float)
        x = np.empty(s.shape)
        y = np.empty(s.shape)
        h = np.empty(s.shape)
        idx = np.minimum(np.maximum(np.searchsorted(self.starts, s, side="right") - 1, 0), len(self.geometries) - 1)
        for gi in np.unique(idx):
            g = self.geometries[gi]
            m = idx == gi
            ds = np.minimum(np.maximum(s[m] - g.s, 0.0), g.length)
            x[m], y[m], h[m] = g.evaluate(ds)
        return x, y, h
