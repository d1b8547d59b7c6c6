"""3-D ray casting against the sensor scene (Numba): actor boxes, extruded prisms, ground heightfield.

A ray is ``o + t d`` with ``d`` a unit vector (ENU world frame, m); ``t`` is the range (m). Every
routine returns the first boundary crossing with ``t > tmin`` (``inf`` if none before ``tmax``).

Broad phase, built once per scan around a reference origin (all rays of a scan start within
``pad`` m of it): actors are binned by the azimuth interval their padded bounding circle covers,
each bin sorted by a lower bound of the range to the actor, so a ray tests only the actors of its
azimuth bin and stops once the bound passes its nearest hit. Static prisms are found by walking
the uniform grid cells along the ray (Amanatides-Woo) until the cell entry passes the nearest hit.
Bins are uniform in the "diamond angle" (a monotone, division-only stand-in for atan2 in [0, 4)).

Moving actors (motion distortion): ray ``k`` fires at time ``ray_t[k]`` (s, relative to the box
snapshot), and a box moves with its velocity, so the ray is tested against the snapshot box from
the origin ``o - v ray_t`` (exact for translation).
"""

from __future__ import annotations

import math

import numpy as np

from simcore._jit import kernel

#: Azimuth bins of the actor broad phase.
N_BINS = 512
_INF = np.inf
#: Semantic classes used here (must match ``scene.SemanticClass``).
_GROUND = 4


@kernel
def diamond_angle(dx: float, dy: float) -> float:
    """Monotone stand-in for the azimuth of (dx, dy): 0..4 as the angle goes 0..2 pi (0 at +x, CCW)."""
    if dy >= 0.0:
        if dx >= 0.0:
            s = dx + dy
            return dy / s if s > 0.0 else 0.0
        return 1.0 - dx / (dy - dx)
    if dx < 0.0:
        return 2.0 - dy / (-dx - dy)
    return 3.0 + dx / (dx - dy)


# ------------------------------------------------------------------------------------- narrow phase


@kernel
def ray_box(ox, oy, oz, dx, dy, dz, cx, cy, cz, yaw, hl, hw, hh, tmin, tmax):
    """Ray vs oriented box (centre, yaw about z, half extents; slab test in the box frame).

    Returns (t, nx, ny, nz): the first boundary crossing in (tmin, tmax] and the outward world
    normal of the face hit; t = inf if none.
    """
    return ray_box_cs(ox, oy, oz, dx, dy, dz, cx, cy, cz, math.cos(yaw), math.sin(yaw), hl, hw, hh, tmin, tmax)


@kernel
def ray_box_cs(ox, oy, oz, dx, dy, dz, cx, cy, cz, c, s, hl, hw, hh, tmin, tmax):
    """``ray_box`` with the yaw given as its cosine ``c`` and sine ``s``."""
    rx = ox - cx
    ry = oy - cy
    lo0 = c * rx + s * ry
    lo1 = -s * rx + c * ry
    lo2 = oz - cz
    ld0 = c * dx + s * dy
    ld1 = -s * dx + c * dy
    ld2 = dz
    tn = -_INF
    tf = _INF
    an = -1
    af = -1
    sn = 0.0
    sf = 0.0
    for axis in range(3):
        if axis == 0:
            lo, ld, h = lo0, ld0, hl
        elif axis == 1:
            lo, ld, h = lo1, ld1, hw
        else:
            lo, ld, h = lo2, ld2, hh
        if ld == 0.0:
            if lo < -h or lo > h:
                return _INF, 0.0, 0.0, 0.0
            continue
        inv = 1.0 / ld
        t1 = (-h - lo) * inv
        t2 = (h - lo) * inv
        # entering face: -h side if ld > 0 else +h side
        sgn = -1.0 if ld > 0.0 else 1.0
        if t1 > t2:
            t1, t2 = t2, t1
        if t1 > tn:
            tn = t1
            an = axis
            sn = sgn
        if t2 < tf:
            tf = t2
            af = axis
            sf = -sgn
    if tn > tf:
        return _INF, 0.0, 0.0, 0.0
    if tn > tmin:
        t, a, sg = tn, an, sn
    elif tf > tmin:
        t, a, sg = tf, af, sf
    else:
        return _INF, 0.0, 0.0, 0.0
    if t > tmax:
        return _INF, 0.0, 0.0, 0.0
    if a == 0:
        return t, sg * c, sg * s, 0.0
    if a == 1:
        return t, -sg * s, sg * c, 0.0
    return t, 0.0, 0.0, sg


