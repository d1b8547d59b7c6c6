"""SimcoreEnv: gymnasium's checker, determinism, hand-computed rewards and observations, engine equivalence."""

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from simcore._data import resolve_scenario
from simcore.agents.builtin.autopilot import Idle
from simcore.agents.protocol import Control
from simcore.gym import ENV_IDS, SimcoreEnv, VectorSimcoreEnv
from simcore.gym import obs_kernels as ok
from simcore.runner.loop import Simulation
from simcore.scenario.build import build_world
from simcore.scenario.loader import load_scenario

ONLY = dict.fromkeys(("progress", "collision", "offroad", "red_light", "speeding", "jerk", "goal", "time"), 0.0)


@pytest.mark.parametrize("observation", ["objects", "bev", "lidar", ("objects", "bev", "lidar")])
def test_check_env_passes_for_every_observation_mode(sparse_yaml, observation):
    env = SimcoreEnv(sparse_yaml, observation=observation, obs_config={"bev_size": (32, 40), "lidar_beams": 16})
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)


def test_check_env_with_rendering_through_gym_make():
    env = gym.make("simcore/SparseIntersection-v0", render_mode="rgb_array", observation=("objects", "lidar"))
    check_env(env.unwrapped)


def test_render_gives_an_rgb_picture_with_the_ego_in_it(sparse_yaml):
    env = SimcoreEnv(sparse_yaml, render_mode="rgb_array")
    env.reset(seed=0)
    img = env.render()
    assert img.shape == (384, 384, 3) and img.dtype == np.uint8
    ego_green = np.all(img == (60, 220, 90), axis=-1)
    rows, cols = np.nonzero(ego_green)
    # ego reference point at row 0.6 * 128, column 64 (x3): its box extends ahead of it
    assert abs(cols.mean() - 192) < 6 and rows.min() < 0.6 * 384 < rows.max() + 3


def _rollout(env, seed, n=80):
    rng = np.random.default_rng(123)
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for _ in range(n):
        obs, r, term, trunc, _ = env.step(rng.uniform(-1, 1, 2).astype(np.float32))
        out.append((obs, r, term, trunc))
        if term or trunc:
            obs, _ = env.reset()
            out.append(obs)
    return out


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return np.array_equal(np.asarray(a), np.asarray(b))


def test_same_seed_same_episode_and_different_seed_different_traffic(sparse_yaml):
    a = SimcoreEnv(sparse_yaml, observation=("objects", "lidar"))
    b = SimcoreEnv(sparse_yaml, observation=("objects", "lidar"))
    ra, rb = _rollout(a, 5), _rollout(b, 5)
    assert len(ra) == len(rb) and all(_same(x, y) for x, y in zip(ra, rb, strict=True))
    a.reset(seed=5)
    sf5 = a.batch.speed_factor[0].copy()
    a.reset(seed=6)
    assert not np.array_equal(sf5, a.batch.speed_factor[0])
    npc = a.batch.drive_idx
    assert np.all(np.abs(sf5[npc] - 1.0) <= 0.1) and np.all(sf5[a.world.ego] == 1.0)


def test_progress_speeding_and_time_terms_on_a_straight_road(straight_yaml):
    # Ego alone at 20 m/s on a straight 36 km/h lane, zero acceleration and steering:
    # per step it advances v dt = 2 m, 10 m/s over the limit for 0.1 s.
    weights = dict(ONLY, progress=0.5, speeding=-0.25, time=-1.0)
    env = SimcoreEnv(straight_yaml, reward=weights, normalize_actions=False)
    env.reset(seed=0)
    v, dt, vlim = 20.0, 0.1, 10.0
    for _ in range(5):
        _, r, term, trunc, info = env.step(np.zeros(2, np.float32))
        assert not (term or trunc)
        assert info["reward_terms"]["progress"] == pytest.approx(0.5 * v * dt, rel=1e-12)
        assert info["reward_terms"]["speeding"] == pytest.approx(-0.25 * (v - vlim) * dt, rel=1e-12)
        assert info["reward_terms"]["time"] == pytest.approx(-dt, rel=1e-12)
        assert r == pytest.approx(0.5 * v * dt - 0.25 * (v - vlim) * dt - dt, rel=1e-12)
    assert info["progress_m"] == pytest.approx(10.0 + 5 * v * dt, rel=1e-12)


def test_jerk_term_is_the_change_of_acceleration(straight_yaml):
    env = SimcoreEnv(straight_yaml, reward=dict(ONLY, jerk=-1.0), normalize_actions=False)
    env.reset(seed=0)
    _, r1, *_ = env.step(np.array([1.0, 0.0], np.float32))  # 0 -> 1 m/s^2
    _, r2, *_ = env.step(np.array([1.0, 0.0], np.float32))  # held
    _, r3, *_ = env.step(np.array([-2.0, 0.0], np.float32))  # 1 -> -2 m/s^2
    assert (r1, r2) == (pytest.approx(-1.0, rel=1e-12), pytest.approx(0.0, abs=1e-12))
    assert r3 == pytest.approx(-3.0, rel=1e-12)


