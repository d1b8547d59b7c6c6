"""Layering rules of the core (docs/architecture.md): kernel modules stay pure."""

import ast
from pathlib import Path

import simcore

PKG = Path(simcore.__file__).parent
ALLOWED_KERNEL_IMPORTS = {"math", "numpy", "simcore._jit", "simcore._types", "__future__"}


def _kernel_modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if p.name.endswith("_kernels.py") or p.name == "kernels.py")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def _is_kernel_module(name: str) -> bool:
    return name.startswith("simcore.") and (name.endswith("_kernels") or name.endswith(".kernels"))


def test_there_are_kernel_modules():
    assert len(_kernel_modules()) >= 6


def test_kernel_modules_import_only_math_numpy_jit_and_other_kernels():
    for path in _kernel_modules():
        bad = {m for m in _imports(path) if m not in ALLOWED_KERNEL_IMPORTS and not _is_kernel_module(m)}
        assert not bad, f"{path.relative_to(PKG.parent)} imports {sorted(bad)}"


def test_only_jit_module_imports_numba():
    for path in PKG.rglob("*.py"):
        if path.name == "_jit.py":
            continue
        assert not any(m == "numba" or m.startswith("numba.") for m in _imports(path)), path


def test_every_module_starts_with_a_docstring():
    for path in PKG.rglob("*.py"):
        if "data" in path.relative_to(PKG).parts:
            continue
        assert ast.get_docstring(ast.parse(path.read_text())), f"{path} has no module docstring"


def test_scenario_loading_never_uses_unsafe_yaml_loaders():
    for path in PKG.rglob("*.py"):
        text = path.read_text()
        assert "yaml.load(" not in text and "yaml.unsafe_load" not in text and "FullLoader" not in text, path
        assert "eval(" not in text.replace("model_validate(", ""), path


# -- layering between packages ------------------------------------------------------------
#: Packages (and top-level modules) of simcore from the bottom up. A module may import its own
#: package and any package of a LOWER layer, never one of its own layer or above. This is the
#: dependency order of /work/shared/ARCHITECTURE.md as built: road, dynamics and sensors know
#: nothing of scenario files (they load their own YAML through yamlio); behaviour, sensors and
#: agents sit below scenario because the scenario builder builds them.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"_jit", "_types", "_data", "_files", "rng", "limits", "units"}),
    frozenset({"yamlio", "geometry", "environment", "state", "_startup"}),
    frozenset({"dynamics", "road"}),
    frozenset({"rules", "record", "behavior"}),
    frozenset({"world"}),
    frozenset({"sensors", "agents"}),
    frozenset({"scenario"}),
    frozenset({"evaluation", "cueing"}),
    frozenset({"runner"}),
    frozenset({"render", "gym"}),
    frozenset({"report"}),
    frozenset({"api"}),
    frozenset({"batch", "map_cli", "drive", "replay", "server"}),
    frozenset({"cli"}),
    frozenset({"__main__", "__init__"}),
)


def _layer(name: str) -> int:
    for k, layer in enumerate(LAYERS):
        if name in layer:
            return k
    raise AssertionError(f"simcore.{name} has no layer: add it to LAYERS in tests/test_architecture.py")


def _package_imports() -> list[tuple[str, str, str]]:
    """(importing package, imported package, file) for every import of another simcore package."""
    out = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).parts
        if rel[0] == "data":
            continue
        src = rel[0].removesuffix(".py")
        for mod in _imports(path):
            parts = mod.split(".")
            if parts[0] == "simcore" and len(parts) > 1 and parts[1] != src:
                out.append((src, parts[1], str(path.relative_to(PKG.parent))))
    return out


def test_imports_point_down_the_layers():
    imports = _package_imports()
    assert imports, "no simcore imports found"
    upward = [f"{f}: {a} -> {b}" for a, b, f in imports if _layer(b) >= _layer(a)]
    assert not upward, "imports of a package of the same or a higher layer:\n" + "\n".join(sorted(set(upward)))


def test_the_layer_check_sees_an_upward_import():
    # road importing scenario or render is what the check must refuse
    assert _layer("scenario") > _layer("road") and _layer("scenario") > _layer("dynamics")
    assert _layer("render") > _layer("road") and _layer("scenario") > _layer("sensors")


