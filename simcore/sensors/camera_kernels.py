"""Camera rasteriser kernels: triangles into a z-buffer with depth, semantic class and instance id.

Camera optical frame: x right, y down, z forward (along the optical axis). A camera-frame point
(X, Y, Z) with Z > 0 projects to continuous pixel coordinates u = fx X / Z + cx, v = fy Y / Z + cy;
pixel (row i, column j) covers [j, j+1) x [i, i+1) and is sampled at its centre (j + 0.5, i + 0.5).
Depth is Z (metres along the optical axis), interpolated perspective-correctly (1/Z is affine in
screen space). Triangles are clipped against the near plane Z = near before projection.
"""

from __future__ import annotations

import math

import numpy as np

from simcore._jit import kernel


@kernel
def _to_cam(r, c, x, y, z, out, k):  # pragma: no cover - compiled
    """Write world point (x, y, z) in camera coordinates into out[k] (r: world -> camera, c: centre)."""
    dx = x - c[0]
    dy = y - c[1]
    dz = z - c[2]
    out[k, 0] = r[0, 0] * dx + r[0, 1] * dy + r[0, 2] * dz
    out[k, 1] = r[1, 0] * dx + r[1, 1] * dy + r[1, 2] * dz
    out[k, 2] = r[2, 0] * dx + r[2, 1] * dy + r[2, 2] * dz


@kernel
def _outside(pts, n, near, far, tl, tr, tt, tb):  # pragma: no cover - compiled
    """True when all ``n`` camera-frame points lie outside one frustum plane (conservative cull).

    tl, tr, tt, tb: tangents of the left/right/top/bottom half-angles (x < -tl z is left of the image).
    """
    a = True
    b = True
    cl = True
    cr = True
    ct = True
    cb = True
    for i in range(n):
        x = pts[i, 0]
        y = pts[i, 1]
        z = pts[i, 2]
        if z >= near:
            a = False
        if z <= far:
            b = False
        if x >= -tl * z:
            cl = False
        if x <= tr * z:
            cr = False
        if y >= -tt * z:
            ct = False
        if y <= tb * z:
            cb = False
    return a or b or cl or cr or ct or cb


