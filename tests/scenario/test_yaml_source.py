"""Tests for simcore.scenario.yaml_source and simcore.scenario.errors."""

from __future__ import annotations

import pickle
import time
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from simcore.scenario.errors import Issue, ScenarioError, did_you_mean
from simcore.scenario.yaml_source import (
    MAX_BYTES,
    MAX_NODES,
    YamlDoc,
    format_path,
    issues_from_validation_error,
    load_yaml,
)


def load_error(text: str, name: str = "s.yaml") -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_yaml(name, text=text)
    return info.value


# --------------------------------------------------------------------------- errors module


def test_issue_str_with_and_without_path() -> None:
    assert str(Issue("f.yaml", 3, 7, "a.b[2]", "boom")) == "f.yaml:3:7: a.b[2]: boom"
    assert str(Issue("f.yaml", 1, 1, "", "empty")) == "f.yaml:1:1: empty"


def test_scenario_error_joins_issues_and_pickles() -> None:
    err = ScenarioError([Issue("f", 1, 2, "a", "x"), Issue("f", 3, 4, "", "y")])
    assert isinstance(err, ValueError)
    assert str(err) == "f:1:2: a: x\nf:3:4: y"
    again = pickle.loads(pickle.dumps(err))
    assert again.issues == err.issues
    single = ScenarioError.single("g", 5, 6, "p", "msg")
    assert single.issues == [Issue("g", 5, 6, "p", "msg")]
    with pytest.raises(ValueError):
        ScenarioError([])


def test_did_you_mean() -> None:
    assert did_you_mean("speed_kp", ["speed_kph", "vehicle"]) == " (did you mean 'speed_kph'?)"
    assert did_you_mean("zzz", ["speed_kph", "vehicle"]) == ""
    assert did_you_mean("x", []) == ""


# --------------------------------------------------------------------------- loading

DOC = """\
name: demo
actors:
  - id: ego
    speed: 12.5
    tags: [a, b]
  - id: lead
    behavior:
      idm:
        time_headway_s: 1.5
"""


def test_round_trip_data_and_marks() -> None:
    doc = load_yaml("demo.yaml", text=DOC)
    assert doc.file == "demo.yaml"
    assert doc.data == {
        "name": "demo",
        "actors": [
            {"id": "ego", "speed": 12.5, "tags": ["a", "b"]},
            {"id": "lead", "behavior": {"idm": {"time_headway_s": 1.5}}},
        ],
    }
    m = doc.marks
    assert m[()] == (1, 1)
    assert m[("name",)] == (1, 7)
    assert m[("name", "<key>")] == (1, 1)
    assert m[("actors",)] == (3, 3)  # the block sequence starts at its first '-'
    assert m[("actors", 0)] == (3, 5)
    assert m[("actors", 0, "id")] == (3, 9)
    assert m[("actors", 0, "speed")] == (4, 12)
    assert m[("actors", 0, "tags")] == (5, 11)
    assert m[("actors", 0, "tags", 0)] == (5, 12)
    assert m[("actors", 0, "tags", 1)] == (5, 15)
    assert m[("actors", 1, "behavior", "<key>")] == (7, 5)
    assert m[("actors", 1, "behavior", "idm", "time_headway_s")] == (9, 25)
    assert m[("actors", 1, "behavior", "idm", "time_headway_s", "<key>")] == (9, 9)


def test_mark_and_issue_helpers() -> None:
    doc = load_yaml("demo.yaml", text=DOC)
    # longest existing prefix
    assert doc.mark(("actors", 1, "behavior", "nope", 3)) == (8, 7)  # block map starts at "idm"
    assert doc.mark(("unknown",)) == (1, 1)
    empty = YamlDoc("x", {}, {})
    assert empty.mark(("a", "b")) == (1, 1)

    path = ("actors", 1, "behavior", "idm", "time_headway_s")
    assert doc.issue(path, "bad") == Issue("demo.yaml", 9, 25, "actors[1].behavior.idm.time_headway_s", "bad")
    at_key = doc.issue(path, "bad", at_key=True)
    assert (at_key.line, at_key.col) == (9, 9)
    assert doc.issue((), "top").path == ""


def test_format_path() -> None:
    assert format_path(("actors", 2, "behavior", "idm", "time_headway_s")) == ("actors[2].behavior.idm.time_headway_s")
    assert format_path((0, "a")) == "[0].a"
    assert format_path(("a", "b", "<key>")) == "a.b"
    assert format_path(()) == ""