def test_collision_gives_the_penalty_and_terminates_exactly_when_the_boxes_meet(blocked_yaml):
    env = SimcoreEnv(blocked_yaml, reward=dict(ONLY, collision=-7.0), normalize_actions=False, npc_speed_jitter=0.0)
    env.reset(seed=0)
    w = env.world
    e, k = w.ego, int(w.npc_idx[0])
    p = w.params
    prog = env.batch.field("progress")

    def gap():  # same straight lane: blocker's rear bumper minus ego's front bumper (m)
        return (prog[0, k] - p["rear_overhang"][k]) - (prog[0, e] + p["length"][e] - p["rear_overhang"][e])

    steps = 0
    for _ in range(200):
        steps += 1
        before = gap()
        _, r, term, trunc, info = env.step(np.zeros(2, np.float32))
        if term:
            break
        assert r == 0.0 and gap() > 0.0
    assert before > 0.0 >= gap() - 1e-9 and steps > 5
    assert r == -7.0 and info["termination"] == "collision" and not trunc


def test_timeout_truncates(straight_yaml):
    env = SimcoreEnv(straight_yaml, max_episode_steps=3, reward={"terminate_on_goal": False})
    env.reset(seed=0)
    flags = [env.step(np.zeros(2, np.float32))[2:4] for _ in range(3)]
    assert flags == [(False, False), (False, False), (False, True)]


def test_normalized_actions_map_to_the_vehicle_limits(straight_yaml):
    env = SimcoreEnv(straight_yaml)
    m = env.actions
    acc, steer = m.physical(np.array([[1.0, -1.0], [-0.5, 0.25], [3.0, 0.0], [np.nan, 0.0]]))
    assert acc[:3].tolist() == [m.max_accel, -0.5 * m.max_decel, m.max_accel]
    assert steer[:3].tolist() == [-m.max_steer, 0.25 * m.max_steer, 0.0]
    assert math.isnan(acc[3])


def test_nan_action_brakes(straight_yaml):
    env = SimcoreEnv(straight_yaml, normalize_actions=False)
    env.reset(seed=0)
    v0 = env.batch.field("speed")[0, env.world.ego]
    env.step(np.array([np.nan, 0.0], np.float32))
    v1 = env.batch.field("speed")[0, env.world.ego]
    assert v1 == pytest.approx(v0 - env.actions.max_decel * env.world.dt, rel=1e-9)


def test_batch_step_equals_the_engine_simulation_bit_for_bit():
    # The intersection with NPCs, walkers and signals: the gym step is the engine's step.
    loaded = load_scenario(resolve_scenario("signalized_intersection"))
    world = build_world(loaded)
    env = SimcoreEnv(build_world(loaded), normalize_actions=False, npc_speed_jitter=0.0, evaluation="full")
    env.reset(seed=0)
    light = SimcoreEnv(build_world(loaded), normalize_actions=False, npc_speed_jitter=0.0)
    light.reset(seed=0)
    sim = Simulation(world, Idle(), in_engine=False, record_every=0)
    rng = np.random.default_rng(1)
    for _ in range(120):
        a = np.array([rng.uniform(-3, 2), rng.uniform(-0.2, 0.2)])
        env.step(a.astype(np.float32))
        light.step(a.astype(np.float32))
        sim.step(Control(float(np.float32(a[0])), float(np.float32(a[1]))))
    for name in ("x", "y", "yaw", "speed", "progress", "active"):
        assert np.array_equal(env.batch.field(name)[0], getattr(world.state, name)), name
        assert np.array_equal(light.batch.field(name)[0], getattr(world.state, name)), name
    assert np.array_equal(env.batch.sig_state[0], sim.sig_state[0])
    # the evaluation rules and junction behaviour state too (per instance in the batch)
    # every array of the engine state is the same, instance 0 of the batch against the Simulation's
    # (the collision-pair memory has different capacities: its used part is compared)
    k = int(sim.state.n_touch[0, 0])
    for name, a, b in zip(env.batch.state._fields, env.batch.state, sim.state, strict=True):
        if name in ("touch_i", "touch_j"):
            a, b = a[:, :k], b[:, :k]
        assert np.array_equal(a[0], b[0], equal_nan=True), name
    assert np.isfinite(sim.state.arr_t).any()  # some vehicle arrived at a junction passage: the state is exercised