# -- kernels' integer constants against the enums they stand for ---------------------------
def test_kernel_constants_equal_the_enums():
    from simcore._types import ActorKind, SignalState
    from simcore.behavior import driver_kernels, junction_kernels, pedestrian_kernels
    from simcore.evaluation import metrics_kernels, rules_kernels
    from simcore.evaluation.events import EventKind
    from simcore.gym import batch_kernels
    from simcore.runner import step_kernels

    for mod in (driver_kernels, junction_kernels, pedestrian_kernels, metrics_kernels):
        for name in ("RED", "AMBER", "GREEN", "RED_AMBER"):
            if hasattr(mod, name):
                assert getattr(mod, name) == SignalState[name], (mod.__name__, name)
    assert step_kernels.PEDESTRIAN == ActorKind.PEDESTRIAN
    events = {
        "EV_COLLISION": EventKind.COLLISION,
        "EV_OFFROAD": EventKind.OFFROAD,
        "EV_RED_LIGHT": EventKind.RED_LIGHT,
        "EV_GOAL": EventKind.GOAL_REACHED,
        "EV_ROUTE_DONE": EventKind.ROUTE_DONE,
        "EV_WRONG_WAY": EventKind.WRONG_WAY,
        "EV_STOP_SIGN": EventKind.STOP_SIGN,
        "EV_SPEEDING": EventKind.SPEEDING,
        "EV_ROUTE_DEVIATION": EventKind.ROUTE_DEVIATION,
        "EV_BLOCKED": EventKind.BLOCKED,
    }
    seen = 0
    for mod in (step_kernels, metrics_kernels, rules_kernels, batch_kernels):
        for name in dir(mod):
            if name.startswith("EV_"):
                assert name in events, f"{mod.__name__}.{name} has no EventKind here"
                assert getattr(mod, name) == events[name], (mod.__name__, name)
                seen += 1
    assert seen >= len(events)


def _kernel_int_constants() -> dict[str, dict[str, int]]:
    """Module-level integer constants (``NAME = 3``) of every kernel module, by module name."""
    import importlib

    out: dict[str, dict[str, int]] = {}
    for path in _kernel_modules():
        name = "simcore." + ".".join(path.relative_to(PKG).with_suffix("").parts)
        mod = importlib.import_module(name)
        out[name] = {
            k: getattr(mod, k)
            for k in vars(mod)
            if k.isupper() and isinstance(getattr(mod, k), int) and not isinstance(getattr(mod, k), bool)
        }
    return out


def test_every_kernel_constant_named_like_an_enum_member_equals_it():
    """Across all kernel modules (new ones included): a constant named like a SignalState,
    ActorKind or LaneType member, or ``EV_<EventKind>``, has that member's value."""
    from simcore._types import ActorKind, LaneType, SignalState
    from simcore.evaluation.events import EventKind

    aliases = {"EV_GOAL": EventKind.GOAL_REACHED}  # the kernels' short name
    checked = 0
    for mod, consts in _kernel_int_constants().items():
        for name, value in consts.items():
            for enum in (SignalState, ActorKind, LaneType):
                if name in enum.__members__:
                    assert value == enum[name], (mod, name, value)
                    checked += 1
            if name.startswith("EV_"):
                want = aliases.get(name) or EventKind.__members__.get(name[3:])
                assert want is not None, f"{mod}.{name} has no EventKind"
                assert value == want, (mod, name, value)
                checked += 1
    assert checked >= 30  # signal states, PEDESTRIAN in three modules, the event codes of five modules


def test_kernel_codes_of_python_tables_and_enums():
    """Codes a kernel compares with values the Python side builds from an enum or a name table."""
    from simcore._types import StopRule
    from simcore.behavior import junction_kernels as jk
    from simcore.gym import batch_kernels as bk
    from simcore.gym.env import END_NAMES

    assert jk.PS_STOP_SIGN == 1 + StopRule.STOP  # ps_stop = 1 + the hold line's StopRule
    ends = {k: v for k, v in vars(bk).items() if k.startswith("END_")}
    assert set(END_NAMES) == set(ends.values()) and len(set(ends.values())) == len(ends)
    assert len(set(END_NAMES.values())) == len(END_NAMES)
    terms = sorted(v for k, v in vars(bk).items() if k.startswith("T_") and k != "T_")
    assert terms == list(range(bk.N_TERMS))  # reward terms: slots 0..N_TERMS-1, each once