@kernel
def _raster_tri(p0, p1, p2, fx, fy, cx, cy, near, depth, sem, inst, cls, ident, cover, ext, buf):  # pragma: no cover
    """Clip one camera-frame triangle at Z = near, project and rasterise it.

    cover is None-like when cover.shape[0] == 0: z-buffer mode (depth/sem/inst written where nearer).
    Otherwise coverage mode: cover[i, j] = ident for every covered pixel (depth buffers untouched);
    returns the number of newly covered pixels. ext (4,) accumulates the projected extent
    (umin, umax, vmin, vmax) of the clipped triangle in both modes. buf: (6, 4) scratch.
    """
    h = depth.shape[0]
    w = depth.shape[1]
    # Sutherland-Hodgman against Z >= near: at most 4 vertices.
    px = buf[0]
    py = buf[1]
    pz = buf[2]
    nv = 0
    for e in range(3):
        if e == 0:
            a = p0
            b = p1
        elif e == 1:
            a = p1
            b = p2
        else:
            a = p2
            b = p0
        ina = a[2] >= near
        inb = b[2] >= near
        if ina:
            px[nv] = a[0]
            py[nv] = a[1]
            pz[nv] = a[2]
            nv += 1
        if ina != inb:
            t = (near - a[2]) / (b[2] - a[2])
            px[nv] = a[0] + t * (b[0] - a[0])
            py[nv] = a[1] + t * (b[1] - a[1])
            pz[nv] = near
            nv += 1
    if nv < 3:
        return 0
    su = buf[3]
    sv = buf[4]
    sw = buf[5]
    for k in range(nv):
        iz = 1.0 / pz[k]
        su[k] = fx * px[k] * iz + cx
        sv[k] = fy * py[k] * iz + cy
        sw[k] = iz
        if su[k] < ext[0]:
            ext[0] = su[k]
        if su[k] > ext[1]:
            ext[1] = su[k]
        if sv[k] < ext[2]:
            ext[2] = sv[k]
        if sv[k] > ext[3]:
            ext[3] = sv[k]
    coverage = cover.shape[0] > 0
    newly = 0
    for f in range(nv - 2):
        i0 = 0
        i1 = f + 1
        i2 = f + 2
        u0 = su[i0]
        v0 = sv[i0]
        u1 = su[i1]
        v1 = sv[i1]
        u2 = su[i2]
        v2 = sv[i2]
        area = (u1 - u0) * (v2 - v0) - (u2 - u0) * (v1 - v0)
        if area == 0.0 or not math.isfinite(area):
            continue
        inv_area = 1.0 / area
        umin = min(u0, min(u1, u2))
        umax = max(u0, max(u1, u2))
        vmin = min(v0, min(v1, v2))
        vmax = max(v0, max(v1, v2))
        # pixel centres j + 0.5 within [umin, umax]
        j0 = max(math.ceil(umin - 0.5), 0)
        j1 = min(math.floor(umax - 0.5), w - 1)
        r0 = max(math.ceil(vmin - 0.5), 0)
        r1 = min(math.floor(vmax - 0.5), h - 1)
        if j0 > j1 or r0 > r1:
            continue
        w0 = sw[i0]
        w1 = sw[i1]
        w2 = sw[i2]
        for i in range(r0, r1 + 1):
            pv = i + 0.5
            for j in range(j0, j1 + 1):
                pu = j + 0.5
                # barycentric weights from edge functions, normalised by the signed area
                l0 = ((u1 - pu) * (v2 - pv) - (u2 - pu) * (v1 - pv)) * inv_area
                l1 = ((u2 - pu) * (v0 - pv) - (u0 - pu) * (v2 - pv)) * inv_area
                l2 = 1.0 - l0 - l1
                if l0 < 0.0 or l1 < 0.0 or l2 < 0.0:
                    continue
                if coverage:
                    if cover[i, j] != ident:
                        cover[i, j] = ident
                        newly += 1
                    continue
                iz = l0 * w0 + l1 * w1 + l2 * w2
                if iz <= 0.0:
                    continue
                z = 1.0 / iz
                if z < depth[i, j]:
                    depth[i, j] = z
                    sem[i, j] = cls
                    inst[i, j] = ident
    return newly


@kernel
def _box_corners(cx_, cy_, cz_, yaw, hl, hw, hh, r, c, pts):  # pragma: no cover - compiled
    """The 8 corners of an oriented box, in camera coordinates, into pts (8, 3).

    Corner k: x sign from bit 0, y sign from bit 1, z sign from bit 2 (0 -> -, 1 -> +).
    """
    cs = math.cos(yaw)
    sn = math.sin(yaw)
    for k in range(8):
        lx = hl if (k & 1) else -hl
        ly = hw if (k & 2) else -hw
        lz = hh if (k & 4) else -hh
        _to_cam(r, c, cx_ + cs * lx - sn * ly, cy_ + sn * lx + cs * ly, cz_ + lz, pts, k)


@kernel
def _box_faces():  # pragma: no cover - compiled
    """12 triangles (corner indices, see ``_box_corners``) of a box surface."""
    f = np.empty((12, 3), dtype=np.int64)
    quads = np.array(
        [[0, 2, 6, 4], [1, 5, 7, 3], [0, 4, 5, 1], [2, 3, 7, 6], [0, 1, 3, 2], [4, 6, 7, 5]], dtype=np.int64
    )
    for q in range(6):
        f[2 * q, 0] = quads[q, 0]
        f[2 * q, 1] = quads[q, 1]
        f[2 * q, 2] = quads[q, 2]
        f[2 * q + 1, 0] = quads[q, 0]
        f[2 * q + 1, 1] = quads[q, 2]
        f[2 * q + 1, 2] = quads[q, 3]
    return f


