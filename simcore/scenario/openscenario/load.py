"""Read a .xosc (scenario or ParameterValueDistribution) and translate it (see ``translate``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from simcore import limits
from simcore.rng import generator
from simcore.road.errors import MapError
from simcore.scenario.errors import Issue, did_you_mean
from simcore.scenario.openscenario.positions import MapView, load_map
from simcore.scenario.openscenario.resolve import Catalogs, resolve_catalogs, substitute
from simcore.scenario.openscenario.translate import Translator
from simcore.scenario.openscenario.xml import XNode, parse_xml
from simcore.scenario.yaml_source import YamlDoc

#: Most variants a distribution may expand to.


def root_folder(path: Path) -> Path:
    """Folder that files a .xosc names must lie in: the parent of its folder (esmini keeps ``xosc/``,
    ``xodr/`` and ``Catalogs/`` side by side)."""
    return path.resolve().parent.parent


def _inside(path: Path) -> Any:
    root = root_folder(path)

    def check(node: XNode, target: Path) -> Path:
        t = target.resolve()
        try:
            t.relative_to(root)
        except ValueError:
            raise node.error(f"{target} resolves outside {root}, the folder .xosc references must stay in") from None
        return t

    return check


def _root(node: XNode) -> XNode:
    if node.tag != "OpenSCENARIO":
        raise node.error(f"the root element is <{node.tag}>, expected <OpenSCENARIO>")
    return node


# ----------------------------------------------------------------------------- distributions


def _values(node: XNode) -> list[str]:
    ds = node.kid("DistributionSet")
    if ds is not None:
        return [e.attrs.get("value", "") for e in ds.kids("Element")]
    dr = node.kid("DistributionRange")
    if dr is not None:
        r = dr.kid("Range")
        step = float(dr.attrs.get("stepWidth", "0") or 0)
        if r is None or step <= 0:
            raise dr.error("DistributionRange needs a Range and a stepWidth > 0")
        lo, hi = float(r.attrs.get("lowerLimit", "0")), float(r.attrs.get("upperLimit", "0"))
        n = int(np.floor((hi - lo) / step + 1e-9)) + 1
        if n > limits.current().max_variants:
            raise dr.error(f"the range holds {n} values, more than {limits.current().max_variants} (limits.md)")
        return [repr(lo + k * step) for k in range(max(n, 0))]
    raise node.error("expected DistributionSet or DistributionRange")


def distribution_sets(dist: XNode) -> list[list[dict[str, str]]]:
    """The deterministic factors of a distribution: each a list of parameter assignments."""
    det = dist.kid("Deterministic")
    factors: list[list[dict[str, str]]] = []
    for d in det.children if det is not None else []:
        if d.tag == "DeterministicSingleParameterDistribution":
            name = d.attrs.get("parameterName", "")
            factors.append([{name: v} for v in _values(d)])
        elif d.tag == "DeterministicMultiParameterDistribution":
            vs = d.kid("ValueSetDistribution")
            sets = vs.kids("ParameterValueSet") if vs is not None else []
            factors.append(
                [
                    {a.attrs.get("parameterRef", ""): a.attrs.get("value", "") for a in s.kids("ParameterAssignment")}
                    for s in sets
                ]
            )
        else:
            raise d.error(f"<{d.tag}> is not supported yet")
    return factors


def _draw(node: XNode, rng: np.random.Generator) -> str:
    kind = node.first()
    if kind is None:
        raise node.error("empty StochasticDistribution")
    if kind.tag == "UniformDistribution":
        r = kind.kid("Range")
        if r is None:
            raise kind.error("UniformDistribution needs a Range")
        return repr(float(rng.uniform(float(r.attrs["lowerLimit"]), float(r.attrs["upperLimit"]))))
    if kind.tag == "NormalDistribution":
        v = float(rng.normal(float(kind.attrs["expectedValue"]), float(kind.attrs["variance"]) ** 0.5))
        r = kind.kid("Range")
        if r is not None:
            v = float(np.clip(v, float(r.attrs["lowerLimit"]), float(r.attrs["upperLimit"])))
        return repr(v)
    if kind.tag == "ProbabilityDistributionSet":
        els = kind.kids("Element")
        w = np.array([float(e.attrs.get("weight", "1")) for e in els])
        if not els or w.sum() <= 0:
            raise kind.error("ProbabilityDistributionSet needs elements with positive weights")
        return els[int(rng.choice(len(els), p=w / w.sum()))].attrs.get("value", "")
    raise kind.error(f"<{kind.tag}> is not supported yet (uniform, normal and probability sets are)")


def variant_count(path: Path) -> int:
    """Variants a .xosc expands to: 1 for a scenario; the deterministic combinations or stochastic runs."""
    root = _root(parse_xml(path))
    dist = root.kid("ParameterValueDistribution")
    if dist is None:
        return 1
    sto = dist.kid("Stochastic")
    if sto is not None:
        return max(int(float(sto.attrs.get("numberOfTestRuns", "1"))), 1)
    n = 1
    for f in distribution_sets(dist):
        n *= max(len(f), 1)
    return n


def distribution_variants(path: Path, seed: int) -> list[dict[str, str]]:
    """Parameter values of every variant of a .xosc (one empty set for a plain scenario)."""
    root = _root(parse_xml(path))
    dist = root.kid("ParameterValueDistribution")
    if dist is None:
        return [{}]
    n = variant_count(path)
    if n > limits.current().max_variants:
        raise dist.error(f"expands to {n} variants, more than {limits.current().max_variants} (limits.md)")
    return [distribution_values(dist, seed, v) for v in range(n)]


def distribution_values(dist: XNode, seed: int, variant: int) -> dict[str, str]:
    """Parameter values of one variant: mixed-radix digits of ``variant`` over the deterministic factors
    (the first varies fastest), or draws from the stream (seed, variant, "parameters")."""
    sto = dist.kid("Stochastic")
    if sto is not None:
        rng = generator(seed, variant, "parameters")
        return {d.attrs.get("parameterName", ""): _draw(d, rng) for d in sto.kids("StochasticDistribution")}
    out: dict[str, str] = {}
    rest = variant
    for f in distribution_sets(dist):
        if not f:
            continue
        out.update(f[rest % len(f)])
        rest //= len(f)
    return out


# ----------------------------------------------------------------------------- scenario


def translate_file(
    path: Path, *, seed: int = 0, variant: int = 0, overrides: dict[str, Any] | None = None, ego: str | None = None
) -> tuple[YamlDoc, list[Issue]]:
    """Scenario data of ``path`` (variant ``variant`` of a distribution) and the elements not honoured."""
    root = _root(parse_xml(path))
    inside = _inside(path)
    given: dict[str, Any] = {}
    file_seed = 0
    dist = root.kid("ParameterValueDistribution")
    if dist is not None:
        sf = dist.kid("ScenarioFile")
        if sf is None:
            raise dist.error("ParameterValueDistribution needs a ScenarioFile")
        sto = dist.kid("Stochastic")
        if sto is not None and "randomSeed" in sto.attrs:
            file_seed = int(float(sto.attrs["randomSeed"]))
        given = dict(distribution_values(dist, seed, variant))
        path = inside(sf, path.parent / sf.attrs.get("filepath", ""))
        if not path.is_file():
            raise sf.error(f"scenario file {sf.attrs.get('filepath')!r} not found")
        root = _root(parse_xml(path))
    given.update(overrides or {})
    decls = root.kid("ParameterDeclarations")
    declared = [d.attrs.get("name", "") for d in (decls.kids() if decls is not None else [])]
    for name in given:
        if name not in declared:
            raise root.error(f"parameter {name!r} is not declared{did_you_mean(name, declared)}")
    substitute(root, {}, given)
    resolve_catalogs(root, Catalogs(root, path.parent, inside))
    rn = root.kid("RoadNetwork")
    logic = rn.kid("LogicFile") if rn is not None else None
    if logic is None or not logic.attrs.get("filepath"):
        raise (rn or root).error("a RoadNetwork with an OpenDRIVE LogicFile is needed")
    ref = logic.attrs["filepath"]
    xodr = inside(logic, path.parent / ref)
    if not xodr.is_file():
        raise logic.error(f"OpenDRIVE file {ref!r} not found (looked at {xodr})")
    try:
        odr, net = load_map(xodr)
    except MapError as exc:
        raise logic.error(f"the map does not load: {exc}") from None
    tr = Translator(root, path, ref, MapView(odr, net), ego)
    data = tr.run()
    data["seed"] = file_seed
    return YamlDoc(str(path), data, dict(tr.marks)), tr.ignored


@lru_cache(maxsize=4)
def _schema(xsd: str) -> Any:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(xsd, parser))


def check_schema(path: Path) -> list[Issue]:
    """XSD problems of ``path`` against the ASAM schema of its version (the XSDs ship with the
    ``scenariogeneration`` package); empty when the package or lxml is absent."""
    try:
        import scenariogeneration
        from lxml import etree
    except ImportError:
        return []
    root = parse_xml(path)  # the safe parse first: nothing unsafe reaches lxml
    head = root.kid("FileHeader")
    minor = head.attrs.get("revMinor", "0") if head is not None else "0"
    folder = Path(scenariogeneration.__file__).resolve().parent.parent / "schemas"
    xsd = {"0": "OpenSCENARIO_1_0.xsd", "1": "OpenSCENARIO_1_1.xsd", "2": "OpenSCENARIO_1_2.xsd"}.get(
        minor, "OpenSCENARIO_1_3_1.xsd"
    )
    if not (folder / xsd).is_file():
        return []
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    schema = _schema(str(folder / xsd))
    doc = etree.fromstring(path.read_bytes(), parser)
    if schema.validate(doc):
        return []
    return [Issue(str(path), e.line, e.column + 1, "", f"XSD {xsd}: {e.message}") for e in list(schema.error_log)[:20]]
