"""VectorSimcoreEnv: equal to N single envs step for step, NEXT_STEP autoreset, gymnasium's vector API."""

from pathlib import Path

import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from simcore.evaluation import metrics_kernels as mk
from simcore.gym import SimcoreEnv, VectorSimcoreEnv


def _eq(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    return np.array_equal(a, b)


def _row(obs, j):
    return {k: v[j] for k, v in obs.items()} if isinstance(obs, dict) else obs[j]


@pytest.mark.parametrize("observation", ["objects", ("objects", "bev", "lidar")])
def test_vector_env_equals_n_single_envs_bit_for_bit_through_autoresets(sparse_yaml, observation):
    n, seed = 4, 11
    kw = dict(observation=observation, max_episode_steps=25, obs_config={"bev_size": (24, 24), "lidar_beams": 12})
    venv = VectorSimcoreEnv(sparse_yaml, n, **kw)
    singles = [SimcoreEnv(sparse_yaml, **kw) for _ in range(n)]
    vobs, _ = venv.reset(seed=seed)
    sobs = [env.reset(seed=seed + j)[0] for j, env in enumerate(singles)]
    for j in range(n):
        assert _eq(_row(vobs, j), sobs[j])
    rng = np.random.default_rng(0)
    pending = [False] * n
    ends = 0
    for _ in range(70):
        ends += _step_both(venv, singles, rng.uniform(-1, 1, (n, 2)).astype(np.float32), pending)
    assert ends >= n  # every instance went through at least one autoreset


def _step_both(venv, singles, actions, pending) -> int:
    """One step of the vector env and of each single env (NEXT_STEP autoreset); asserts equality,
    updates ``pending``, returns the number of episodes that ended."""
    vobs, vrew, vterm, vtrunc, _ = venv.step(actions)
    ends = 0
    for j, env in enumerate(singles):
        if pending[j]:  # NEXT_STEP autoreset: this step only resets
            o, _ = env.reset()
            r, term, trunc = 0.0, False, False
        else:
            o, r, term, trunc, _ = env.step(actions[j])
        assert _eq(_row(vobs, j), o)
        assert vrew[j] == r and vterm[j] == term and vtrunc[j] == trunc
        pending[j] = term or trunc
        ends += term or trunc
    return ends


def test_next_step_autoreset_semantics(sparse_yaml):
    venv = VectorSimcoreEnv(sparse_yaml, 2, max_episode_steps=3)
    assert venv.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    first, _ = venv.reset(seed=0)
    zero = np.zeros((2, 2), np.float32)
    for k in range(3):
        obs, rew, term, trunc, info = venv.step(zero)
        assert info["step"].tolist() == [k + 1, k + 1]
    assert trunc.all() and not term.any()
    # next step: both reset, action ignored, reward 0, flags False, initial observation again
    obs, rew, term, trunc, info = venv.step(np.ones((2, 2), np.float32))
    assert info["step"].tolist() == [0, 0] and not rew.any() and not term.any() and not trunc.any()
    assert np.array_equal(obs["ego"], first["ego"]) and np.array_equal(obs["objects"], first["objects"])
    obs, rew, term, trunc, info = venv.step(zero)
    assert info["step"].tolist() == [1, 1] and rew.any()


def test_only_the_finished_instance_is_reset(blocked_yaml):
    # instance 0 brakes hard, instance 1 drives on into the standing car and terminates
    venv = VectorSimcoreEnv(blocked_yaml, 2, normalize_actions=False)
    venv.reset(seed=0)
    act = np.array([[-8.0, 0.0], [0.0, 0.0]], np.float32)
    for _ in range(200):
        _, _, term, _, info = venv.step(act)
        if term.any():
            break
    assert term.tolist() == [False, True]
    steps_before = info["step"].copy()
    _, rew, term, _, info = venv.step(act)
    assert info["step"][1] == 0 and info["step"][0] == steps_before[0] + 1 and rew[1] == 0.0


def test_spaces_are_batched_and_observations_inside(sparse_yaml):
    venv = VectorSimcoreEnv(sparse_yaml, 5, observation="lidar", obs_config={"lidar_beams": 10})
    obs, _ = venv.reset(seed=1)
    assert obs.shape == (5, 10) and venv.observation_space.contains(obs)
    assert venv.action_space.shape == (5, 2)
    obs, *_ = venv.step(venv.action_space.sample())
    assert venv.observation_space.contains(obs)


def test_seed_list_and_wrong_action_shape(sparse_yaml):
    venv = VectorSimcoreEnv(sparse_yaml, 2)
    a, _ = venv.reset(seed=[7, 3])
    b, _ = VectorSimcoreEnv(sparse_yaml, 2).reset(seed=[7, 3])
    assert all(np.array_equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="expected actions of shape"):
        venv.step(np.zeros((3, 2), np.float32))


def test_threads_give_the_same_results_as_one_thread(sparse_yaml):
    a = VectorSimcoreEnv(sparse_yaml, 7, max_episode_steps=15)
    b = VectorSimcoreEnv(sparse_yaml, 7, max_episode_steps=15, threads=3)
    assert b.batch.chunks == [(0, 2), (2, 5), (5, 7)]
    oa, _ = a.reset(seed=4)
    ob, _ = b.reset(seed=4)
    assert all(np.array_equal(oa[k], ob[k]) for k in oa)
    rng = np.random.default_rng(2)
    for _ in range(40):
        act = rng.uniform(-1, 1, (7, 2)).astype(np.float32)
        ra, rb = a.step(act), b.step(act)
        assert all(np.array_equal(ra[0][k], rb[0][k]) for k in ra[0])
        assert all(np.array_equal(x, y) for x, y in zip(ra[1:4], rb[1:4], strict=True))
    b.close()
    assert b.batch._pool is None


@pytest.mark.parametrize("scenario", ["grid_crosstown", "signalized_intersection"])
def test_light_evaluation_reports_what_the_full_engine_step_reports(scenario):
    # advance(scoring=False) skips only score-only evaluation: states, reward terms and end codes must be
    # the engine advance's bit for bit, through collisions (with buildings in the city grid),
    # off-road and resets.
    n = 6
    city = scenario == "grid_crosstown"
    kw = dict(max_episode_steps=100 if city else 60, npc_speed_jitter=0.2)
    if city:  # drive on off the road into the buildings
        kw["reward"] = {"terminate_on_offroad": False}
    full = VectorSimcoreEnv(scenario, n, evaluation="full", **kw)
    light = VectorSimcoreEnv(scenario, n, **kw)
    assert light.batch.light and not full.batch.light
    full.reset(seed=3)
    light.reset(seed=3)
    rng = np.random.default_rng(5)
    codes = set()
    building_contacts = 0
    for k in range(200 if city else 150):
        a = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
        a[:, 0] = np.abs(a[:, 0])  # keep moving: leave the road, hit things
        if city:
            a[:, 1] = np.where(np.arange(n) % 2, 0.6, -0.6) * (k % 100 > 20)
        of, rf, tf, uf, inf = full.step(a)
        ol, rl, tl, ul, inl = light.step(a)
        assert _eq(of, ol) and np.array_equal(rf, rl) and np.array_equal(tf, tl) and np.array_equal(uf, ul)
        assert np.array_equal(full.batch.terms, light.batch.terms)
        assert np.array_equal(inf["end_code"], inl["end_code"])
        for name in ("x", "y", "yaw", "speed", "progress", "lateral", "active", "done"):
            assert np.array_equal(full.batch.field(name), light.batch.field(name)), name
        static_obj = full.batch.metrics[:, mk.M_STATIC_OBJ]
        assert np.array_equal(static_obj, light.batch.metrics[:, mk.M_STATIC_OBJ])
        building_contacts += int((static_obj >= 0).sum())
        codes.update(full.batch.end.tolist())
    if city:
        assert building_contacts > 0 and 1 in codes  # the static-object path was exercised
    else:
        assert {1, 2} <= codes  # collisions and off-road happened: the comparison covered them


def test_unknown_evaluation_mode_is_refused(sparse_yaml):
    with pytest.raises(ValueError, match="evaluation"):
        VectorSimcoreEnv(sparse_yaml, 1, evaluation="fast")


STORY = """\
storyboard:
  - name: go
    when: {time_s: 0.3}
    do: {speed: {actor: blocker, target: 6, shape: cubic, duration: 1.5}}
  - when: {all: [{after: go}, {distance: {between: [ego, blocker], below_m: 30}}]}
    do: {lane_change: {actor: blocker, direction: left, duration: 2}}
  - when: {speed: {actor: blocker, above_mps: 5.9}}
    do: {stop: {actor: blocker, decel: 3}}
"""


def test_vector_env_equals_single_envs_on_a_storyboard_scenario(blocked_yaml, tmp_path):
    path = tmp_path / "story.yaml"
    path.write_text(Path(blocked_yaml).read_text() + STORY)
    n, seed = 3, 5
    venv = VectorSimcoreEnv(str(path), n, max_episode_steps=40)
    singles = [SimcoreEnv(str(path), max_episode_steps=40) for _ in range(n)]
    assert venv.batch.static.sb_act.shape[0] == 3  # the storyboard runs compiled
    vobs, _ = venv.reset(seed=seed)
    for j, env in enumerate(singles):
        assert _eq(_row(vobs, j), env.reset(seed=seed + j)[0])
    rng = np.random.default_rng(3)
    pending = [False] * n
    for _ in range(60):
        _step_both(venv, singles, rng.uniform(-0.3, 0.3, (n, 2)).astype(np.float32), pending)
        for name in ("story_done", "story_fired", "prof", "route_x"):
            for j, env in enumerate(singles):
                assert np.array_equal(getattr(venv.batch.state, name)[j], getattr(env.batch.state, name)[0],
                                      equal_nan=True), name  # fmt: skip
    done = venv.batch.state.story_done
    assert done[:, 0].any() and done[:, 2].any()  # the speed action and the stop fired in some instance


ENDING = """\
storyboard:
  - name: wet
    when: {time_s: 0.2}
    do: {weather: {rain_mm_h: 3}}
  - when: {all: [{after: wet}, {compare: {measure: time, rule: ge, value: 0.5}}]}
    do: {end: scripted_end}
"""


def test_a_storyboard_end_terminates_the_episode(blocked_yaml, tmp_path):
    """The end entry fires at the check at t = 0.5 s (step 5 of 0.1 s): every instance's episode is
    terminated there (not truncated), whatever the actions; the weather entry fires and changes nothing."""
    from simcore.gym.batch import END_STORY

    path = tmp_path / "ending.yaml"
    path.write_text(Path(blocked_yaml).read_text() + ENDING)
    venv = VectorSimcoreEnv(str(path), 2, max_episode_steps=100)
    env = SimcoreEnv(str(path), max_episode_steps=100)
    venv.reset(seed=1)
    env.reset(seed=1)
    rng = np.random.default_rng(0)
    for k in range(1, 6):
        a = rng.uniform(-0.3, 0.3, (2, 2)).astype(np.float32)
        _, _, term, trunc, info = venv.step(a)
        _, _, term1, trunc1, info1 = env.step(a[0])
        assert list(term) == [k == 5] * 2 and not trunc.any() and term1 == (k == 5) and not trunc1
    assert list(info["end_code"]) == [END_STORY] * 2 and info1["termination"] == "storyboard"
    assert env.batch.state.story_done[0].all()
    venv.step(np.zeros((2, 2), np.float32))  # autoreset: the storyboard starts over
    assert not venv.batch.state.story_done.any()
