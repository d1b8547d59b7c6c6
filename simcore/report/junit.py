"""JUnit XML: one test case per run (scenario variant x agent), as CI systems read it.

Layout (valid against the common JUnit schemas, Ant's and Jenkins' junit-10.xsd)::

    <testsuites name tests failures errors skipped time>
      <testsuite name tests=1 failures errors skipped=0 time timestamp hostname id package>
        <properties><property name value/>...</properties>     seed, variant, agent, scores
        <testcase classname=SCENARIO_FILE name=SCENARIO[VARIANT] time=WALL_S>
          <failure message type>failed criteria, their values, when</failure>  (or <error>)
          <system-out>one-line summary</system-out>
        </testcase>
        <system-out/><system-err/>
      </testsuite>
    </testsuites>

Properties sit on the test suite because the schemas allow no properties on a test case;
each run therefore has its own one-case suite.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from simcore._files import write_new

#: Characters XML 1.0 cannot carry at all (ElementTree escapes <, >, & and quotes itself).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

#: Event kinds reported as the reason of a criterion's failure.
_CRITERION_EVENTS = {
    "no_collision": ("collision",),
    "no_red_light": ("red_light",),
    "no_offroad": ("offroad",),
    "reach_goal": ("agent_failure", "bad_control", "collision"),
    "no_agent_failure": ("agent_failure",),
    "no_bad_control": ("bad_control",),
}


def xml_text(value: Any) -> str:
    """``str(value)`` with the characters XML 1.0 forbids replaced by U+FFFD."""
    return _XML_ILLEGAL.sub("\ufffd", str(value))


@dataclass
class JUnitCase:
    """One test case: a run, a failed run, or a run that could not happen (error)."""

    classname: str
    name: str
    time: float
    failure: tuple[str, str] | None = None  # (message, text)
    error: tuple[str, str] | None = None  # (message, text)
    properties: dict[str, Any] = field(default_factory=dict)
    system_out: str = ""
    timestamp: str = ""


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def display_path(path: str) -> str:
    """``path`` relative to the working directory when it lies below it, else unchanged."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else Path(rel).as_posix()


def case_name(data: dict[str, Any], agent_label: str | None = None) -> str:
    """``scenario[variant]``, with `` (agent_label)`` appended when a suite compares agents."""
    name = f"{data.get('scenario', '?')}[{data.get('variant', 0)}]"
    return f"{name} ({agent_label})" if agent_label else name


def case_from_result(
    data: dict[str, Any],
    *,
    wall_time: float | None = None,
    agent_label: str | None = None,
    min_ttc_time: float | None = None,
) -> JUnitCase:
    """The test case of one run from its result.json data (``Result.to_json()``).

    A failed run gets a ``<failure>`` listing every failed criterion with its value and
    threshold, the events behind it with their simulated times, and how the run ended.
    """
    wall = wall_time if wall_time is not None else float(data.get("wall_time_s") or 0.0)
    props: dict[str, Any] = {
        "seed": data.get("seed"),
        "variant": data.get("variant"),
        "agent": data.get("agent"),
        "termination": data.get("termination"),
        "sim_time_s": data.get("sim_time_s"),
    }
    for k, v in sorted((data.get("parameters") or {}).items()):
        props[f"parameter.{k}"] = v
    score = data.get("score") or {}
    props["score"] = score.get("value")
    for k, v in sorted((data.get("scores") or {}).items()):
        props[f"score.{k}"] = v
    end = f"{data.get('termination', '?')} at t={_fmt(data.get('sim_time_s'))} s"
    summary = (
        f"{'PASS' if data.get('passed') else 'FAIL'} score {_fmt(score.get('value'))} "
        f"seed {data.get('seed')} agent {data.get('agent')}; {end}"
    )
    failed = [c for c in data.get("criteria", []) if not c.get("passed")]
    failure = None
    if failed:
        lines = []
        for c in failed:
            thr = "" if c.get("threshold") is None else f" (threshold {_fmt(c['threshold'])})"
            line = f"{c['name']}: value {_fmt(c.get('value'))}{thr}"
            kinds = _CRITERION_EVENTS.get(c["name"], ())
            times = [e for e in data.get("events", []) if e.get("kind") in kinds]
            if times:
                line += "; " + ", ".join(
                    f"{e['kind']} {'/'.join(e.get('actors', []))} at t={e['time_s']:.2f} s"
                    + (f" ({e['detail']})" if e.get("detail") else "")
                    for e in times[:10]
                )
            if c["name"] == "min_ttc_s" and min_ttc_time is not None:
                line += f"; minimum at t={min_ttc_time:.2f} s"
            lines.append(line)
        lines.append(f"run ended: {end}")
        message = f"failed {', '.join(c['name'] for c in failed)}; {end}"
        failure = (message, "\n".join(lines))
    return JUnitCase(
        classname=display_path(str(data.get("scenario_file", ""))),
        name=case_name(data, agent_label),
        time=wall,
        failure=failure,
        properties=props,
        system_out=summary,
    )


