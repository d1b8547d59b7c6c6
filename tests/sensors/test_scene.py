"""Scene: prisms from the map's buildings, ground classes from the lanes, actor boxes from the state."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from simcore._types import ActorKind, LaneType
from simcore.road.generate import generate_city
from simcore.sensors.scene import Scene, SemanticClass, build_scene, set_ground, set_prisms, update_actors
from simcore.state import WorldState


@pytest.fixture(scope="module")
def city():
    net = generate_city(2, 2)
    st = WorldState.zeros(3)
    st.x[:] = [0.0, 10.0, 20.0]
    st.y[:] = [1.0, -2.0, 3.0]
    st.yaw[:] = [0.3, -1.0, 2.0]
    st.speed[:] = [10.0, 1.5, 4.0]
    st.vy[:] = [0.5, 0.0, 0.0]
    st.kind[:] = [ActorKind.VEHICLE, ActorKind.PEDESTRIAN, ActorKind.CYCLIST]
    st.active[:] = [True, True, False]
    params = {
        "length": np.array([4.6, 0.5, 1.8]),
        "width": np.array([1.9, 0.6, 0.7]),
        "height": np.array([1.45, 1.75, 0.0]),
        "center_offset": np.array([1.3, 0.0, 0.4]),
    }
    world = SimpleNamespace(network=net, params=params, state=st)
    return world, build_scene(world)


def test_buildings_become_prisms(city):
    world, sc = city
    net = world.network
    n_build = sum(1 for k in net.obj_kinds if k == "building")
    assert sc.n_prisms == n_build > 0
    np.testing.assert_allclose(sc.poly_zmax - sc.poly_zmin, net.obj_height, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(sc.poly_zmin, 0.0)
    assert np.all(sc.poly_class == SemanticClass.BUILDING)
    for p in range(sc.n_prisms):  # counter-clockwise
        x = sc.poly_x[sc.poly_start[p] : sc.poly_start[p + 1]]
        y = sc.poly_y[sc.poly_start[p] : sc.poly_start[p + 1]]
        assert np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y) > 0
    # every prism is listed in the grid cell of each of its vertices
    for p in range(sc.n_prisms):
        for k in range(sc.poly_start[p], sc.poly_start[p + 1]):
            ix = int((sc.poly_x[k] - sc.grid_x0) // sc.grid_cell)
            iy = int((sc.poly_y[k] - sc.grid_y0) // sc.grid_cell)
            c = iy * sc.grid_nx + ix
            assert p in sc.grid_items[sc.grid_start[c] : sc.grid_start[c + 1]]


def test_ground_classes_follow_lanes(city):
    world, sc = city
    net = world.network
    assert sc.ground_flat and np.all(sc.ground_z == 0.0)

    def cls_at(x, y):
        ix = math.floor((x - sc.ground_x0) / sc.ground_cell + 0.5)
        iy = math.floor((y - sc.ground_y0) / sc.ground_cell + 0.5)
        return sc.ground_class[iy, ix]

    for lane in range(0, net.n_lanes, 5):
        a, b = net.lane_start[lane], net.lane_start[lane + 1]
        k = (a + b) // 2
        want = SemanticClass.SIDEWALK if net.lane_type[lane] == LaneType.SIDEWALK else SemanticClass.ROAD
        assert cls_at(net.pts_x[k], net.pts_y[k]) == want
    # building interiors are off the lanes
    p0 = slice(sc.poly_start[0], sc.poly_start[1])
    assert cls_at(sc.poly_x[p0].mean(), sc.poly_y[p0].mean()) == SemanticClass.GROUND


def test_actor_boxes(city):
    world, sc = city
    st = world.state
    # vehicle: centre 1.3 m ahead of the rear axle along yaw; height from params
    assert sc.box_cx[0] == pytest.approx(0.0 + 1.3 * math.cos(0.3))
    assert sc.box_cy[0] == pytest.approx(1.0 + 1.3 * math.sin(0.3))
    assert sc.box_cz[0] == pytest.approx(1.45 / 2)
    assert (sc.box_hl[0], sc.box_hw[0], sc.box_hh[0]) == pytest.approx((2.3, 0.95, 0.725))
    # world velocity: speed along yaw plus the lateral vy rotated
    assert sc.box_vx[0] == pytest.approx(10 * math.cos(0.3) - 0.5 * math.sin(0.3))
    assert sc.box_vy[0] == pytest.approx(10 * math.sin(0.3) + 0.5 * math.cos(0.3))
    # pedestrian at its body centre; cyclist without a height gets the default 1.7 m
    assert (sc.box_cx[1], sc.box_cy[1]) == (10.0, -2.0)
    assert sc.box_hh[2] == pytest.approx(0.85)
    assert sc.box_cx[2] == pytest.approx(20.0 + 0.4 * math.cos(2.0))  # a cyclist's box is ahead of its rear axle
    assert sc.box_class.tolist() == [SemanticClass.VEHICLE, SemanticClass.PEDESTRIAN, SemanticClass.CYCLIST]
    assert sc.box_active.tolist() == [True, True, False]
    st.x[0] += 5.0
    update_actors(sc, world)
    assert sc.box_cx[0] == pytest.approx(5.0 + 1.3 * math.cos(0.3))
    st.x[0] -= 5.0


def test_boxes_stand_on_elevated_ground():
    sc = Scene()
    z = np.full((3, 3), 2.5)
    set_ground(sc, -10.0, -10.0, 10.0, z)
    st = WorldState.zeros(1)
    world = SimpleNamespace(state=st, params={"length": np.array([4.0]), "width": np.array([2.0])})
    update_actors(sc, world)
    assert sc.box_cz[0] == pytest.approx(2.5 + 0.75)  # default vehicle height 1.5 m
    assert float(sc.ground_height(3.0, -4.0)) == 2.5


def test_set_ground_and_prisms_errors():
    sc = Scene()
    with pytest.raises(ValueError, match="shape"):
        set_ground(sc, 0.0, 0.0, 1.0, np.zeros((2, 2)), np.zeros((3, 3), dtype=np.int8))
    with pytest.raises(ValueError, match="finite"):
        set_ground(sc, 0.0, 0.0, 1.0, np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="cell"):
        set_prisms(sc, [], cell=0.0)
    # clockwise input and a repeated closing vertex are normalised
    set_prisms(sc, [(np.array([0.0, 0.0, 1.0, 1.0, 0.0]), np.array([0.0, 1.0, 1.0, 0.0, 0.0]), 0.0, 1.0, 5)])
    assert sc.poly_start.tolist() == [0, 4]
    assert np.sum(sc.poly_x * np.roll(sc.poly_y, -1) - np.roll(sc.poly_x, -1) * sc.poly_y) > 0


def test_lane_markings(city):
    world, sc = city
    net = world.network
    assert np.count_nonzero(sc.ground_class == SemanticClass.LANE_MARKING) > 1000
    # the left edge of an outermost-left driving lane (the centre line) is solid: marked at every sample
    lane = next(
        i for i in range(net.n_lanes)
        if net.lane_type[i] == LaneType.DRIVING and net.lane_left[i] < 0 and net.lane_junction[i] < 0
    )  # fmt: skip
    a, b = net.lane_start[lane], net.lane_start[lane + 1]
    h = net.pts_heading[a:b]
    ex = net.pts_x[a:b] - 0.5 * net.lane_width[lane] * np.sin(h)
    ey = net.pts_y[a:b] + 0.5 * net.lane_width[lane] * np.cos(h)
    ix = np.floor((ex - sc.ground_x0) / sc.ground_cell + 0.5).astype(int)
    iy = np.floor((ey - sc.ground_y0) / sc.ground_cell + 0.5).astype(int)
    assert np.all(sc.ground_class[iy, ix] == SemanticClass.LANE_MARKING)
    plain = build_scene(world, lane_markings=False)
    assert not np.any(plain.ground_class == SemanticClass.LANE_MARKING)
    changed = plain.ground_class != sc.ground_class
    assert np.all(sc.ground_class[changed] == SemanticClass.LANE_MARKING)