@kernel
def _flat_ground(r, c, fx, fy, cx, cy, near, far, gz, x0, y0, cell, gcls, depth, sem, inst):  # pragma: no cover
    """Ray-plane ground (z = gz) through every pixel centre, within ``far`` m horizontally of the camera."""
    h = depth.shape[0]
    w = depth.shape[1]
    ny = gcls.shape[0]
    nx = gcls.shape[1]
    far2 = far * far
    for i in range(h):
        b = (i + 0.5 - cy) / fy
        for j in range(w):
            a = (j + 0.5 - cx) / fx
            # world direction per unit of optical depth: r^T (a, b, 1)
            dz = r[0, 2] * a + r[1, 2] * b + r[2, 2]
            if dz >= 0.0:
                continue
            t = (gz - c[2]) / dz
            if t < near or t >= depth[i, j]:
                continue
            ex = (r[0, 0] * a + r[1, 0] * b + r[2, 0]) * t
            ey = (r[0, 1] * a + r[1, 1] * b + r[2, 1]) * t
            if ex * ex + ey * ey > far2:
                continue
            ix = math.floor((c[0] + ex - x0) / cell + 0.5)
            iy = math.floor((c[1] + ey - y0) / cell + 0.5)
            if ix < 0 or iy < 0 or ix >= nx or iy >= ny:
                continue
            depth[i, j] = t
            sem[i, j] = gcls[iy, ix]
            inst[i, j] = -1


