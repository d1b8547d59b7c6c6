"""Kernels of the 6-DOF Stewart platform: inverse and forward kinematics, actuator limiting.

Frames: base frame x forward, y left, z up, origin at the centre of the base joint circle.
A pose (x, y, z, roll, pitch, yaw) is the platform's displacement from neutral: its origin
sits at (x, y, h0 + z) and its orientation is R = Rz(yaw) Ry(pitch) Rx(roll). Leg i joins base
joint b_i to platform joint R q_i + p; its length is L_i = |p + R q_i - b_i| (m).
"""

from __future__ import annotations

import math

from simcore._jit import kernel

#: Newton stops when every leg length matches to this (m) ...
FK_TOL_M = 1e-13
#: ... or after this many iterations (then the returned status is negative).
FK_MAX_ITER = 30


@kernel
def rotation_and_partials(roll, pitch, yaw, rs):  # pragma: no cover - compiled
    """rs[0] = R = Rz(yaw) Ry(pitch) Rx(roll); rs[1..3] = dR/droll, dR/dpitch, dR/dyaw. rs: (4, 3, 3).

    Mutates: rs.
    """
    sr, cr = math.sin(roll), math.cos(roll)
    sp, cp = math.sin(pitch), math.cos(pitch)
    sy, cy = math.sin(yaw), math.cos(yaw)
    # R
    rs[0, 0, 0] = cy * cp
    rs[0, 0, 1] = cy * sp * sr - sy * cr
    rs[0, 0, 2] = cy * sp * cr + sy * sr
    rs[0, 1, 0] = sy * cp
    rs[0, 1, 1] = sy * sp * sr + cy * cr
    rs[0, 1, 2] = sy * sp * cr - cy * sr
    rs[0, 2, 0] = -sp
    rs[0, 2, 1] = cp * sr
    rs[0, 2, 2] = cp * cr
    # d/droll: only the columns that hold sr, cr change
    rs[1, 0, 0] = 0.0
    rs[1, 0, 1] = cy * sp * cr + sy * sr
    rs[1, 0, 2] = -cy * sp * sr + sy * cr
    rs[1, 1, 0] = 0.0
    rs[1, 1, 1] = sy * sp * cr - cy * sr
    rs[1, 1, 2] = -sy * sp * sr - cy * cr
    rs[1, 2, 0] = 0.0
    rs[1, 2, 1] = cp * cr
    rs[1, 2, 2] = -cp * sr
    # d/dpitch
    rs[2, 0, 0] = -cy * sp
    rs[2, 0, 1] = cy * cp * sr
    rs[2, 0, 2] = cy * cp * cr
    rs[2, 1, 0] = -sy * sp
    rs[2, 1, 1] = sy * cp * sr
    rs[2, 1, 2] = sy * cp * cr
    rs[2, 2, 0] = -cp
    rs[2, 2, 1] = -sp * sr
    rs[2, 2, 2] = -sp * cr
    # d/dyaw
    for j in range(3):
        rs[3, 0, j] = -rs[0, 1, j]
        rs[3, 1, j] = rs[0, 0, j]
        rs[3, 2, j] = 0.0


@kernel
def leg_vectors(pose, h0, base, plat, rs, legs, lengths):  # pragma: no cover - compiled
    """Leg vectors legs (6, 3) and lengths (6,) of ``pose``; rs (4, 3, 3) gets R and its partials.

    Mutates: rs, legs, lengths.
    """
    rotation_and_partials(pose[3], pose[4], pose[5], rs)
    for i in range(6):
        s = 0.0
        for r in range(3):
            v = rs[0, r, 0] * plat[i, 0] + rs[0, r, 1] * plat[i, 1] + rs[0, r, 2] * plat[i, 2] - base[i, r]
            if r == 2:
                v += h0 + pose[2]
            else:
                v += pose[r]
            legs[i, r] = v
            s += v * v
        lengths[i] = math.sqrt(s)


@kernel
def inverse_kinematics(pose, h0, base, plat, rs, legs, lengths):  # pragma: no cover - compiled
    """Leg lengths (m) of ``pose`` (6,) into ``lengths`` (6,). Mutates: rs, legs, lengths."""
    leg_vectors(pose, h0, base, plat, rs, legs, lengths)