@kernel
def bin_span(bin_start, dx, dy):
    """(first, end) item positions of the azimuth bin of the direction (dx, dy) in bins of the diamond
    angle (``bin_start``: (nb + 1,) offsets, as built by ``build_actor_bins``); bin 0 for (0, 0)."""
    nb = bin_start.size - 1
    k = 0
    if dx != 0.0 or dy != 0.0:
        k = int(diamond_angle(dx, dy) * (nb / 4.0))
        if k >= nb:
            k = nb - 1
    return bin_start[k], bin_start[k + 1]


@kernel
def grid_step(o, d, g0, i, cell):
    """Amanatides-Woo set-up along one axis for a ray ``o + t d`` in cell ``i`` of a grid from ``g0``
    with square cells of ``cell`` m: (step -1/0/+1, t of the next cell boundary, t per cell)."""
    if d > 0.0:
        return 1, (g0 + (i + 1) * cell - o) / d, cell / d
    if d < 0.0:
        return -1, (g0 + i * cell - o) / d, -cell / d
    return 0, _INF, _INF


@kernel
def slab_clip(o, d, lo, hi, s0, s1):
    """Clip the parameter interval [s0, s1] of the line ``o + s d`` (one axis) to the slab
    ``lo <= o + s d <= hi``. Returns (s0, s1, inside): with ``d == 0`` the interval is unchanged and
    ``inside`` is False only where ``o`` lies outside [lo, hi]; the clipped interval is empty where s0 > s1."""
    if d == 0.0:
        return s0, s1, not (o < lo or o > hi)
    u0 = (lo - o) / d
    u1 = (hi - o) / d
    if u0 > u1:
        u0, u1 = u1, u0
    return max(s0, u0), min(s1, u1), True


@kernel
def column_pose(p0, r0, vel, yaw_rate, tau):
    """Sensor pose ``tau`` s after the sweep start, extrapolated from the start pose (``p0`` (3,) m,
    ``r0`` 3x3 sensor -> world) with the velocity ``vel`` (3,) m/s and the yaw rate (rad/s) about the
    world z axis. Returns (ox, oy, oz, r00, r01, r02, r10, r11, r12): the position and the first two
    rows of the rotation (the third row stays that of ``r0``)."""
    ox = p0[0] + vel[0] * tau
    oy = p0[1] + vel[1] * tau
    oz = p0[2] + vel[2] * tau
    cw = math.cos(yaw_rate * tau)
    sw = math.sin(yaw_rate * tau)
    r00 = cw * r0[0, 0] - sw * r0[1, 0]
    r01 = cw * r0[0, 1] - sw * r0[1, 1]
    r02 = cw * r0[0, 2] - sw * r0[1, 2]
    r10 = sw * r0[0, 0] + cw * r0[1, 0]
    r11 = sw * r0[0, 1] + cw * r0[1, 1]
    r12 = sw * r0[0, 2] + cw * r0[1, 2]
    return ox, oy, oz, r00, r01, r02, r10, r11, r12


@kernel
def point_in_polygon(px, py, xs, ys, a, b):
    """Crossing-number test of (px, py) against the polygon of vertices ``a:b`` of xs, ys."""
    inside = False
    j = b - 1
    for i in range(a, b):
        yi = ys[i]
        yj = ys[j]
        if (yi > py) != (yj > py):
            xc = xs[i] + (py - yi) * (xs[j] - xs[i]) / (yj - yi)
            if px < xc:
                inside = not inside
        j = i
    return inside


