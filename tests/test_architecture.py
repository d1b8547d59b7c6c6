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
