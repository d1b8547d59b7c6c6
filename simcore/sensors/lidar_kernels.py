"""Lidar return model (Numba): turn the first hits of a sweep into kept, noisy returns.

Sensor frame: x forward, y left, z up; a ray of elevation e and azimuth a points along
(cos e cos a, cos e sin a, sin e). Ray ``k = j * n_channels + c`` is channel c of column j,
which fires at ``col_time[j]`` (s after the sweep start).
"""

from __future__ import annotations

import math

import numpy as np

from simcore._jit import kernel
from simcore.sensors.raycast_kernels import bin_span, column_pose, ground_class_at, ray_ground

_INF = np.inf


@kernel
def lidar_returns(
    elev, azim, col_time, hit_range, hit_class, hit_id, hit_cos,
    rmin, rmax, alpha, ref_refl, refl_table, sigma, noise, drop_p, uni,
    o_x, o_y, o_z, o_range, o_int, o_cls, o_id, o_ch, o_az, o_el, o_t, o_echo,
):  # fmt: skip
    """Keep a hit if ``rmin <= range <= rmax``, if (``ref_refl`` > 0) its intensity
    ``refl(class) |cos| exp(-2 alpha r)`` scaled by ``(rmax / r)^2`` reaches ``ref_refl``, and if
    ``uni[k] >= p`` with ``p = drop_p + (1 - drop_p)(1 - exp(-alpha r))`` (``uni`` empty: no dropout).
    Range noise ``sigma * noise[m]`` for the m-th kept return (``noise`` empty: none; clipped at 0).
    Writes the kept returns compactly into the ``o_*`` arrays (sensor-frame x, y, z along the ray) and
    returns their count."""
    nch = elev.size
    ncol = azim.size
    has_noise = noise.size > 0
    has_drop = uni.size > 0
    ce = np.empty(nch)
    se = np.empty(nch)
    for c in range(nch):
        ce[c] = math.cos(elev[c])
        se[c] = math.sin(elev[c])
    m = 0
    for j in range(ncol):
        ca = math.cos(azim[j])
        sa = math.sin(azim[j])
        for c in range(nch):
            k = j * nch + c
            t = hit_range[k]
            if t == _INF or t < rmin or t > rmax:
                continue
            hc = hit_class[k]
            inten = refl_table[hc] * abs(hit_cos[k])
            if alpha > 0.0:
                inten *= math.exp(-2.0 * alpha * t)
            if ref_refl > 0.0 and inten * (rmax / t) * (rmax / t) < ref_refl:
                continue
            if has_drop:
                p = drop_p
                if alpha > 0.0:
                    p = drop_p + (1.0 - drop_p) * (1.0 - math.exp(-alpha * t))
                if uni[k] < p:
                    continue
            r = t
            if has_noise:
                r = t + sigma * noise[m]
                if r < 0.0:
                    r = 0.0
            o_x[m] = r * ce[c] * ca
            o_y[m] = r * ce[c] * sa
            o_z[m] = r * se[c]
            o_range[m] = r
            o_int[m] = inten
            o_cls[m] = hc
            o_id[m] = hit_id[k]
            o_ch[m] = c
            o_az[m] = azim[j]
            o_el[m] = elev[c]
            o_t[m] = col_time[j]
            o_echo[m] = 0
            m += 1
    return m