@kernel
def ray_prism(ox, oy, oz, dx, dy, dz, xs, ys, a, b, zmin, zmax, tmin, tmax):
    """Ray vs extruded polygon (vertices ``a:b`` counter-clockwise, z from zmin to zmax).

    Side walls: the ray's xy projection against each edge, with the hit's z inside [zmin, zmax];
    caps: the planes z = zmax and z = zmin with a point-in-polygon test. Returns (t, nx, ny, nz).
    """
    best = tmax
    hit = False
    bnx = 0.0
    bny = 0.0
    bnz = 0.0
    j = b - 1
    for i in range(a, b):
        ax = xs[j]
        ay = ys[j]
        ex = xs[i] - ax
        ey = ys[i] - ay
        den = dx * ey - dy * ex
        if den != 0.0:
            qx = ax - ox
            qy = ay - oy
            t = (qx * ey - qy * ex) / den
            u = (qx * dy - qy * dx) / den
            if u >= 0.0 and u <= 1.0 and t > tmin and t <= best:
                z = oz + t * dz
                if z >= zmin and z <= zmax:
                    best = t
                    hit = True
                    ln = math.sqrt(ex * ex + ey * ey)
                    bnx = ey / ln
                    bny = -ex / ln
                    bnz = 0.0
        j = i
    if dz != 0.0:
        for k in range(2):
            zc = zmax if k == 0 else zmin
            t = (zc - oz) / dz
            if t > tmin and t <= best and point_in_polygon(ox + t * dx, oy + t * dy, xs, ys, a, b):
                best = t
                hit = True
                bnx = 0.0
                bny = 0.0
                bnz = 1.0 if k == 0 else -1.0
    if not hit:
        return _INF, 0.0, 0.0, 0.0
    return best, bnx, bny, bnz


@kernel
def ground_height(x, y, gx0, gy0, gcell, gnx, gny, gz):
    """Bilinear ground height (m) at (x, y), clamped to the grid's edge values."""
    fx = (x - gx0) / gcell
    fy = (y - gy0) / gcell
    fx = min(max(fx, 0.0), gnx - 1.0)
    fy = min(max(fy, 0.0), gny - 1.0)
    ix = min(int(fx), max(gnx - 2, 0))
    iy = min(int(fy), max(gny - 2, 0))
    tx = fx - ix
    ty = fy - iy
    ix1 = min(ix + 1, gnx - 1)
    iy1 = min(iy + 1, gny - 1)
    z0 = gz[iy, ix] * (1.0 - tx) + gz[iy, ix1] * tx
    z1 = gz[iy1, ix] * (1.0 - tx) + gz[iy1, ix1] * tx
    return z0 * (1.0 - ty) + z1 * ty


@kernel
def ground_class_at(x, y, gx0, gy0, gcell, gnx, gny, gcls):
    """Class of the ground node nearest to (x, y); GROUND outside the grid."""
    ix = math.floor((x - gx0) / gcell + 0.5)
    iy = math.floor((y - gy0) / gcell + 0.5)
    if ix < 0 or iy < 0 or ix >= gnx or iy >= gny:
        return _GROUND
    return gcls[iy, ix]


