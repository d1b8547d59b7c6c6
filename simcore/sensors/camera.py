"""Pinhole camera: 2-D boxes with occlusion/truncation, depth, semantic and instance images.

Frames. The camera is mounted like every sensor (``Mount`` in the vehicle frame: x forward, y left,
z up, origin rear axle on the ground); its body axes are x forward, y left, z up. The *optical*
frame used for projection is x right, y down, z forward (OpenCV convention):
optical = (-y_body, -z_body, x_body).

Projection: a point (X, Y, Z) of the optical frame with Z >= near lands on continuous pixel
coordinates u = fx X / Z + cx (columns, to the right), v = fy Y / Z + cy (rows, down); pixel
(row i, column j) covers [j, j+1) x [i, i+1) and is sampled at its centre. With a horizontal FOV
instead of fx: fx = (width / 2) / tan(hfov / 2), fy = fx (square pixels), cx = width / 2,
cy = height / 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simcore.sensors.camera_kernels import actor_coverage, render_scene
from simcore.sensors.mount import Mount, sensor_pose

__all__ = ["BOX_DTYPE", "OUTPUTS", "R_BODY_FROM_OPTICAL", "Camera", "CameraFrame", "Intrinsics"]

#: Columns of optical-frame axes (x right, y down, z forward) expressed in the camera body frame.
R_BODY_FROM_OPTICAL = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])

#: Selectable outputs.
OUTPUTS = ("boxes", "depth", "semantic", "instance")

#: One 2-D box per visible actor. u0, v0, u1, v1: pixel bounds of the actor's unoccluded silhouette
#: inside the image (u1, v1 exclusive); depth: optical-axis depth (m) of the box centre.
BOX_DTYPE = np.dtype(
    [
        ("row", np.int32),
        ("cls", np.int8),
        ("u0", np.float32),
        ("v0", np.float32),
        ("u1", np.float32),
        ("v1", np.float32),
        ("depth", np.float32),
        ("occlusion", np.float32),
        ("truncation", np.float32),
        ("visible_pixels", np.int32),
        ("silhouette_pixels", np.int32),
    ]
)


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics in pixels: focal lengths fx, fy, principal point cx, cy, image size."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float

    def __post_init__(self) -> None:
        if self.width < 1 or self.height < 1:
            raise ValueError(f"camera image size must be positive, got {self.width}x{self.height}")
        if not (self.fx > 0 and self.fy > 0):
            raise ValueError(f"camera focal lengths must be positive, got fx={self.fx}, fy={self.fy}")

    @classmethod
    def from_fov(cls, width: int, height: int, hfov: float) -> Intrinsics:
        """Square pixels and a centred principal point for a horizontal field of view (rad, 0..pi)."""
        if not 0.0 < hfov < math.pi:
            raise ValueError(f"camera hfov must be in (0, pi) rad, got {hfov}")
        f = 0.5 * width / math.tan(hfov / 2)
        return cls(int(width), int(height), f, f, 0.5 * width, 0.5 * height)

    @property
    def matrix(self) -> np.ndarray:
        """3x3 camera matrix K."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])


@dataclass
class CameraFrame:
    """One camera output; images are (height, width), absent outputs are None.

    depth: float32 metres along the optical axis (inf where nothing). semantic: uint8
    ``SemanticClass``. instance: int32 state row (-1 none). boxes: ``BOX_DTYPE`` array.
    position (3,), rotation (3x3 optical -> world): the camera pose at capture.
    """

    depth: np.ndarray | None
    semantic: np.ndarray | None
    instance: np.ndarray | None
    boxes: np.ndarray | None
    position: np.ndarray = field(default_factory=lambda: np.zeros(3))
    rotation: np.ndarray = field(default_factory=lambda: np.eye(3))


def _ear_clip(px: np.ndarray, py: np.ndarray) -> list[tuple[int, int, int]]:
    """Triangulate a simple CCW polygon by ear clipping (vertex indices)."""
    idx = list(range(px.size))
    tris: list[tuple[int, int, int]] = []

    def cross(a: int, b: int, c: int) -> float:
        return (px[b] - px[a]) * (py[c] - py[a]) - (py[b] - py[a]) * (px[c] - px[a])

    guard = 0
    while len(idx) > 3 and guard < 10 * px.size * px.size:
        guard += 1
        n = len(idx)
        for k in range(n):
            a, b, c = idx[k - 1], idx[k], idx[(k + 1) % n]
            if cross(a, b, c) <= 0:
                continue
            inside = False
            for m in idx:
                if m in (a, b, c):
                    continue
                if cross(a, b, m) >= 0 and cross(b, c, m) >= 0 and cross(c, a, m) >= 0:
                    inside = True
                    break
            if not inside:
                tris.append((a, b, c))
                idx.pop(k)
                break
        else:  # degenerate (collinear / self-touching): fan the rest
            break
    for k in range(1, len(idx) - 1):
        tris.append((idx[0], idx[k], idx[k + 1]))
    return tris