def test_object_list_matches_a_plain_python_reference(sparse_yaml):
    env = SimcoreEnv(sparse_yaml, obs_config={"objects": 3, "object_range_m": 40.0})
    obs, _ = env.reset(seed=2)
    for _ in range(30):
        obs, *_ = env.step(np.array([0.2, 0.05], np.float32))
    b = env.batch
    e = b.ego
    x, y, yaw, v = (b.field(f)[0] for f in ("x", "y", "yaw", "speed"))
    length, width, co = b.vp[1], b.vp[2], b.vp[4]
    ref = []
    for i in range(b.rows):
        if i == e or not b.field("active")[0, i]:
            continue
        cx, cy = x[i] + co[i] * math.cos(yaw[i]) - x[e], y[i] + co[i] * math.sin(yaw[i]) - y[e]
        d = math.hypot(cx, cy)
        if d <= 40.0:
            c, s = math.cos(yaw[e]), math.sin(yaw[e])
            dyaw = (yaw[i] - yaw[e] + math.pi) % (2 * math.pi) - math.pi
            ref.append((d, [c * cx + s * cy, -s * cx + c * cy, dyaw, v[i], length[i], width[i], b.kind[i]]))
    ref.sort(key=lambda t: t[0])
    assert len(ref) >= 1
    got = obs["objects"]
    for q, (_, row) in enumerate(ref[:3]):
        np.testing.assert_allclose(got[q], np.array(row, np.float32), rtol=1e-6, atol=1e-5)
        assert obs["objects_mask"][q] == 1
    assert obs["objects_mask"][len(ref) :].sum() == 0 and not got[len(ref) :].any()


def test_route_points_and_ego_features_on_a_straight_road(straight_yaml):
    env = SimcoreEnv(straight_yaml, obs_config={"route_points": 4, "route_spacing_m": 5.0})
    obs, _ = env.reset(seed=0)
    np.testing.assert_allclose(obs["route"][:, 0], [5, 10, 15, 20], atol=1e-4)
    np.testing.assert_allclose(obs["route"][:, 1], 0.0, atol=1e-4)
    ego = obs["ego"]
    assert ego[ok.EGO_SPEED] == pytest.approx(20.0) and ego[ok.EGO_SPEED_LIMIT] == pytest.approx(10.0)
    assert ego[ok.EGO_GOAL_DIST] == pytest.approx(env.world.routes.goal_s[env.world.ego] - 10.0, rel=1e-6)


def test_lidar_range_to_a_car_ahead_and_bev_pixels(blocked_yaml):
    env = SimcoreEnv(blocked_yaml, observation=("lidar", "bev"), obs_config={"lidar_beams": 8, "bev_resolution_m": 1.0})
    obs, _ = env.reset(seed=0)
    w = env.world
    e, k = w.ego, int(w.npc_idx[0])
    p = w.params
    # beam 0 points along the ego's heading (north), from its box centre to the blocker's rear face
    centre = 10.0 + p["center_offset"][e]
    expected = (45.0 - p["rear_overhang"][k]) - centre
    assert obs["lidar"][0] == pytest.approx(expected, abs=1e-4)
    # beams 2 and 6 point left (across the oncoming lane) and right: the road edge is 1.5 or
    # 0.5 lane widths + the 0.3 m kerb margin away, found within one 0.5 m march step
    assert 5.25 + 0.3 <= obs["lidar"][2] < 5.25 + 0.3 + 0.5
    assert 1.75 + 0.3 <= obs["lidar"][6] < 1.75 + 0.3 + 0.5
    bev = obs["bev"]
    h, wd = bev.shape[1:]
    row0 = int(0.75 * h)
    assert bev[ok.BEV_EGO, row0 - 2, wd // 2] == 255 and bev[ok.BEV_DRIVABLE, row0, wd // 2] == 255
    # the blocker's box centre, (45 - 10) m ahead of the ego's rear axle plus its centre offset, 1 m pixels
    ahead = 35.0 + p["center_offset"][k]
    assert bev[ok.BEV_ACTORS, int(row0 - ahead), wd // 2] == 255
    assert bev[ok.BEV_ACTORS, row0 - 2, wd // 2] == 0


def test_bad_configuration_is_refused_with_the_name(straight_yaml):
    with pytest.raises(ValueError, match="observation modes"):
        SimcoreEnv(straight_yaml, observation="camera")
    with pytest.raises(ValueError, match="unknown reward setting"):
        SimcoreEnv(straight_yaml, reward={"colision": -1.0})
    with pytest.raises(ValueError, match="unknown observation setting"):
        SimcoreEnv(straight_yaml, obs_config={"beams": 3})


def test_registered_ids_make_single_and_vector_envs():
    env = gym.make("simcore/SparseIntersection-v0")
    assert isinstance(env.unwrapped, SimcoreEnv)
    venv = gym.make_vec("simcore/SparseIntersection-v0", num_envs=3, vectorization_mode="vector_entry_point")
    assert isinstance(venv, VectorSimcoreEnv) and venv.num_envs == 3
    assert set(ENV_IDS) <= set(gym.registry)