@kernel
def ray_ground(ox, oy, oz, dx, dy, dz, tmin, tmax, gx0, gy0, gcell, gnx, gny, gz, gflat, gzmax):
    """Ray vs ground heightfield. Flat ground: the plane hit in closed form. Otherwise march in steps
    of half a cell from where the ray first dips below the highest node, then bisect the crossing
    (to 1e-10 m). Returns (t, nx, ny, nz) with the upward surface normal."""
    if gflat:
        if dz == 0.0:
            return _INF, 0.0, 0.0, 0.0
        t = (gz[0, 0] - oz) / dz
        if t > tmin and t <= tmax:
            return t, 0.0, 0.0, 1.0
        return _INF, 0.0, 0.0, 0.0
    t0 = tmin
    if oz + t0 * dz > gzmax:
        if dz >= 0.0:
            return _INF, 0.0, 0.0, 0.0
        t0 = (gzmax - oz) / dz
    if t0 > tmax:
        return _INF, 0.0, 0.0, 0.0
    step = 0.5 * gcell
    h0 = oz + t0 * dz - ground_height(ox + t0 * dx, oy + t0 * dy, gx0, gy0, gcell, gnx, gny, gz)
    if h0 <= 0.0 and t0 > tmin:
        t1 = t0
    elif h0 < 0.0:
        return _INF, 0.0, 0.0, 0.0  # starts below the ground: no surface crossing from above
    else:
        t1 = -1.0
        ta = t0
        while ta < tmax:
            tb = min(ta + step, tmax)
            hb = oz + tb * dz - ground_height(ox + tb * dx, oy + tb * dy, gx0, gy0, gcell, gnx, gny, gz)
            if hb <= 0.0:
                lo = ta
                hi = tb
                for _ in range(64):
                    if hi - lo <= 1e-10:
                        break
                    mid = 0.5 * (lo + hi)
                    hm = oz + mid * dz - ground_height(ox + mid * dx, oy + mid * dy, gx0, gy0, gcell, gnx, gny, gz)
                    if hm <= 0.0:
                        hi = mid
                    else:
                        lo = mid
                t1 = hi
                break
            if dz >= 0.0 and oz + tb * dz > gzmax:
                break
            ta = tb
        if t1 < 0.0:
            return _INF, 0.0, 0.0, 0.0
    px = ox + t1 * dx
    py = oy + t1 * dy
    e = 0.25 * gcell
    gxp = ground_height(px + e, py, gx0, gy0, gcell, gnx, gny, gz)
    gxm = ground_height(px - e, py, gx0, gy0, gcell, gnx, gny, gz)
    gyp = ground_height(px, py + e, gx0, gy0, gcell, gnx, gny, gz)
    gym = ground_height(px, py - e, gx0, gy0, gcell, gnx, gny, gz)
    sx = (gxp - gxm) / (2.0 * e)
    sy = (gyp - gym) / (2.0 * e)
    ln = math.sqrt(sx * sx + sy * sy + 1.0)
    return t1, -sx / ln, -sy / ln, 1.0 / ln


# ------------------------------------------------------------------------------------- broad phase


@kernel
def build_circle_bins(refx, refy, pad, dmax, cx, cy, radius, vpad, active, bin_start, bin_items, bin_near):
    """Bin circles (centre, ``radius`` + ``pad`` + ``vpad[i]``, m) by the azimuth interval they cover
    seen from (refx, refy); inactive ones and those out of reach (lower bound of the range > ``dmax``)
    are left out. Fills CSR ``bin_start`` (n_bins+1) /
    ``bin_items`` sorted within each bin by ``bin_near`` (a lower bound on the distance from any ray
    origin within ``pad`` of the reference to the circle, less ``vpad``). Returns the number of items;
    if it exceeds ``bin_items.size`` nothing is written and the caller must grow the arrays."""
    nb = bin_start.size - 1
    n = cx.size
    counts = np.zeros(nb, dtype=np.int64)
    lo = np.empty(n, dtype=np.int64)
    hi = np.empty(n, dtype=np.int64)
    near = np.empty(n)
    scale = nb / 4.0
    for i in range(n):
        lo[i] = -1
        if not active[i]:
            continue
        r = radius[i] + pad + vpad[i]
        ex = cx[i] - refx
        ey = cy[i] - refy
        d = math.sqrt(ex * ex + ey * ey)
        if d <= r * 1.0000001 + 1e-9:
            lo[i] = 0
            hi[i] = nb - 1
            near[i] = 0.0
        else:
            half = math.asin(r / d) * 1.0000001 + 1e-9
            az = math.atan2(ey, ex)
            a0 = diamond_angle(math.cos(az - half), math.sin(az - half))
            a1 = diamond_angle(math.cos(az + half), math.sin(az + half))
            b0 = min(int(a0 * scale), nb - 1)
            b1 = min(int(a1 * scale), nb - 1)
            lo[i] = b0
            hi[i] = b1 if b1 >= b0 else b1 + nb  # wraps through angle 0
            near[i] = max(d - r - vpad[i], 0.0)
            if near[i] > dmax:
                lo[i] = -1
                continue
        for k in range(lo[i], hi[i] + 1):
            counts[k % nb] += 1
    bin_start[0] = 0
    for k in range(nb):
        bin_start[k + 1] = bin_start[k] + counts[k]
    total = bin_start[nb]
    if total > bin_items.size:
        return total
    fill = bin_start[:nb].copy()
    for i in range(n):
        if lo[i] < 0:
            continue
        for k in range(lo[i], hi[i] + 1):
            kb = k % nb
            p = fill[kb]
            q = p  # insertion sort by the near bound within the bin
            while q > bin_start[kb] and bin_near[q - 1] > near[i]:
                bin_items[q] = bin_items[q - 1]
                bin_near[q] = bin_near[q - 1]
                q -= 1
            bin_items[q] = i
            bin_near[q] = near[i]
            fill[kb] = p + 1
    return total