@kernel
def solve6(a, r, out):  # pragma: no cover - compiled
    """Solve a (6, 6) x = r by Gaussian elimination with partial pivoting; returns False if singular.

    Mutates: a, r, out.
    """
    n = 6
    for col in range(n):
        piv = col
        best = abs(a[col, col])
        for row in range(col + 1, n):
            if abs(a[row, col]) > best:
                best = abs(a[row, col])
                piv = row
        if best < 1e-14:
            return False
        if piv != col:
            for j in range(n):
                a[col, j], a[piv, j] = a[piv, j], a[col, j]
            r[col], r[piv] = r[piv], r[col]
        for row in range(col + 1, n):
            f = a[row, col] / a[col, col]
            for j in range(col, n):
                a[row, j] -= f * a[col, j]
            r[row] -= f * r[col]
    for row in range(n - 1, -1, -1):
        s = r[row]
        for j in range(row + 1, n):
            s -= a[row, j] * out[j]
        out[row] = s / a[row, row]
    return True


@kernel
def forward_kinematics(target, h0, base, plat, pose, rs, legs, lengths, jac, rhs, delta):  # pragma: no cover
    """Pose whose legs have the lengths ``target`` (6,): Newton from the guess in ``pose``.

    Residual r_i(q) = L_i(q) - target_i; Jacobian dL_i/dp = l_i / L_i and
    dL_i/dangle = (l_i / L_i) . (dR/dangle q_i). Returns the iterations used (>= 0), or -1 when
    it did not converge to FK_TOL_M within FK_MAX_ITER (the pose then holds the last iterate).

    Mutates: pose, rs, legs, lengths, jac, rhs, delta.
    """
    for it in range(FK_MAX_ITER + 1):
        leg_vectors(pose, h0, base, plat, rs, legs, lengths)
        worst = 0.0
        for i in range(6):
            rhs[i] = target[i] - lengths[i]
            worst = max(worst, abs(rhs[i]))
        if worst <= FK_TOL_M:
            return it
        if it == FK_MAX_ITER:
            break
        for i in range(6):
            inv = 1.0 / lengths[i]
            for r in range(3):
                jac[i, r] = legs[i, r] * inv
            for k in range(3):
                s = 0.0
                for r in range(3):
                    s += legs[i, r] * (
                        rs[k + 1, r, 0] * plat[i, 0] + rs[k + 1, r, 1] * plat[i, 1] + rs[k + 1, r, 2] * plat[i, 2]
                    )
                jac[i, 3 + k] = s * inv
        if not solve6(jac, rhs, delta):
            return -1
        for k in range(6):
            pose[k] += delta[k]
    return -1


@kernel
def limit_legs(want, length, velocity, l_min, l_max, v_max, a_max, dt):  # pragma: no cover - compiled
    """Move each leg toward its wanted length within the actuator limits; returns the legs limited.

    Per leg: v_new = (want - L) / dt clipped to |v_new| <= v_max, |v_new - v| <= a_max dt and to the
    braking bounds L + v_new dt + v_new^2 / (2 a_max) <= l_max (and the mirror at l_min), i.e.
    v_new <= -a_max dt + sqrt((a_max dt)^2 + 2 a_max (l_max - L)). A state that meets these bounds
    can always stop inside the stroke at a_max, so every later step stays feasible:
    l_min <= L <= l_max, |v| <= v_max, |a| <= a_max hold at every step.

    Mutates: length, velocity.
    """
    n_limited = 0
    ad = a_max * dt
    for i in range(length.shape[0]):
        L = length[i]
        v = velocity[i]
        v_want = (want[i] - L) / dt
        hi = min(v_max, v + ad, -ad + math.sqrt(ad * ad + 2.0 * a_max * max(l_max - L, 0.0)))
        lo = max(-v_max, v - ad, ad - math.sqrt(ad * ad + 2.0 * a_max * max(L - l_min, 0.0)))
        if lo > hi:  # only from an infeasible start (rounding at the bound): brake as hard as allowed
            lo = hi = min(max(0.0, v - ad), v + ad)
        v_new = min(max(v_want, lo), hi)
        if v_new != v_want:
            n_limited += 1
        velocity[i] = v_new
        length[i] = min(max(L + v_new * dt, l_min), l_max)
    return n_limited