def error_case(
    classname: str,
    name: str,
    message: str,
    detail: str = "",
    time: float = 0.0,
    properties: dict[str, Any] | None = None,
) -> JUnitCase:
    """A test case for a run that could not be done (invalid scenario, crashed worker)."""
    props = {k: v for k, v in (properties or {}).items() if v is not None}
    return JUnitCase(classname=classname, name=name, time=time, error=(message, detail or message), properties=props)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def junit_tree(cases: Iterable[JUnitCase], name: str = "simcore") -> ET.ElementTree:
    """The XML tree of ``cases`` (see the module docstring for the layout)."""
    cases = list(cases)
    root = ET.Element("testsuites")
    n_fail = sum(c.failure is not None and c.error is None for c in cases)
    n_err = sum(c.error is not None for c in cases)
    root.attrib.update(
        name=xml_text(name),
        tests=str(len(cases)),
        failures=str(n_fail),
        errors=str(n_err),
        skipped="0",
        time=f"{sum(c.time for c in cases):.3f}",
    )
    host = xml_text(os.uname().nodename if hasattr(os, "uname") else "localhost") or "localhost"
    for k, c in enumerate(cases):
        suite = ET.SubElement(root, "testsuite")
        suite.attrib.update(
            name=xml_text(f"{c.classname}::{c.name}"),
            tests="1",
            failures=str(int(c.failure is not None and c.error is None)),
            errors=str(int(c.error is not None)),
            skipped="0",
            time=f"{c.time:.3f}",
            timestamp=c.timestamp or _now(),
            hostname=host,
            id=str(k),
            package=xml_text(c.classname),
        )
        props = ET.SubElement(suite, "properties") if c.properties else None  # never empty (schema)
        for pk, pv in c.properties.items():
            ET.SubElement(props, "property", name=xml_text(pk), value=xml_text("" if pv is None else pv))  # type: ignore[arg-type]
        case = ET.SubElement(suite, "testcase", classname=xml_text(c.classname), name=xml_text(c.name))
        case.set("time", f"{c.time:.3f}")
        if c.error is not None:
            el = ET.SubElement(case, "error", message=xml_text(c.error[0]), type="simcore.error")
            el.text = xml_text(c.error[1])
        elif c.failure is not None:
            el = ET.SubElement(case, "failure", message=xml_text(c.failure[0]), type="simcore.criteria")
            el.text = xml_text(c.failure[1])
        if c.system_out:
            ET.SubElement(case, "system-out").text = xml_text(c.system_out)
        ET.SubElement(suite, "system-out")
        ET.SubElement(suite, "system-err")
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(cases: Iterable[JUnitCase], path: Path, name: str = "simcore") -> Path:
    """Write ``cases`` as a JUnit XML file (UTF-8, with declaration)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    root = junit_tree(cases, name).getroot()
    assert root is not None
    return write_new(path, ET.tostring(root, encoding="utf-8", xml_declaration=True))