@kernel
def build_actor_bins(refx, refy, pad, tpad, dmax, skip, cx, cy, hl, hw, vx, vy, active, bin_start, bin_items, bin_near):
    """``build_circle_bins`` for actor boxes: bounding circles of radius hypot(hl, hw), padded by
    ``|v| tpad`` (motion over the largest ray time offset), row ``skip`` left out."""
    n = cx.size
    radius = np.empty(n)
    vpad = np.empty(n)
    act = np.empty(n, dtype=np.bool_)
    for i in range(n):
        radius[i] = math.sqrt(hl[i] * hl[i] + hw[i] * hw[i])
        vpad[i] = math.sqrt(vx[i] * vx[i] + vy[i] * vy[i]) * tpad
        act[i] = active[i] and i != skip
    return build_circle_bins(refx, refy, pad, dmax, cx, cy, radius, vpad, act, bin_start, bin_items, bin_near)


@kernel
def build_prism_bins(refx, refy, pad, dmax, pstart, pxs, pys, bin_start, bin_items, bin_near):
    """``build_circle_bins`` for the prisms: circles around their footprints' bounding boxes."""
    n = pstart.size - 1
    cx = np.empty(n)
    cy = np.empty(n)
    radius = np.empty(n)
    for p in range(n):
        a = pstart[p]
        b = pstart[p + 1]
        x0 = pxs[a:b].min()
        x1 = pxs[a:b].max()
        y0 = pys[a:b].min()
        y1 = pys[a:b].max()
        cx[p] = 0.5 * (x0 + x1)
        cy[p] = 0.5 * (y0 + y1)
        radius[p] = 0.5 * math.sqrt((x1 - x0) ** 2 + (y1 - y0) ** 2)
    return build_circle_bins(
        refx, refy, pad, dmax, cx, cy, radius, np.zeros(n), np.ones(n, dtype=np.bool_), bin_start, bin_items, bin_near
    )


