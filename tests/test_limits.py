"""Every resource limit lives in simcore.limits, is documented in docs/limits.md and can be overridden
(environment variable or ``limits.override``), map limits included."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from simcore import limits
from simcore.road import limits as road_limits

DOC = (Path(__file__).resolve().parents[1] / "docs" / "limits.md").read_text()


def test_every_limit_is_documented_with_its_default() -> None:
    for cls in (limits.Limits, limits.MapLimits):
        for f in dataclasses.fields(cls):
            assert f"| `{f.name}` |" in DOC, f"docs/limits.md does not list {cls.__name__}.{f.name}"


def test_map_limits_are_the_ones_the_road_package_reads() -> None:
    assert road_limits.MapLimits is limits.MapLimits and road_limits.map_limits is limits.map_limits


def test_overrides_in_order_of_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMCORE_LIMIT_MAX_ROADS", "7")
    monkeypatch.setenv("SIMCORE_LIMIT_MAX_ACTORS", "11")
    assert limits.map_limits().max_roads == 7 and limits.current().max_actors == 11
    monkeypatch.setenv(limits.MAP_ENV_VAR, "max_roads=8")
    assert limits.map_limits().max_roads == 8  # the map list over the single variable
    with limits.override(max_roads=9, max_actors=12, max_lidar_rays_per_s=1.0):
        assert limits.map_limits().max_roads == 9 and limits.current().max_actors == 12
        assert limits.current().max_lidar_rays_per_s == 1.0
    assert limits.map_limits().max_roads == 8 and limits.current().max_actors == 11
    with pytest.raises(TypeError, match="unknown limit"), limits.override(max_rods=1):
        pass
    monkeypatch.setenv("SIMCORE_LIMIT_MAX_POINTS", "-3")
    with pytest.raises(ValueError, match="SIMCORE_LIMIT_MAX_POINTS='-3' must be a positive finite number"):
        limits.map_limits()
