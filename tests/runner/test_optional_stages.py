"""Optional stages of the compiled step (``_jit.optional``, ``runner.engine.Uses``): a stage a scenario
does not use is left out of its specialisation of ``advance`` and never compiled on its first run."""

from __future__ import annotations

from typing import Any, NamedTuple

import numba
import numpy as np
import pytest

from simcore._jit import optional
from simcore.api import simulation
from simcore.runner.engine import Uses


class _Flags(NamedTuple):
    work: Any


def _stage_and_caller() -> tuple[Any, Any]:
    """A fresh (uncached) stage and a compiled caller that reaches it only through its flag."""

    @numba.njit(cache=False)
    def work(a, k):
        a[:] += k
        return a.shape[0] * 10 + k

    work_if = optional(work)

    @numba.njit(cache=False)
    def caller(flags, a, k):
        return work_if(flags.work, -1, a, k)

    return work, caller


def test_a_stage_is_compiled_and_called_only_where_its_flag_is_a_bool():
    work, caller = _stage_and_caller()
    a = np.zeros(3)
    assert caller(_Flags(None), a, 2) == -1  # ``otherwise``
    assert not a.any()
    assert work.signatures == []  # typed away: the stage was never compiled
    for flag in (True, False):  # a bool compiles the stage in, whatever its value
        expected = a.copy()
        ref = work.py_func(expected, 2)  # the plain Python function on a copy
        assert caller(_Flags(flag), a, 2) == ref == 30 + 2
        np.testing.assert_array_equal(a, expected)
        assert len(work.signatures) == 1


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("urban/bus_at_stop", Uses(story=None, single_track=None, pedestrians=None, scripted=None)),
        ("urban/cut_in", Uses(story=True, single_track=None, pedestrians=None, scripted=None)),
        (
            "urban/signalized_intersection_night_rain",
            Uses(story=None, single_track=True, pedestrians=True, scripted=None),
        ),
    ],
)
def test_uses_name_exactly_the_stages_with_rows(scenario, expected):
    static = simulation(scenario).static
    assert static.uses == expected
    # the same facts read from the row sets and the storyboard table
    assert (static.uses.story is True) == (static.sb_act.shape[0] > 0)
    assert (static.uses.single_track is True) == (static.veh_idx_st.shape[0] > 0)
    assert (static.uses.pedestrians is True) == (static.ped_idx.shape[0] > 0)
    assert (static.uses.scripted is True) == (static.scripted_idx.shape[0] > 0)