class _StaticCache:
    """Per-scene static arrays for the rasteriser (roof triangles, ground tile corner heights)."""

    def __init__(self) -> None:
        self.key: tuple = ()
        self.roof_start = np.zeros(1, dtype=np.int64)
        self.roof_tri = np.zeros((0, 3), dtype=np.int64)
        self.corner_z = np.zeros((0, 0))

    def get(self, scene: Any) -> _StaticCache:
        key = (id(scene.poly_x), id(scene.poly_start), id(scene.ground_z), scene.poly_x.size, scene.ground_z.shape)
        if key == self.key:
            return self
        starts, tris = [0], []
        for p in range(scene.poly_start.size - 1):
            a, b = int(scene.poly_start[p]), int(scene.poly_start[p + 1])
            t = _ear_clip(scene.poly_x[a:b], scene.poly_y[a:b])
            tris.extend(t)
            starts.append(len(tris))
        self.roof_start = np.array(starts, dtype=np.int64)
        self.roof_tri = np.array(tris, dtype=np.int64).reshape(-1, 3)
        ny, nx = scene.ground_z.shape
        cell = float(scene.ground_cell)
        if scene.ground_flat:
            self.corner_z = np.full((ny + 1, nx + 1), float(scene.ground_z.flat[0]))
        else:
            gx = float(scene.ground_x0) + (np.arange(nx + 1) - 0.5) * cell
            gy = float(scene.ground_y0) + (np.arange(ny + 1) - 0.5) * cell
            X, Y = np.meshgrid(gx, gy)
            self.corner_z = np.ascontiguousarray(scene.ground_height(X, Y))
        self.key = key
        return self