@kernel
def trace(
    mode, origins, dirs, ray_t, elev, azim, col_time, p0, r0, vel, yaw_rate, distort, tmin, tmax,
    bin_start, bin_items, bin_near,
    cx, cy, cz, yaw, hl, hw, hh, vx, vy, bcls,
    pstart, pxs, pys, pzmin, pzmax, pcls, gx0, gy0, gcell, gnx, gny, gstart, gitems,
    ggx0, ggy0, ggcell, ggnx, ggny, ggz, ggcls, ggflat,
    out_range, out_class, out_id, out_cos,
):  # fmt: skip
    """First hit of every ray in (tmin, tmax]: writes the range (inf on a miss), class (0 on a miss),
    actor row (-1 if not an actor) and cosine of the incidence angle.

    ``mode`` 0: explicit rays ``origins[k] + t dirs[k]`` ((n, 3), unit dirs) fired at ``ray_t[k]`` s
    (``elev`` .. ``distort`` unused). ``mode`` 1: a lidar sweep, ray ``k = j * n_channels + c`` of
    elevation ``elev[c]`` and azimuth ``azim[j]`` in the sensor frame, from the pose ``p0`` (3,),
    ``r0`` (3, 3 sensor -> world) at the sweep start; with ``distort`` column ``j`` fires at
    ``col_time[j]`` from the pose extrapolated with ``vel`` (3,) and ``yaw_rate`` (``origins``,
    ``dirs``, ``ray_t`` unused). Actor bins must be built for the same rays (``build_actor_bins``).
    """
    npr = pstart.size - 1
    mailbox = np.full(npr, -1, dtype=np.int64)
    ggzmax = ggz.max()
    # per-prism bounding boxes and per-cell height ranges for cheap rejects
    bx0 = np.empty(npr)
    bx1 = np.empty(npr)
    by0 = np.empty(npr)
    by1 = np.empty(npr)
    pz_top = -_INF
    for p in range(npr):
        a = pstart[p]
        b = pstart[p + 1]
        bx0[p] = pxs[a:b].min()
        bx1[p] = pxs[a:b].max()
        by0[p] = pys[a:b].min()
        by1[p] = pys[a:b].max()
        pz_top = max(pz_top, pzmax[p])
    ncell = gstart.size - 1
    czmin = np.full(ncell, _INF)
    czmax = np.full(ncell, -_INF)
    for cell in range(ncell):
        for q in range(gstart[cell], gstart[cell + 1]):
            czmin[cell] = min(czmin[cell], pzmin[gitems[q]])
            czmax[cell] = max(czmax[cell], pzmax[gitems[q]])
    bcos = np.cos(yaw)
    bsin = np.sin(yaw)
    nb = bin_start.size - 1
    has_actors = bin_start[nb] > 0
    has_prisms = pstart.size > 1
    gx1 = gx0 + gnx * gcell
    gy1 = gy0 + gny * gcell
    if mode == 0:
        nray = origins.shape[0]
        nch = 1
    else:
        nch = elev.size
        nray = nch * azim.size
    ce = np.empty(nch)
    se = np.empty(nch)
    if mode == 1:
        for c in range(nch):
            ce[c] = math.cos(elev[c])
            se[c] = math.sin(elev[c])
    ox = oy = oz = 0.0
    r00 = r01 = r02 = r10 = r11 = r12 = r20 = r21 = r22 = 0.0
    ca = sa = 0.0
    rt = 0.0
    for k in range(nray):
        # ---- ray generation
        if mode == 0:
            ox = origins[k, 0]
            oy = origins[k, 1]
            oz = origins[k, 2]
            dx = dirs[k, 0]
            dy = dirs[k, 1]
            dz = dirs[k, 2]
            rt = ray_t[k]
        else:
            c = k % nch
            if c == 0:
                j = k // nch
                ca = math.cos(azim[j])
                sa = math.sin(azim[j])
                if distort:
                    rt = col_time[j]
                    ox, oy, oz, r00, r01, r02, r10, r11, r12 = column_pose(p0, r0, vel, yaw_rate, rt)
                    r20, r21, r22 = r0[2, 0], r0[2, 1], r0[2, 2]
                elif k == 0:
                    ox, oy, oz = p0[0], p0[1], p0[2]
                    r00, r01, r02 = r0[0, 0], r0[0, 1], r0[0, 2]
                    r10, r11, r12 = r0[1, 0], r0[1, 1], r0[1, 2]
                    r20, r21, r22 = r0[2, 0], r0[2, 1], r0[2, 2]
            lx = ce[c] * ca
            ly = ce[c] * sa
            lz = se[c]
            dx = r00 * lx + r01 * ly + r02 * lz
            dy = r10 * lx + r11 * ly + r12 * lz
            dz = r20 * lx + r21 * ly + r22 * lz
        best = tmax
        hcls = 0
        hid = -1
        hcos = 0.0
        found = False
        # ---- ground
        t, nx, ny, nz = ray_ground(
            ox, oy, oz, dx, dy, dz, tmin, best, ggx0, ggy0, ggcell, ggnx, ggny, ggz, ggflat, ggzmax
        )
        if t <= best and t < _INF:
            best = t
            found = True
            hcls = -1  # class looked up at the end (only if the ground stays the nearest hit)
            hcos = -(nx * dx + ny * dy + nz * dz)
        # ---- actors in the ray's azimuth bin, nearest bound first
        if has_actors:
            q0, q1 = bin_span(bin_start, dx, dy)
            for q in range(q0, q1):
                if bin_near[q] > best:
                    break
                i = bin_items[q]
                t, nx, ny, nz = ray_box_cs(
                    ox - vx[i] * rt, oy - vy[i] * rt, oz, dx, dy, dz, cx[i], cy[i], cz[i], bcos[i], bsin[i], hl[i],
                    hw[i], hh[i], tmin, best,
                )  # fmt: skip
                if t <= best and t < _INF:
                    best = t
                    found = True
                    hcls = bcls[i]
                    hid = i
                    hcos = -(nx * dx + ny * dy + nz * dz)
        # ---- static prisms along the grid cells of the ray (Amanatides-Woo)
        if has_prisms:
            ta = tmin if tmin > 0.0 else 0.0
            tb = best
            if dz > 0.0:  # rising ray: nothing to hit above the tallest prism
                tb = min(tb, (pz_top - oz) / dz)
            elif dz < 0.0:
                ta = max(ta, (pz_top - oz) / dz)
            # the grid's cells are half-open: a ray along a grid's far edge misses the grid
            ta, tb, inside = slab_clip(ox, dx, gx0, gx1, ta, tb)
            if not inside or (dx == 0.0 and ox == gx1):
                tb = -1.0
            ta, tb, inside = slab_clip(oy, dy, gy0, gy1, ta, tb)
            if not inside or (dy == 0.0 and oy == gy1):
                tb = -1.0
            if ta <= tb:
                px = ox + ta * dx
                py = oy + ta * dy
                ix = min(max(math.floor((px - gx0) / gcell), 0), gnx - 1)
                iy = min(max(math.floor((py - gy0) / gcell), 0), gny - 1)
                stx, tmx, tdx = grid_step(ox, dx, gx0, ix, gcell)
                sty, tmy, tdy = grid_step(oy, dy, gy0, iy, gcell)
                tin = ta
                while True:
                    cell = iy * gnx + ix
                    tout = min(min(tmx, tmy), best)
                    za = oz + tin * dz
                    zb = oz + tout * dz
                    if za > zb:
                        za, zb = zb, za
                    if zb < czmin[cell] or za > czmax[cell]:
                        q0 = q1 = 0  # the ray passes above or below every prism of the cell
                    else:
                        q0 = gstart[cell]
                        q1 = gstart[cell + 1]
                    for q in range(q0, q1):
                        p = gitems[q]
                        if mailbox[p] == k:
                            continue
                        mailbox[p] = k
                        # bounding-box slab reject over (tmin, best]
                        s0, s1, inside = slab_clip(ox, dx, bx0[p], bx1[p], tmin, best)
                        if not inside:
                            continue
                        s0, s1, inside = slab_clip(oy, dy, by0[p], by1[p], s0, s1)
                        if not inside or s0 > s1:
                            continue
                        s0, s1, inside = slab_clip(oz, dz, pzmin[p], pzmax[p], s0, s1)
                        if not inside or s0 > s1:
                            continue
                        t, nx, ny, nz = ray_prism(
                            ox, oy, oz, dx, dy, dz, pxs, pys, pstart[p], pstart[p + 1], pzmin[p], pzmax[p], tmin, best
                        )
                        if t <= best and t < _INF:
                            best = t
                            found = True
                            hcls = pcls[p]
                            hid = -1
                            hcos = -(nx * dx + ny * dy + nz * dz)
                    texit = min(tmx, tmy)
                    if texit >= best or texit >= tb:
                        break
                    tin = texit
                    if tmx < tmy:
                        ix += stx
                        tmx += tdx
                        if ix < 0 or ix >= gnx:
                            break
                    else:
                        iy += sty
                        tmy += tdy
                        if iy < 0 or iy >= gny:
                            break
        if not found:
            out_range[k] = _INF
            out_class[k] = 0
            out_id[k] = -1
            out_cos[k] = 0.0
            continue
        if hcls < 0:
            hcls = ground_class_at(ox + best * dx, oy + best * dy, ggx0, ggy0, ggcell, ggnx, ggny, ggcls)
        out_range[k] = best
        out_class[k] = hcls
        out_id[k] = hid
        out_cos[k] = hcos