def test_scalar_resolution_is_safe_loader_like() -> None:
    doc = load_yaml("t.yaml", text="f: 1.5\ni: 42\nh: 0x10\nb: true\nn: ~\ne:\ns: '12'\nd: 2024-01-01\ninf: .inf\n")
    assert doc.data == {
        "f": 1.5,
        "i": 42,
        "h": 16,
        "b": True,
        "n": None,
        "e": None,
        "s": "12",
        "d": "2024-01-01",  # timestamps stay text
        "inf": float("inf"),
    }
    assert type(doc.data["i"]) is int
    assert type(doc.data["f"]) is float


def test_load_from_file_path(tmp_path) -> None:
    path = tmp_path / "scn.yaml"
    path.write_text(DOC, encoding="utf-8")
    doc = load_yaml(path)
    assert doc.file == str(path)
    assert doc.data["actors"][0]["tags"] == ["a", "b"]
    assert doc.marks[("actors", 0, "tags", 1)] == (5, 15)


def test_duplicate_key_located_at_second_occurrence() -> None:
    err = load_error("a: 1\nb:\n  c: 2\n  c: 3\n")
    assert len(err.issues) == 1
    issue = err.issues[0]
    assert (issue.line, issue.col) == (4, 3)
    assert issue.path == "b.c"
    assert issue.message == "duplicate key 'c' (first defined at line 3)"
    assert str(issue) == "s.yaml:4:3: b.c: duplicate key 'c' (first defined at line 3)"


def test_all_issues_reported_together() -> None:
    err = load_error("x: 1\ny: 2\nx: 3\nz:\n  k: 1\n  k: 2\nw: !!python/name:os.system ''\n")
    assert [(i.line, i.col, i.path) for i in err.issues] == [(3, 1, "x"), (6, 3, "z.k"), (7, 4, "w")]
    assert "duplicate key 'x' (first defined at line 1)" in err.issues[0].message
    assert "duplicate key 'k' (first defined at line 5)" in err.issues[1].message
    assert len(str(err).splitlines()) == 3


def test_syntax_error_located() -> None:
    err = load_error("ok: 1\nbad: b: c\n")
    assert len(err.issues) == 1
    issue = err.issues[0]
    assert (issue.line, issue.col) == (2, 7)
    assert issue.message.startswith("invalid YAML: mapping values are not allowed here")


def test_unclosed_flow_sequence_is_a_syntax_error() -> None:
    err = load_error("a: [1, 2\nb: 3\n")
    assert err.issues[0].message.startswith("invalid YAML:")
    assert err.issues[0].line >= 2


def test_multiple_documents_refused() -> None:
    err = load_error("a: 1\n---\nb: 2\n")
    assert err.issues[0].line == 2
    assert "single document" in err.issues[0].message


def _billion_laughs(levels: int = 9, width: int = 9) -> str:
    lines = ["l0: &l0 [" + ", ".join(['"lol"'] * width) + "]"]
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_refused_quickly() -> None:
    text = _billion_laughs()
    start = time.perf_counter()
    err = load_error(text)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0
    assert len(err.issues) == 1
    assert err.issues[0].message.endswith(f"document expands to more than {MAX_NODES} nodes (alias bomb?)")


def test_small_alias_use_is_expanded() -> None:
    doc = load_yaml("a.yaml", text="base: &b {x: 1, y: [2, 3]}\nuse: *b\nboth: [*b, *b]\n")
    expected = {"x": 1, "y": [2, 3]}
    assert doc.data["use"] == expected
    assert doc.data["both"] == [expected, expected]
    # expanded copies are independent plain objects
    doc.data["use"]["y"].append(4)
    assert doc.data["base"]["y"] == [2, 3]
    # alias values are located at the anchored node
    assert doc.marks[("use", "x")] == doc.marks[("base", "x")] == (1, 14)


def test_recursive_alias_refused() -> None:
    err = load_error("a: &a [1, *a]\n")
    assert "recursive alias" in err.issues[0].message
    assert err.issues[0].path == "a[1]"


def test_deep_alias_chain_refused_without_crashing() -> None:
    text = "a0: &a0 [1]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 400))
    err = load_error(text)
    assert len(err.issues) == 1
    assert "nesting is deeper than" in err.issues[0].message