class Camera:
    """Pinhole camera sensor (see the module doc for frames and pixel conventions).

    Args:
        name: sensor name. width, height: image size (px). hfov: horizontal FOV (rad), used when
        fx is not given. fx, fy, cx, cy: intrinsics (px; fy defaults to fx, cx/cy to the centre).
        mount: pose in the vehicle frame. rate_hz: frame rate. near, far: clip distances (m).
        outputs: subset of ``OUTPUTS``. min_visible_pixels: least visible pixels for a 2-D box.
        row: carrier state row (None: the world's ego).
    """

    kind = "camera"

    def __init__(
        self,
        name: str = "camera",
        width: int = 640,
        height: int = 360,
        hfov: float = 0.5 * math.pi,
        fx: float | None = None,
        fy: float | None = None,
        cx: float | None = None,
        cy: float | None = None,
        mount: Mount | None = None,
        rate_hz: float = 10.0,
        near: float = 0.1,
        far: float = 200.0,
        outputs: tuple[str, ...] | list[str] = OUTPUTS,
        min_visible_pixels: int = 1,
        row: int | None = None,
    ) -> None:
        if fx is None:
            k = Intrinsics.from_fov(width, height, hfov)
            fx, fy_d = k.fx, k.fy
        else:
            fy_d = fx
        self.intrinsics = Intrinsics(
            int(width),
            int(height),
            float(fx),
            float(fy if fy is not None else fy_d),
            float(cx if cx is not None else 0.5 * width),
            float(cy if cy is not None else 0.5 * height),
        )
        bad = [o for o in outputs if o not in OUTPUTS]
        if bad:
            raise ValueError(f"camera {name!r}: unknown outputs {bad}; choose from {list(OUTPUTS)}")
        if not 0 < near < far:
            raise ValueError(f"camera {name!r}: need 0 < near < far, got near={near}, far={far}")
        if not rate_hz > 0:
            raise ValueError(f"camera {name!r}: rate_hz must be positive, got {rate_hz}")
        self.name = name
        self.mount = mount or Mount()
        self.rate_hz = float(rate_hz)
        self.near = float(near)
        self.far = float(far)
        self.outputs = tuple(outputs)
        self.min_visible_pixels = int(min_visible_pixels)
        self.row = row
        self._cache = _StaticCache()
        self._zbuf = np.empty((0, 0))
        self._cover = np.empty((0, 0), dtype=np.int32)
        self._flat_fast = True  # flat ground per pixel in closed form (False: as tiles, like uneven ground)

    def seed(self, rng: np.random.Generator) -> None:
        """The camera is noise-free; accepted for the rig's uniform interface."""

    # ------------------------------------------------------------------ geometry
    def pose(self, world: Any, scene: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """(centre (3,), rotation optical -> world 3x3) for the carrier row of ``world``."""
        row = world.ego if self.row is None else self.row
        p, r = sensor_pose(world, row, self.mount, scene)
        return p, r @ R_BODY_FROM_OPTICAL

    def project(self, points: np.ndarray, position: np.ndarray, rotation: np.ndarray) -> np.ndarray:
        """(N, 3) world points -> (N, 3) array of u, v (px) and depth Z (m) for a camera at ``position``
        with ``rotation`` (optical -> world); u, v are NaN where Z < near."""
        k = self.intrinsics
        pc = (np.asarray(points, dtype=float) - position) @ rotation
        z = pc[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(z >= self.near, k.fx * pc[:, 0] / z + k.cx, np.nan)
            v = np.where(z >= self.near, k.fy * pc[:, 1] / z + k.cy, np.nan)
        return np.stack([u, v, z], axis=1)

    # ------------------------------------------------------------------ rendering
    def render(
        self,
        scene: Any,
        position: np.ndarray,
        rotation: np.ndarray,
        skip_row: int = -1,
        instance: int | None = None,
    ) -> CameraFrame:
        """Render ``scene`` from a camera at ``position`` (ENU m) with ``rotation`` (optical -> world).

        ``skip_row``: actor not drawn (the carrier). ``instance``: draw only actors of this scenario
        instance (None: all).
        """
        k = self.intrinsics
        h, w = k.height, k.width
        r = np.ascontiguousarray(np.asarray(rotation, dtype=float).T)
        c = np.ascontiguousarray(position, dtype=float)
        st = self._cache.get(scene)
        active = scene.box_active
        if instance is not None and scene.box_instance.size == active.size:
            active = active & (scene.box_instance == instance)
        active = np.ascontiguousarray(active, dtype=np.bool_)
        if self._zbuf.shape != (h, w):
            self._zbuf = np.empty((h, w))
        depth = self._zbuf  # reused float64 z-buffer; the kernel clears it
        sem = np.empty((h, w), dtype=np.uint8)
        inst = np.empty((h, w), dtype=np.int32)
        render_scene(
            r, c, k.fx, k.fy, k.cx, k.cy, self.near, self.far,
            scene.box_cx, scene.box_cy, scene.box_cz, scene.box_yaw, scene.box_hl, scene.box_hw, scene.box_hh,
            scene.box_class, active, int(skip_row),
            scene.poly_start, scene.poly_x, scene.poly_y, scene.poly_zmin, scene.poly_zmax, scene.poly_class,
            st.roof_start, st.roof_tri,
            float(scene.ground_x0), float(scene.ground_y0), float(scene.ground_cell), st.corner_z, scene.ground_class,
            bool(scene.ground_flat) and self._flat_fast, depth, sem, inst,
        )  # fmt: skip
        boxes = self._boxes(scene, r, c, inst) if "boxes" in self.outputs else None
        return CameraFrame(
            depth.astype(np.float32) if "depth" in self.outputs else None,
            sem if "semantic" in self.outputs else None,
            inst if "instance" in self.outputs else None,
            boxes,
            c.copy(),
            np.asarray(rotation, dtype=float).copy(),
        )

    def _boxes(self, scene: Any, r: np.ndarray, c: np.ndarray, inst: np.ndarray) -> np.ndarray:
        k = self.intrinsics
        counts = np.bincount(inst.ravel() + 1, minlength=scene.box_cx.size + 1)
        rows = np.flatnonzero(counts[1:]).astype(np.int64)
        out = np.zeros((rows.size, 10))
        if self._cover.shape != inst.shape:
            self._cover = np.full(inst.shape, -1, dtype=np.int32)
        cover = self._cover  # scratch; actor_coverage leaves it all -1 again
        if rows.size:
            actor_coverage(
                r, c, k.fx, k.fy, k.cx, k.cy, self.near, self.far,
                scene.box_cx, scene.box_cy, scene.box_cz, scene.box_yaw, scene.box_hl, scene.box_hw, scene.box_hh,
                rows, inst, cover, out,
            )  # fmt: skip
        keep = (out[:, 1] >= max(self.min_visible_pixels, 1)) & (out[:, 0] > 0)
        rows, out = rows[keep], out[keep]
        boxes = np.zeros(rows.size, dtype=BOX_DTYPE)
        boxes["row"] = rows
        boxes["cls"] = scene.box_class[rows]
        boxes["u0"] = out[:, 2]
        boxes["u1"] = out[:, 3] + 1
        boxes["v0"] = out[:, 4]
        boxes["v1"] = out[:, 5] + 1
        ctr = np.stack([scene.box_cx[rows], scene.box_cy[rows], scene.box_cz[rows]], axis=1)
        boxes["depth"] = ((ctr - c) @ r.T)[:, 2]
        boxes["silhouette_pixels"] = out[:, 0]
        boxes["visible_pixels"] = out[:, 1]
        boxes["occlusion"] = 1.0 - out[:, 1] / out[:, 0]
        # truncation: share of the projected (near-clipped) box extent outside the image
        u0, u1, v0, v1 = out[:, 6], out[:, 7], out[:, 8], out[:, 9]
        area = (u1 - u0) * (v1 - v0)
        iw = np.clip(np.minimum(u1, k.width) - np.maximum(u0, 0.0), 0.0, None)
        ih = np.clip(np.minimum(v1, k.height) - np.maximum(v0, 0.0), 0.0, None)
        with np.errstate(divide="ignore", invalid="ignore"):
            trunc = np.where(area > 0, 1.0 - iw * ih / area, 0.0)
        boxes["truncation"] = np.clip(trunc, 0.0, 1.0)
        return boxes

    def measure(self, scene: Any, world: Any, t: float) -> CameraFrame:
        """Render the current scene from the carrier's mount (``t`` unused: the scene is the present)."""
        row = world.ego if self.row is None else self.row
        p, r = self.pose(world, scene)
        inst = int(world.state.instance[row]) if row >= 0 else None
        return self.render(scene, p, r, skip_row=row, instance=inst)