@kernel
def render_scene(
    r,
    c,
    fx,
    fy,
    cx,
    cy,
    near,
    far,
    box_cx,
    box_cy,
    box_cz,
    box_yaw,
    box_hl,
    box_hw,
    box_hh,
    box_class,
    box_active,
    skip_row,
    poly_start,
    poly_x,
    poly_y,
    poly_zmin,
    poly_zmax,
    poly_class,
    roof_start,
    roof_tri,
    ground_x0,
    ground_y0,
    ground_cell,
    corner_z,
    ground_class,
    flat_ground,
    depth,
    sem,
    inst,
):  # pragma: no cover - compiled
    """Rasterise actors (row ids), building/static prisms and ground tiles into the z-buffer.

    r: (3, 3) world -> camera rotation; c: (3,) camera centre (ENU m). Boxes: centre, yaw, half
    sizes (m), class, active; ``skip_row`` (the carrier) is not drawn. Prisms: CSR polygons (CCW)
    extruded from zmin to zmax, roofs as triangles (roof_start CSR over roof_tri rows of vertex
    indices into poly_x). Ground: one square tile of edge ground_cell per node (ny, nx) of the node
    grid at (x0 + ix cell, y0 + iy cell), centred on the node and of its class (the nearest-node rule),
    with corner heights corner_z (ny + 1, nx + 1): corner (iy, ix) at (x0 + (ix - 1/2) cell, ...).
    ``flat_ground``: all corner heights equal; the ground is then intersected per pixel in closed form
    (same result as the tiles: a plane, each point of the class of its nearest node, within the grid).
    Outputs (cleared here): depth (H, W) float64 (inf: nothing), sem uint8, inst int32 (-1 for non-actors).
    Only geometry within ``far`` metres is drawn.
    """
    h = depth.shape[0]
    w = depth.shape[1]
    for i in range(h):
        for j in range(w):
            depth[i, j] = np.inf
            sem[i, j] = 0
            inst[i, j] = -1
    tl = cx / fx
    tr = (w - cx) / fx
    tt = cy / fy
    tb = (h - cy) / fy
    nocover = np.zeros((0, 0), dtype=np.int32)
    ext = np.empty(4)
    buf = np.empty((6, 4))
    pts = np.empty((8, 3))
    faces = _box_faces()
    # ---- actors
    for b in range(box_cx.shape[0]):
        if not box_active[b] or b == skip_row:
            continue
        _box_corners(box_cx[b], box_cy[b], box_cz[b], box_yaw[b], box_hl[b], box_hw[b], box_hh[b], r, c, pts)
        if _outside(pts, 8, near, far, tl, tr, tt, tb):
            continue
        for f in range(12):
            _raster_tri(
                pts[faces[f, 0]], pts[faces[f, 1]], pts[faces[f, 2]], fx, fy, cx, cy, near,
                depth, sem, inst, box_class[b], b, nocover, ext, buf,
            )  # fmt: skip
    # ---- prisms: walls and roofs
    q = np.empty((4, 3))
    for p in range(poly_start.shape[0] - 1):
        s0 = poly_start[p]
        s1 = poly_start[p + 1]
        n = s1 - s0
        if n < 3:
            continue
        # cull the whole prism when its xy bounding box is farther than ``far``
        bx0 = poly_x[s0]
        bx1 = bx0
        by0 = poly_y[s0]
        by1 = by0
        for k in range(s0, s1):
            bx0 = min(bx0, poly_x[k])
            bx1 = max(bx1, poly_x[k])
            by0 = min(by0, poly_y[k])
            by1 = max(by1, poly_y[k])
        ddx = max(bx0 - c[0], max(c[0] - bx1, 0.0))
        ddy = max(by0 - c[1], max(c[1] - by1, 0.0))
        if ddx * ddx + ddy * ddy > far * far:
            continue
        cls = poly_class[p]
        z0 = poly_zmin[p]
        z1 = poly_zmax[p]
        for k in range(n):
            a = s0 + k
            b = s0 + (k + 1) % n
            _to_cam(r, c, poly_x[a], poly_y[a], z0, q, 0)
            _to_cam(r, c, poly_x[b], poly_y[b], z0, q, 1)
            _to_cam(r, c, poly_x[b], poly_y[b], z1, q, 2)
            _to_cam(r, c, poly_x[a], poly_y[a], z1, q, 3)
            if _outside(q, 4, near, 1e300, tl, tr, tt, tb):
                continue
            _raster_tri(q[0], q[1], q[2], fx, fy, cx, cy, near, depth, sem, inst, cls, -1, nocover, ext, buf)
            _raster_tri(q[0], q[2], q[3], fx, fy, cx, cy, near, depth, sem, inst, cls, -1, nocover, ext, buf)
        for t in range(roof_start[p], roof_start[p + 1]):
            _to_cam(r, c, poly_x[s0 + roof_tri[t, 0]], poly_y[s0 + roof_tri[t, 0]], z1, q, 0)
            _to_cam(r, c, poly_x[s0 + roof_tri[t, 1]], poly_y[s0 + roof_tri[t, 1]], z1, q, 1)
            _to_cam(r, c, poly_x[s0 + roof_tri[t, 2]], poly_y[s0 + roof_tri[t, 2]], z1, q, 2)
            if _outside(q, 3, near, 1e300, tl, tr, tt, tb):
                continue
            _raster_tri(q[0], q[1], q[2], fx, fy, cx, cy, near, depth, sem, inst, cls, -1, nocover, ext, buf)
    # ---- ground tiles within the frustum's footprint
    ny = ground_class.shape[0]
    nx = ground_class.shape[1]
    if ny == 0 or nx == 0:
        return
    if flat_ground:
        _flat_ground(r, c, fx, fy, cx, cy, near, far, corner_z[0, 0], ground_x0, ground_y0, ground_cell,
                     ground_class, depth, sem, inst)  # fmt: skip
        return
    # footprint bbox: camera centre and the far-plane corners, in world xy
    xmin = c[0]
    xmax = c[0]
    ymin = c[1]
    ymax = c[1]
    for k in range(4):
        ux = -tl if (k & 1) == 0 else tr
        vy = -tt if (k & 2) == 0 else tb
        # camera-frame direction (ux, vy, 1) * far into world: r^T
        dxw = (r[0, 0] * ux + r[1, 0] * vy + r[2, 0]) * far
        dyw = (r[0, 1] * ux + r[1, 1] * vy + r[2, 1]) * far
        xmin = min(xmin, c[0] + dxw)
        xmax = max(xmax, c[0] + dxw)
        ymin = min(ymin, c[1] + dyw)
        ymax = max(ymax, c[1] + dyw)
    xmin = max(xmin, c[0] - far)
    xmax = min(xmax, c[0] + far)
    ymin = max(ymin, c[1] - far)
    ymax = min(ymax, c[1] + far)
    ix0 = max(math.floor((xmin - ground_x0) / ground_cell + 0.5), 0)
    ix1 = min(math.floor((xmax - ground_x0) / ground_cell + 0.5), nx - 1)
    iy0 = max(math.floor((ymin - ground_y0) / ground_cell + 0.5), 0)
    iy1 = min(math.floor((ymax - ground_y0) / ground_cell + 0.5), ny - 1)
    far2 = (far + 1.5 * ground_cell) ** 2
    for iy in range(iy0, iy1 + 1):
        ya = ground_y0 + (iy - 0.5) * ground_cell
        yb = ya + ground_cell
        for ix in range(ix0, ix1 + 1):
            xa = ground_x0 + (ix - 0.5) * ground_cell
            xb = xa + ground_cell
            mx = xa + 0.5 * ground_cell - c[0]
            my = ya + 0.5 * ground_cell - c[1]
            if mx * mx + my * my > far2:
                continue
            za = corner_z[iy, ix]
            zb = corner_z[iy, ix + 1]
            zc = corner_z[iy + 1, ix + 1]
            zd = corner_z[iy + 1, ix]
            _to_cam(r, c, xa, ya, za, q, 0)
            _to_cam(r, c, xb, ya, zb, q, 1)
            _to_cam(r, c, xb, yb, zc, q, 2)
            _to_cam(r, c, xa, yb, zd, q, 3)
            if _outside(q, 4, near, 1e300, tl, tr, tt, tb):
                continue
            cls = ground_class[iy, ix]
            _raster_tri(q[0], q[1], q[2], fx, fy, cx, cy, near, depth, sem, inst, cls, -1, nocover, ext, buf)
            _raster_tri(q[0], q[2], q[3], fx, fy, cx, cy, near, depth, sem, inst, cls, -1, nocover, ext, buf)


