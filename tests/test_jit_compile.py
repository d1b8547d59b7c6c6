"""How ``simcore._jit`` keeps a first run's compile small: constants passed to a kernel share its
specialisation, and a stage marked ``apart`` keeps its own machine code (its compiled callers call its
address), also after the caller is loaded from the disk cache in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from simcore._jit import stage

_MODULE = '''
import numpy as np
from simcore._jit import apart, stage

@stage
def scaled_sum(a, b, k):
    s = 0.0
    for i in range(a.shape[0]):
        b[i] = a[i] * k
        s += b[i]
    return s, a.shape[0]

apart(scaled_sum)

@stage
def caller(a, b):
    t = 0.0
    for k in range(3):
        s, n = scaled_sum(a, b, k)
        t += s + n
    return t
'''

_RUN = '''
import numpy as np
import apart_mod
a, b = np.arange(5.0), np.zeros(5)
print(apart_mod.caller(a, b), b.tolist())
print(len(apart_mod.caller.stats.cache_hits), len(apart_mod.scaled_sum.stats.cache_hits))
if not apart_mod.caller.stats.cache_hits:  # compiled here: its code
    ir = apart_mod.caller.inspect_llvm(apart_mod.caller.signatures[0]).splitlines()
    print(sum(1 for l in ir if l.startswith("define") and "scaled_sum" in l),
          sum(1 for l in ir if l.startswith("declare") and "simcore_apart_" in l))
'''


@stage
def _put(a, n, kind, b):
    a[n] = kind + b
    return n + 1


@stage
def _puts(a):
    n = _put(a, 0, 3, -1)
    n = _put(a, n, 5, 7)
    return _put(a, n, 20, -1)


def test_constant_arguments_share_one_specialisation():
    a = np.zeros(4, np.int64)
    assert _puts(a) == 3
    assert a.tolist() == [2, 12, 19, 0]
    # one specialisation for the three calls: the constants are typed int64, not Literal[int](3), ...
    assert len(_put.signatures) == 1
    assert "Literal" not in str(_put.signatures[0])


def test_a_stage_apart_keeps_its_own_code_and_loads_from_the_cache(tmp_path: Path):
    """Same result; the caller's code does not hold the stage's; a second process loads both from disk."""
    (tmp_path / "apart_mod.py").write_text(textwrap.dedent(_MODULE))
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(root), os.environ.get("PYTHONPATH", "")])}  # fmt: skip
    runs = [subprocess.run([sys.executable, "-c", _RUN], capture_output=True, text=True, env=env, check=True,
                           cwd=tmp_path).stdout.split("\n") for _ in range(2)]  # fmt: skip
    expect = f"{3 * 5 + (0 + 1 + 2) * 10.0} {[2.0 * v for v in range(5)]}"  # sums of 0, a, 2a plus 5 each
    assert runs[0][0] == runs[1][0] == expect
    assert runs[0][1] == "0 0"  # first process: both compiled
    assert runs[0][2] == "0 1"  # the caller's code: no definition of the stage, one declaration of its address
    assert runs[1][1] == "1 1"  # second: the caller loaded from disk, and the stage it calls loaded first