@kernel
def lidar_columns(
    elev, azim, col_time, p0, r0, vel, yaw_rate, distort, rmax,
    abin_start, abin_items, abin_near, cx, cy, cz, yaw, hl, hw, hh, vx, vy, bcls,
    pbin_start, pbin_items, pbin_near, pstart, pxs, pys, pzmin, pzmax, pcls,
    ggx0, ggy0, ggcell, ggnx, ggny, ggz, ggcls, ggflat,
    out_range, out_class, out_id, out_cos,
):  # fmt: skip
    """First hits of a sweep from a level sensor (its z axis vertical: ``r0`` = a yaw rotation), column
    by column: every channel of a column shares one horizontal direction u, so the footprints of the
    actor boxes and prisms are cut by the 2-D ray once per column into intervals [a, b] of horizontal
    distance s, and each channel (height oz + s tan(elev)) takes the first interval whose height range
    it meets (side wall at s = a, else a cap). Same results as ``raycast_kernels.trace`` mode 1 (to
    round-off). Bins: actors and prisms binned around ``p0`` (``build_actor_bins`` /
    ``build_prism_bins``) with the same number of bins. Elevations must be within (-90, 90) deg."""
    nch = elev.size
    ncol = azim.size
    ce = np.empty(nch)
    se = np.empty(nch)
    tn = np.empty(nch)
    m_lo = np.inf
    m_hi = -np.inf
    ce_max = 0.0
    for c in range(nch):
        ce[c] = math.cos(elev[c])
        se[c] = math.sin(elev[c])
        tn[c] = se[c] / ce[c]
        m_lo = min(m_lo, tn[c])
        m_hi = max(m_hi, tn[c])
        ce_max = max(ce_max, ce[c])
    bcos = np.cos(yaw)
    bsin = np.sin(yaw)
    ggzmax = ggz.max()
    gflat_z = ggz[0, 0]
    max_edges = 4
    for p in range(pstart.size - 1):
        max_edges = max(max_edges, pstart[p + 1] - pstart[p])
    xs_s = np.empty(max_edges + 1)
    xs_c = np.empty(max_edges + 1)
    # interval capacity: one per actor of a bin plus half the edges of each prism of a bin, for the fullest bins
    cap = 0
    for k in range(abin_start.size - 1):
        cap = max(cap, abin_start[k + 1] - abin_start[k])
    pcap = 0
    for k in range(pbin_start.size - 1):
        n2 = 0
        for q in range(pbin_start[k], pbin_start[k + 1]):
            p = pbin_items[q]
            n2 += (pstart[p + 1] - pstart[p]) // 2
        pcap = max(pcap, n2)
    cap = max(cap + pcap, 1)
    iv_a = np.empty(cap)
    iv_b = np.empty(cap)
    iv_lo = np.empty(cap)
    iv_hi = np.empty(cap)
    iv_ca = np.empty(cap)
    iv_cb = np.empty(cap)
    iv_cls = np.empty(cap, dtype=np.int64)
    iv_id = np.empty(cap, dtype=np.int64)
    ox, oy, oz = p0[0], p0[1], p0[2]
    q00, q01, q10, q11 = r0[0, 0], r0[0, 1], r0[1, 0], r0[1, 1]
    for j in range(ncol):
        tau = col_time[j]
        rt = 0.0
        if distort:
            rt = tau
            ox, oy, oz, q00, q01, _, q10, q11, _ = column_pose(p0, r0, vel, yaw_rate, tau)
        ca = math.cos(azim[j])
        sa = math.sin(azim[j])
        ux = q00 * ca + q01 * sa
        uy = q10 * ca + q11 * sa
        un = math.sqrt(ux * ux + uy * uy)
        ux /= un
        uy /= un
        smax = rmax * ce_max
        niv = 0
        # ---- actor footprints (2-D slab in the box frame, origin moved back by the box's motion)
        for q in range(*bin_span(abin_start, ux, uy)):
            if abin_near[q] > smax:
                break
            i = abin_items[q]
            c = bcos[i]
            s = bsin[i]
            rx = ox - vx[i] * rt - cx[i]
            ry = oy - vy[i] * rt - cy[i]
            l0 = c * rx + s * ry
            l1 = -s * rx + c * ry
            d0 = c * ux + s * uy
            d1 = -s * ux + c * uy
            ta = -np.inf
            tb = np.inf
            cwa = 0.0
            cwb = 0.0
            miss = False
            for axis in range(2):
                lo = l0 if axis == 0 else l1
                ld = d0 if axis == 0 else d1
                h = hl[i] if axis == 0 else hw[i]
                if ld == 0.0:
                    if lo < -h or lo > h:
                        miss = True
                    continue
                t1 = (-h - lo) / ld
                t2 = (h - lo) / ld
                if t1 > t2:
                    t1, t2 = t2, t1
                if t1 > ta:
                    ta = t1
                    cwa = abs(ld)
                if t2 < tb:
                    tb = t2
                    cwb = abs(ld)
            if miss or ta > tb or tb <= 0.0 or ta > smax:
                continue
            iv_a[niv] = ta
            iv_b[niv] = tb
            iv_lo[niv] = cz[i] - hh[i]
            iv_hi[niv] = cz[i] + hh[i]
            iv_ca[niv] = cwa
            iv_cb[niv] = cwb
            iv_cls[niv] = bcls[i]
            iv_id[niv] = i
            niv += 1
        # ---- prism footprints (edge crossings along the whole 2-D line, paired in order)
        for q in range(*bin_span(pbin_start, ux, uy)):
            if pbin_near[q] > smax:
                break
            p = pbin_items[q]
            a = pstart[p]
            b = pstart[p + 1]
            ncr = 0
            jv = b - 1
            for iv in range(a, b):
                ex = pxs[iv] - pxs[jv]
                ey = pys[iv] - pys[jv]
                den = ux * ey - uy * ex
                if den != 0.0:
                    qx = pxs[jv] - ox
                    qy = pys[jv] - oy
                    u = (qx * uy - qy * ux) / den
                    if u >= 0.0 and u < 1.0:
                        sc = (qx * ey - qy * ex) / den
                        k2 = ncr  # insertion sort by s
                        while k2 > 0 and xs_s[k2 - 1] > sc:
                            xs_s[k2] = xs_s[k2 - 1]
                            xs_c[k2] = xs_c[k2 - 1]
                            k2 -= 1
                        xs_s[k2] = sc
                        xs_c[k2] = abs(ey * ux - ex * uy) / math.sqrt(ex * ex + ey * ey)
                        ncr += 1
                jv = iv
            if ncr % 2 == 1:
                ncr -= 1  # a line grazing a vertex: drop the unpaired crossing
            for h2 in range(0, ncr, 2):
                ta = xs_s[h2]
                tb = xs_s[h2 + 1]
                if tb <= 0.0 or ta > smax:
                    continue
                iv_a[niv] = ta
                iv_b[niv] = tb
                iv_lo[niv] = pzmin[p]
                iv_hi[niv] = pzmax[p]
                iv_ca[niv] = xs_c[h2]
                iv_cb[niv] = xs_c[h2 + 1]
                iv_cls[niv] = pcls[p]
                iv_id[niv] = -1
                niv += 1
                # a wall in front that spans every channel's height hides everything behind it
                if ta > 0.0 and pzmin[p] <= oz + m_lo * ta and oz + m_hi * ta <= pzmax[p]:
                    smax = min(smax, ta)
        # ---- sort the intervals by entry distance (nearly sorted already: insertion sort)
        for h2 in range(1, niv):
            k2 = h2
            while k2 > 0 and iv_a[k2 - 1] > iv_a[k2]:
                iv_a[k2 - 1], iv_a[k2] = iv_a[k2], iv_a[k2 - 1]
                iv_b[k2 - 1], iv_b[k2] = iv_b[k2], iv_b[k2 - 1]
                iv_lo[k2 - 1], iv_lo[k2] = iv_lo[k2], iv_lo[k2 - 1]
                iv_hi[k2 - 1], iv_hi[k2] = iv_hi[k2], iv_hi[k2 - 1]
                iv_ca[k2 - 1], iv_ca[k2] = iv_ca[k2], iv_ca[k2 - 1]
                iv_cb[k2 - 1], iv_cb[k2] = iv_cb[k2], iv_cb[k2 - 1]
                iv_cls[k2 - 1], iv_cls[k2] = iv_cls[k2], iv_cls[k2 - 1]
                iv_id[k2 - 1], iv_id[k2] = iv_id[k2], iv_id[k2 - 1]
                k2 -= 1
        # ---- every channel of the column
        for c in range(nch):
            k = j * nch + c
            m = tn[c]
            itn = 1.0 / m if m != 0.0 else 0.0
            best = rmax * ce[c]
            found = False
            hcls = 0
            hid = -1
            hcos = 0.0
            ground = False
            if ggflat:
                if se[c] < 0.0:
                    tg = (gflat_z - oz) / se[c]
                    if tg > 0.0 and tg * ce[c] <= best:
                        best = tg * ce[c]
                        found = True
                        ground = True
                        hcos = -se[c]
            else:
                tg, gnx_, gny_, gnz_ = ray_ground(
                    ox, oy, oz, ce[c] * ux, ce[c] * uy, se[c], 0.0, rmax, ggx0, ggy0, ggcell, ggnx, ggny, ggz, False,
                    ggzmax,
                )  # fmt: skip
                if tg < np.inf:
                    best = tg * ce[c]
                    found = True
                    ground = True
                    hcos = -(gnx_ * ce[c] * ux + gny_ * ce[c] * uy + gnz_ * se[c])
            for h2 in range(niv):
                a = iv_a[h2]
                if a > best:
                    break
                b = iv_b[h2]
                if m == 0.0:
                    if oz < iv_lo[h2] or oz > iv_hi[h2]:
                        continue
                    s0 = a
                    s1 = b
                else:
                    z1 = (iv_lo[h2] - oz) * itn
                    z2 = (iv_hi[h2] - oz) * itn
                    if z1 > z2:
                        z1, z2 = z2, z1
                    s0 = max(a, z1)
                    s1 = min(b, z2)
                    if s0 > s1:
                        continue
                if s0 > 0.0:
                    hs = s0
                    cs = iv_ca[h2] * ce[c] if s0 == a else abs(se[c])
                elif s1 > 0.0:
                    hs = s1
                    cs = iv_cb[h2] * ce[c] if s1 == b else abs(se[c])
                else:
                    continue
                if hs <= best:
                    best = hs
                    found = True
                    ground = False
                    hcls = iv_cls[h2]
                    hid = iv_id[h2]
                    hcos = cs
            if not found:
                out_range[k] = np.inf
                out_class[k] = 0
                out_id[k] = -1
                out_cos[k] = 0.0
                continue
            if ground:
                hcls = ground_class_at(ox + best * ux, oy + best * uy, ggx0, ggy0, ggcell, ggnx, ggny, ggcls)
            out_range[k] = best / ce[c]
            out_class[k] = hcls
            out_id[k] = hid
            out_cos[k] = hcos