@kernel
def actor_coverage(
    r, c, fx, fy, cx, cy, near, far, box_cx, box_cy, box_cz, box_yaw, box_hl, box_hw, box_hh, rows, inst, cover, out
):  # pragma: no cover - compiled
    """Per actor of ``rows``: unoccluded silhouette and visible pixel counts, pixel box, projected extent.

    cover: (H, W) int32 scratch, preset to -1. out (len(rows), 10) float64 per actor:
    silhouette pixels, visible pixels (inst == row inside the silhouette), column min, column max,
    row min, row max of the silhouette (-1 when empty), projected extent umin, umax, vmin, vmax of
    the near-clipped box (continuous pixel coordinates; inf when nothing is in front of the camera).
    """
    h = inst.shape[0]
    w = inst.shape[1]
    pts = np.empty((8, 3))
    faces = _box_faces()
    ext = np.empty(4)
    buf = np.empty((6, 4))
    dummy_d = np.empty((h, w))
    dummy_s = np.empty((0, 0), dtype=np.uint8)
    dummy_i = np.empty((0, 0), dtype=np.int32)
    for n in range(rows.shape[0]):
        b = rows[n]
        ext[0] = np.inf
        ext[1] = -np.inf
        ext[2] = np.inf
        ext[3] = -np.inf
        _box_corners(box_cx[b], box_cy[b], box_cz[b], box_yaw[b], box_hl[b], box_hw[b], box_hh[b], r, c, pts)
        sil = 0
        for f in range(12):
            sil += _raster_tri(
                pts[faces[f, 0]], pts[faces[f, 1]], pts[faces[f, 2]], fx, fy, cx, cy, near,
                dummy_d, dummy_s, dummy_i, 0, b, cover, ext, buf,
            )  # fmt: skip
        out[n, 0] = sil
        vis = 0
        cmin = w
        cmax = -1
        rmin = h
        rmax = -1
        if sil > 0:
            # silhouette pixels lie inside the clamped projected extent
            j0 = max(math.floor(ext[0]) - 1, 0)
            j1 = min(math.ceil(ext[1]) + 1, w - 1)
            i0 = max(math.floor(ext[2]) - 1, 0)
            i1 = min(math.ceil(ext[3]) + 1, h - 1)
            for i in range(i0, i1 + 1):
                for j in range(j0, j1 + 1):
                    if cover[i, j] == b:
                        cover[i, j] = -1
                        if inst[i, j] == b:
                            vis += 1
                        cmin = min(cmin, j)
                        cmax = max(cmax, j)
                        rmin = min(rmin, i)
                        rmax = max(rmax, i)
        out[n, 1] = vis
        out[n, 2] = cmin if sil > 0 else -1
        out[n, 3] = cmax
        out[n, 4] = rmin if sil > 0 else -1
        out[n, 5] = rmax
        out[n, 6] = ext[0]
        out[n, 7] = ext[1]
        out[n, 8] = ext[2]
        out[n, 9] = ext[3]