def test_deeply_nested_flow_refused_without_crashing() -> None:
    err = load_error("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert err.issues[0].message  # either a nesting error or a syntax error, never a crash


def test_merge_keys_supported() -> None:
    doc = load_yaml(
        "m.yaml",
        text=(
            "defaults: &d {speed: 10, lane: left}\n"
            "other: &o {lane: right, color: red}\n"
            "car: {<<: [*d, *o], speed: 20}\n"
        ),
    )
    assert doc.data["car"] == {"speed": 20, "lane": "left", "color": "red"}
    assert doc.marks[("car", "speed")] == (3, 28)
    assert doc.marks[("car", "lane")] == (1, 32)  # comes from the 'defaults' anchor


def test_bad_merge_value_refused() -> None:
    err = load_error("a: {<<: 3}\n")
    assert "merge key '<<'" in err.issues[0].message


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("a: !!python/object/apply:os.system ['echo hi']\n", "!!python/object/apply:os.system"),
        ("a: 1\nb: !!python/object:builtins.dict {}\n", "!!python/object:builtins.dict"),
        ("a: !foo 3\n", "!foo"),
        ("a: !!set {x, y}\n", "!!set"),
        ("a: !!binary aGVsbG8=\n", "!!binary"),
    ],
)
def test_non_standard_tags_refused(text: str, tag: str) -> None:
    err = load_error(text)
    issue = err.issues[0]
    assert issue.message == f"tag {tag!r} is not allowed"
    assert (issue.line, issue.col) == (text.count("\n", 0, text.index("!")) + 1, 4)


def test_invalid_explicit_scalar_refused() -> None:
    err = load_error("a: !!int abc\n")
    assert err.issues[0].message == "invalid !!int value 'abc'"


def test_non_string_keys_refused() -> None:
    err = load_error("1: a\n? [x]\n: b\nok: c\n")
    assert [(i.line, i.col) for i in err.issues] == [(1, 1), (2, 3)]
    assert all("keys must be strings" in i.message for i in err.issues)


@pytest.mark.parametrize("text", ["- 1\n- 2\n", "just text\n", "42\n"])
def test_non_mapping_top_level_refused(text: str) -> None:
    err = load_error(text)
    assert "expected a mapping at the top level" in err.issues[0].message
    assert (err.issues[0].line, err.issues[0].col) == (1, 1)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file(text: str) -> None:
    err = load_error(text)
    assert [str(i) for i in err.issues] == ["s.yaml:1:1: empty file, expected a mapping"]


