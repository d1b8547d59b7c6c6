"""Fixed-time traffic-signal plans evaluated at a simulation time."""

from __future__ import annotations

import math

from simcore._jit import inline_stage


@inline_stage
def signal_states(
    t, plan_cycle, plan_offset, plan_start, plan_t0, plan_state, override, out_state
):  # pragma: no cover - compiled
    """State of every signal group at time ``t`` (s) for every instance.

    The state of group g is the last interval of its plan whose start (s, within the
    cycle) is <= (t + offset_g) mod cycle_g. ``override[inst, g] >= 0`` replaces the plan
    (storyboard actions, manual control).

    Args:
        t: simulation time (s).
        plan_cycle, plan_offset: (n_groups,) s.
        plan_start: (n_groups+1,) CSR into plan_t0 / plan_state.
        plan_t0: (n_intervals,) s. plan_state: (n_intervals,) int8 SignalState.
        override: (n_inst, n_groups) int8, -1 where the plan rules.
        out_state: (n_inst, n_groups) int8.
    """
    n_inst = out_state.shape[0]
    for g in range(plan_cycle.shape[0]):
        tc = t + plan_offset[g]
        tc = tc - plan_cycle[g] * math.floor(tc / plan_cycle[g])
        st = plan_state[plan_start[g]]
        for k in range(plan_start[g], plan_start[g + 1]):
            if plan_t0[k] <= tc:
                st = plan_state[k]
        for inst in range(n_inst):
            out_state[inst, g] = override[inst, g] if override[inst, g] >= 0 else st