def test_missing_file(tmp_path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as info:
        load_yaml(path)
    issue = info.value.issues[0]
    assert (issue.file, issue.line, issue.col) == (str(path), 1, 1)
    assert "No such file" in issue.message


def test_oversized_text_and_file(tmp_path) -> None:
    big = "a: " + "x" * MAX_BYTES + "\n"
    err = load_error(big)
    assert "larger than" in err.issues[0].message
    path = tmp_path / "big.yaml"
    path.write_text(big, encoding="utf-8")
    with pytest.raises(ScenarioError, match="larger than"):
        load_yaml(path)


def test_non_utf8_file(tmp_path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(ScenarioError) as info:
        load_yaml(path)
    issue = info.value.issues[0]
    assert "not valid UTF-8" in issue.message
    assert (issue.line, issue.col) == (2, 7)


def test_control_character_refused() -> None:
    err = load_error("a: 1\nb: x\x00y\n")
    assert (err.issues[0].line, err.issues[0].col) == (2, 5)
    assert "unacceptable character" in err.issues[0].message


# --------------------------------------------------------------------------- pydantic mapping


class Actor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    vehicle: str
    speed_kph: float = Field(default=10.0, gt=0)
    lane: Literal["left", "right"] = "left"

    @field_validator("id")
    @classmethod
    def _no_reserved_id(cls, value: str) -> str:
        if value == "world":
            raise ValueError("id 'world' is reserved")
        return value


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    actors: list[Actor]


SCN = """\
name: t
actors:
  - id: ego
    vehicle: car
    speed_kph: -1
  - id: lead
    vehicle: car
    speed_kp: 30
    lane: middle
  - id: other
    speed_kph: 5
"""


def _validate(model: type[BaseModel], doc: YamlDoc) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        model.model_validate(doc.data)
    return info.value


def test_validation_errors_are_located_and_readable() -> None:
    doc = load_yaml("scn.yaml", text=SCN)
    issues = issues_from_validation_error(_validate(Scenario, doc), doc, Scenario)
    assert sorted(str(i) for i in issues) == sorted(
        [
            "scn.yaml:5:16: actors[0].speed_kph: expected a number > 0, got -1",
            "scn.yaml:8:5: actors[1].speed_kp: unknown key 'speed_kp' (did you mean 'speed_kph'?)",
            "scn.yaml:9:11: actors[1].lane: expected one of 'left', 'right', got 'middle'",
            "scn.yaml:10:5: actors[2]: missing required key 'vehicle'",
        ]
    )


def test_unknown_key_without_model_has_no_suggestion() -> None:
    doc = load_yaml("scn.yaml", text=SCN)
    issues = issues_from_validation_error(_validate(Scenario, doc), doc)
    unknown = [i for i in issues if i.message.startswith("unknown key")]
    assert [(i.line, i.col, i.message) for i in unknown] == [(8, 5, "unknown key 'speed_kp'")]


def test_type_and_value_errors() -> None:
    text = "name: t\nactors:\n  - {id: world, vehicle: car, speed_kph: fast}\n"
    doc = load_yaml("v.yaml", text=text)
    issues = issues_from_validation_error(_validate(Scenario, doc), doc, Scenario)
    by_path = {i.path: i for i in issues}
    assert by_path["actors[0].speed_kph"].message == "expected a number, got 'fast'"
    assert (by_path["actors[0].speed_kph"].line, by_path["actors[0].speed_kph"].col) == (3, 42)
    assert by_path["actors[0].id"].message == "id 'world' is reserved"


def test_wrong_container_types() -> None:
    doc = load_yaml("w.yaml", text="name: [1]\nactors: {a: 1}\n")
    issues = issues_from_validation_error(_validate(Scenario, doc), doc, Scenario)
    assert {i.path: i.message for i in issues} == {
        "name": "expected a string, got a list",
        "actors": "expected a list, got a mapping",
    }


class Idm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["idm"]
    time_headway_s: float = Field(gt=0)


class Stop(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["stop"]
    at_m: float


class Agent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    behavior: Annotated[Idm | Stop, Field(discriminator="kind")]
    limits: dict[str, Stop] = {}
    knob: int | bool | None = None


class Root(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agents: list[Agent] | None = None


def test_discriminated_union_and_nested_containers() -> None:
    text = """\
agents:
  - behavior:
      kind: idm
      time_headway_s: -2
      time_headway: 1
  - behavior: {kind: zoom}
    limits:
      a: {kind: stop, at_m: 1, at: 2}
    knob: [1]
"""
    doc = load_yaml("u.yaml", text=text)
    issues = issues_from_validation_error(_validate(Root, doc), doc, Root)
    got = {(i.path, i.line, i.col): i.message for i in issues}
    assert got == {
        ("agents[0].behavior.time_headway_s", 4, 23): "expected a number > 0, got -2",
        ("agents[0].behavior.time_headway", 5, 7): ("unknown key 'time_headway' (did you mean 'time_headway_s'?)"),
        ("agents[1].behavior.kind", 6, 22): ("expected kind to be one of 'idm', 'stop', got 'zoom'"),
        ("agents[1].limits.a.at", 8, 32): "unknown key 'at' (did you mean 'at_m'?)",
        ("agents[1].knob", 9, 11): "expected an integer or true or false, got a list",
    }


def test_libyaml_and_python_composers_give_the_same_data_and_marks(monkeypatch):
    """load_yaml composes with libyaml when it can (15x faster): same values and (line, col) of every
    value and key as PyYAML's Python composer, on every YAML file of the catalogs and tests."""
    from pathlib import Path

    import yaml

    from simcore.yamlio.source import load_yaml

    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML without libyaml: only the Python composer exists")
    root = Path(__file__).resolve().parents[2]
    files = sorted(p for d in ("scenarios", "vehicles", "tests") for p in (root / d).rglob("*.y*ml"))
    fast, checked = {}, 0
    for f in files:
        try:
            fast[f] = load_yaml(f)
        except ScenarioError:
            continue  # a bad file: the Python composer reports it either way
    monkeypatch.setattr(yaml, "__with_libyaml__", False)
    for f, doc in fast.items():
        slow = load_yaml(f)
        assert (doc.data, doc.marks) == (slow.data, slow.marks), f
        checked += 1
    assert checked >= 80
