"""Safe YAML loading that records the 1-based line:col of every value and reports located issues."""

from __future__ import annotations

import collections.abc
import os
import stat
import types
import typing
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import pydantic
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from simcore.yamlio.errors import Issue, ScenarioError, did_you_mean

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "YamlDoc",
    "format_path",
    "issues_from_validation_error",
    "load_yaml",
]

MAX_BYTES = 5 * 1024 * 1024
"""Largest accepted scenario file, in bytes (UTF-8)."""
MAX_NODES = 100_000
"""Most nodes one document may expand to; every alias use counts its whole subtree again."""
MAX_DEPTH = 200
"""Deepest accepted nesting of sequences/mappings (aliases can chain into deep trees)."""

KEY = "<key>"
"""Last element of a marks path that locates a mapping entry's key rather than its value."""

_T = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_T + n for n in ("str", "int", "float", "bool", "null"))
_TIMESTAMP, _VALUE, _MERGE = (_T + n for n in ("timestamp", "value", "merge"))
_SEQ, _MAP = _T + "seq", _T + "map"
# Plain scalars that SafeLoader would turn into non-JSON objects are kept as their source text.
_TEXT_TAGS = frozenset({_STR, _TIMESTAMP, _VALUE, _MERGE})

Path = tuple[Any, ...]


def format_path(path: Path) -> str:
    """Format a key path tuple as ``a.b[2].c`` (a trailing ``"<key>"`` marker is ignored)."""
    out = ""
    for elem in path:
        if elem == KEY:
            continue
        if isinstance(elem, int) and not isinstance(elem, bool):
            out += f"[{elem}]"
        else:
            out += f".{elem}" if out else str(elem)
    return out


@dataclass(frozen=True)
class YamlDoc:
    """Plain data loaded from one YAML file plus the 1-based (line, col) of each value and key."""

    file: str
    data: Any
    marks: dict[tuple, tuple[int, int]]

    def mark(self, path: tuple) -> tuple[int, int]:
        """Location of ``path``: exact match, else its longest recorded prefix, else (1, 1)."""
        path = tuple(path)
        for end in range(len(path), -1, -1):
            found = self.marks.get(path[:end])
            if found is not None:
                return found
        return (1, 1)

    def issue(self, path: tuple, message: str, at_key: bool = False) -> Issue:
        """Build an :class:`Issue` located at ``path`` (at its key when ``at_key`` and known)."""
        path = tuple(path)
        if path and path[-1] == KEY:
            path, at_key = path[:-1], True
        pos = self.marks.get((*path, KEY)) if at_key and path else None
        line, col = pos if pos is not None else self.mark(path)
        return Issue(self.file, line, col, format_path(path), message)


# --------------------------------------------------------------------------- loading


def _pos(mark: yaml.Mark | None) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_T) :] if tag.startswith(_T) else tag


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return f"the scalar {node.value!r}"


class _Fatal(Exception):
    """Stops the walk at once (expansion or depth limit hit)."""

    def __init__(self, node: Node, path: Path, message: str) -> None:
        super().__init__(message)
        self.node, self.path, self.message = node, path, message


class _Walker:
    """Turns a composed node graph into plain data, recording marks and collecting issues."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.marks: dict[tuple, tuple[int, int]] = {}
        self.issues: list[Issue] = []
        self.count = 0
        self.active: set[int] = set()  # ids of collection nodes on the current walk stack
        self.ctor = yaml.SafeLoader("")  # used only for its safe scalar constructors

    def add(self, node: Node, path: Path, message: str) -> None:
        line, col = _pos(node.start_mark)
        self.issues.append(Issue(self.file, line, col, format_path(path), message))

    def visit(self, node: Node, path: Path) -> None:
        self.count += 1
        if self.count > MAX_NODES:
            raise _Fatal(node, path, f"document expands to more than {MAX_NODES} nodes (alias bomb?)")

    def enter(self, node: Node, path: Path, depth: int) -> bool:
        """Guard against recursive aliases and over-deep nesting; True if ``node`` may be walked."""
        if id(node) in self.active:
            self.add(node, path, "recursive alias: a node contains itself")
            return False
        if depth > MAX_DEPTH:
            raise _Fatal(node, path, f"nesting is deeper than {MAX_DEPTH} levels")
        self.active.add(id(node))
        return True

    def value(self, node: Node, path: Path, depth: int) -> Any:
        self.visit(node, path)
        self.marks[path] = _pos(node.start_mark)
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        expected = _SEQ if isinstance(node, SequenceNode) else _MAP
        if node.tag != expected:
            self.add(node, path, f"tag {_short_tag(node.tag)!r} is not allowed")
            return None
        if not self.enter(node, path, depth):
            return None
        try:
            if isinstance(node, SequenceNode):
                return [self.value(child, (*path, i), depth + 1) for i, child in enumerate(node.value)]
            result: dict[str, Any] = {}
            for key, key_node, value_node in self.entries(node, path, depth):  # type: ignore[arg-type]
                key_path = (*path, key, KEY)
                self.marks[key_path] = _pos(key_node.start_mark)
                result[key] = self.value(value_node, (*path, key), depth + 1)
            return result
        finally:
            self.active.discard(id(node))

    def scalar(self, node: ScalarNode, path: Path) -> Any:
        tag = node.tag
        if tag in _TEXT_TAGS:
            return node.value
        if tag == _NULL:
            return None
        build = {
            _INT: self.ctor.construct_yaml_int,
            _FLOAT: self.ctor.construct_yaml_float,
            _BOOL: self.ctor.construct_yaml_bool,
        }.get(tag)
        if build is None:
            self.add(node, path, f"tag {_short_tag(tag)!r} is not allowed")
            return None
        try:
            return build(node)
        except (ValueError, KeyError, IndexError, TypeError):
            self.add(node, path, f"invalid {_short_tag(tag)} value {node.value!r}")
            return None

    def key(self, node: Node, path: Path) -> str | None:
        if not isinstance(node, ScalarNode):
            self.add(node, path, f"keys must be strings, got {_kind(node)}")
            return None
        value = self.scalar(node, path)
        if value is None and node.tag != _NULL:
            return None  # bad tag, already reported
        if not isinstance(value, str):
            self.add(node, path, f"keys must be strings, got {node.value!r} (quote it to use it as text)")
            return None
        return value

    def entries(self, node: MappingNode, path: Path, depth: int) -> list[tuple[str, Node, Node]]:
        """Effective (key, key node, value node) entries of a mapping, with ``<<`` merges applied.

        Explicit keys win over merged ones; among merge sources the earlier one wins (YAML 1.1).
        """
        explicit: list[tuple[str, Node, Node]] = []
        first_line: dict[str, int] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            self.visit(key_node, path)
            if isinstance(key_node, ScalarNode) and key_node.tag == _MERGE:
                merges.append(value_node)
                continue
            key = self.key(key_node, path)
            if key is None:
                continue
            if key in first_line:
                self.add(key_node, (*path, key), f"duplicate key {key!r} (first defined at line {first_line[key]})")
                continue
            first_line[key] = key_node.start_mark.line + 1
            explicit.append((key, key_node, value_node))
        present = set(first_line)
        for merge_node in merges:
            for source in self.merge_sources(merge_node, path):
                if not self.enter(source, path, depth + 1):
                    continue
                try:
                    for entry in self.entries(source, path, depth + 1):
                        if entry[0] not in present:
                            present.add(entry[0])
                            explicit.append(entry)
                finally:
                    self.active.discard(id(source))
        return explicit

    def merge_sources(self, node: Node, path: Path) -> list[MappingNode]:
        self.visit(node, path)
        items = node.value if isinstance(node, SequenceNode) and node.tag == _SEQ else [node]
        sources: list[MappingNode] = []
        for item in items:
            if item is not node:
                self.visit(item, path)
            if isinstance(item, MappingNode) and item.tag == _MAP:
                sources.append(item)
            else:
                self.add(item, path, "merge key '<<' expects a mapping or a list of mappings")
        return sources


def _read_text(file: str) -> str:
    try:
        if not stat.S_ISREG(os.stat(file).st_mode):  # a FIFO or device would block the read forever
            raise ScenarioError.single(file, 1, 1, "", "not a regular file (a FIFO, device or folder)")
        with open(file, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ScenarioError.single(file, 1, 1, "", f"cannot read file: {exc.strerror or exc}") from exc
    if len(raw) > MAX_BYTES:
        raise ScenarioError.single(file, 1, 1, "", f"file is larger than {MAX_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = raw.rfind(b"\n", 0, exc.start) + 1
        line = raw.count(b"\n", 0, exc.start) + 1
        col = len(raw[start : exc.start].decode("utf-8", "replace")) + 1
        raise ScenarioError.single(
            file, line, col, "", f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})"
        ) from None


def _line_col(text: str, index: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - start + 1


def _compose(file: str, text: str) -> Node | None:
    # PyYAML's pure-Python scanner is quadratic in flow nesting (seconds at 1,500 levels):
    # refuse deep nesting first with libyaml's parser, which stops at the first level too many.
    too_deep = _too_deep(text, yaml.CSafeLoader) if yaml.__with_libyaml__ else None
    if too_deep is not None:
        raise ScenarioError.single(file, *too_deep, "", f"nesting is deeper than {MAX_DEPTH} levels (refused here)")
    if yaml.__with_libyaml__ and not yaml.reader.Reader.NON_PRINTABLE.search(text):
        # libyaml's composer: the same nodes with the same line/column marks, ~15x faster; a text
        # it refuses goes on to the Python composer below, whose messages say what and where.
        with suppress(yaml.YAMLError):
            return yaml.compose(text, Loader=yaml.CSafeLoader)
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line, col = _pos(exc.problem_mark or exc.context_mark)
        message = f"invalid YAML: {exc.problem or exc.context or 'syntax error'}"
        if exc.context and exc.context_mark is not None and exc.problem_mark is not None:
            message += f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise ScenarioError.single(file, line, col, "", message) from None
    except yaml.reader.ReaderError as exc:
        line, col = _line_col(text, exc.position)
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise ScenarioError.single(
            file, line, col, "", f"invalid YAML: unacceptable character #x{char:04x}: {exc.reason}"
        ) from None
    except RecursionError:
        line, col = _too_deep(text, yaml.SafeLoader) or (1, 1)
        message = f"nesting is deeper than {MAX_DEPTH} levels (refused here)"
        raise ScenarioError.single(file, line, col, "", message) from None

    except yaml.YAMLError as exc:
        raise ScenarioError.single(file, 1, 1, "", f"invalid YAML: {exc}") from None


def _too_deep(text: str, loader: Any) -> tuple[int, int] | None:
    """(line, col) of the first collection nested deeper than MAX_DEPTH, found with the event
    parser of ``loader`` (which, unlike the composer, does not recurse); None if there is none
    (or the text has another problem, which the composer reports)."""
    depth = -1  # the top-level mapping is depth 0, as in _Walker
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return _pos(event.start_mark)  # type: ignore[arg-type]  # libyaml's Mark: same fields
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem) and exc.problem_mark is not None:
            return _pos(exc.problem_mark)
    except (yaml.YAMLError, RecursionError):
        pass
    return None


def _dedupe(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple[int, int, str]] = set()
    out = []
    for issue in issues:
        key = (issue.line, issue.col, issue.message)
        if key not in seen:
            seen.add(key)
            out.append(issue)
    return out


def load_yaml(source: str | os.PathLike[str], *, text: str | None = None) -> YamlDoc:
    """Load one YAML mapping safely, remembering where every value came from.

    If ``text`` is given, ``source`` is only the file name used in messages. Every problem
    (syntax, duplicate or non-string keys, disallowed tags, alias bombs, recursive aliases,
    size) is reported as a located :class:`Issue`; all of them are raised together as one
    :class:`ScenarioError`.
    """
    file = os.fsdecode(source)
    if text is None:
        text = _read_text(file)
    elif len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise ScenarioError.single(file, 1, 1, "", f"file is larger than {MAX_BYTES} bytes")

    root = _compose(file, text)
    if root is None or (isinstance(root, ScalarNode) and root.tag == _NULL and not root.value):
        raise ScenarioError.single(file, 1, 1, "", "empty file, expected a mapping")
    if not isinstance(root, MappingNode):
        line, col = _pos(root.start_mark)
        raise ScenarioError.single(file, line, col, "", f"expected a mapping at the top level, got {_kind(root)}")

    walker = _Walker(file)
    try:
        data = walker.value(root, (), 0)
    except _Fatal as fatal:
        line, col = _pos(fatal.node.start_mark)
        raise ScenarioError.single(file, line, col, format_path(fatal.path), fatal.message) from None
    if walker.issues:
        raise ScenarioError(sorted(_dedupe(walker.issues), key=lambda i: (i.line, i.col)))
    return YamlDoc(file, data, walker.marks)


# --------------------------------------------------------------------------- pydantic errors


def _show(value: Any) -> str:
    """Render an offending input the way a YAML author would recognise it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _doc_path(loc: tuple[Any, ...], data: Any) -> Path:
    """Map a pydantic ``loc`` onto the data, dropping items (union tags etc.) not in the data.

    A union tag may also be a key of the data (an actor's tag ``vehicle`` beside its key
    ``vehicle: suv``): of the ways to read ``loc``, the one matching its later items wins, so
    ``count`` of that actor is located at its ``count``, not at ``vehicle``."""

    memo: dict[tuple[int, int], tuple[int, tuple[Any, ...]]] = {}  # (i, id(cur)): linear, not 2^len(loc)

    def best(i: int, cur: Any) -> tuple[int, tuple[Any, ...]]:
        """(score: sum of 1 + index of each matched item, path) of the best reading of loc[i:]."""
        if i == len(loc):
            return 0, ()
        if (i, id(cur)) in memo:
            return memo[i, id(cur)]
        item = loc[i]
        skip = best(i + 1, cur)
        key: Any
        if isinstance(cur, dict) and isinstance(item, str) and item in cur:
            key, nxt = item, cur[item]
        elif isinstance(cur, list) and isinstance(item, int) and -len(cur) <= item < len(cur):
            key, nxt = item % len(cur), cur[item % len(cur)]
        else:
            return skip
        score, rest = best(i + 1, nxt)
        take = (score + i + 1, (key, *rest))
        memo[i, id(cur)] = take if take[0] >= skip[0] else skip
        return memo[i, id(cur)]

    return best(0, data)[1]


_SEQUENCE_ORIGINS = (
    list,
    tuple,
    set,
    frozenset,
    collections.abc.Sequence,
    collections.abc.MutableSequence,
    collections.abc.Set,
    collections.abc.Iterable,
)
_MAPPING_ORIGINS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)


def _flatten(tps: list[Any]) -> list[Any]:
    """Unwrap Annotated / Optional / unions into their member types."""
    out: list[Any] = []
    todo = list(tps)
    while todo:
        tp = todo.pop(0)
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            todo.insert(0, typing.get_args(tp)[0])
        elif origin is typing.Union or origin is types.UnionType:
            todo[:0] = list(typing.get_args(tp))
        elif tp is not type(None):
            out.append(tp)
    return out


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, pydantic.BaseModel)


def _field_keys(name: str, field: Any) -> list[str]:
    keys = [name]
    for alias in (field.alias, field.validation_alias):
        if isinstance(alias, str) and alias not in keys:
            keys.append(alias)
    return keys


def _allowed_keys(model: type[pydantic.BaseModel], path: Path) -> list[str]:
    """Field names and aliases allowed in the mapping at ``path`` of data validated by ``model``."""
    current: list[Any] = [model]
    for elem in path:
        nxt: list[Any] = []
        for tp in _flatten(current):
            origin, args = typing.get_origin(tp), typing.get_args(tp)
            if isinstance(elem, int):
                if origin is tuple and args and args[-1] is not Ellipsis:
                    nxt.extend(args[elem : elem + 1])
                elif origin in _SEQUENCE_ORIGINS and args:
                    nxt.append(args[0])
            elif _is_model(tp):
                for name, field in tp.model_fields.items():
                    if elem in _field_keys(name, field):
                        nxt.append(field.annotation)
            elif origin in _MAPPING_ORIGINS and len(args) == 2:
                nxt.append(args[1])
        current = nxt
    keys: list[str] = []
    for tp in _flatten(current):
        if _is_model(tp):
            for name, field in tp.model_fields.items():
                keys.extend(k for k in _field_keys(name, field) if k not in keys)
    return keys


_COMPARE = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", ">="),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "<="),
}
_EXPECTED = {
    "float_parsing": "a number",
    "float_type": "a number",
    "finite_number": "a finite number",
    "int_parsing": "an integer",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "int_parsing_size": "an integer of reasonable size",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def _expected_list(expected: str) -> str:
    """Turn pydantic's ``'a', 'b' or 'c'`` into ``'a', 'b', 'c'``."""
    head, sep, tail = expected.rpartition(" or ")
    return f"{head}, {tail}" if sep else expected


def _quote_hint(value: int) -> str:
    """Hint for a number where text was expected: YAML 1.1 reads ``3:0:1`` (a lane name) as the
    base-60 integer 10801, so show that spelling and say to quote it."""
    if value >= 60:
        parts = [value // 3600, (value // 60) % 60, value % 60] if value >= 3600 else [value // 60, value % 60]
        text = ":".join(str(p) for p in parts)
        return f' (YAML reads an unquoted {text} as the base-60 number {value}: quote lane names, e.g. "{text}")'
    return f' (quote lane names and other text, e.g. "{value}")'


def _message(err: Any, key: str | None, allowed: list[str] | None) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    got = _show(err.get("input"))
    if kind in _COMPARE:
        name, op = _COMPARE[kind]
        bound = ctx.get(name)
        if isinstance(bound, float) and bound.is_integer() and abs(bound) < 1e15:
            bound = int(bound)
        return f"expected a number {op} {bound}, got {got}"
    if kind == "missing":
        return f"missing required key {key!r}" if key is not None else "missing required value"
    if kind == "extra_forbidden":
        hint = did_you_mean(key, allowed) if key is not None and allowed else ""
        return f"unknown key {key!r}{hint}" if key is not None else f"unknown key{hint}"
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", ""))
        if " or " in expected:
            return f"expected one of {_expected_list(expected)}, got {got}"
        return f"expected {expected}, got {got}"
    if kind == "string_type" and isinstance(err.get("input"), int) and not isinstance(err.get("input"), bool):
        return f"expected a string, got {got}{_quote_hint(err['input'])}"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {got}"
    if kind in ("too_short", "too_long"):
        bound = ctx.get("min_length" if kind == "too_short" else "max_length")
        word = "at least" if kind == "too_short" else "at most"
        actual = ctx.get("actual_length")
        noun = "item" if bound == 1 else "items"
        return f"expected {word} {bound} {noun}" + (f", got {actual}" if actual is not None else "")
    if kind in ("string_too_short", "string_too_long"):
        bound = ctx.get("min_length" if kind == "string_too_short" else "max_length")
        word = "at least" if kind == "string_too_short" else "at most"
        noun = "character" if bound == 1 else "characters"
        return f"expected a string of {word} {bound} {noun}, got {got}"
    if kind in ("value_error", "assertion_error"):
        error = ctx.get("error")
        if error is not None and str(error):
            return str(error)
        msg = str(err.get("msg", ""))
        prefixes = ("Value error, ", "Assertion failed, ")
        return msg.split(", ", 1)[1] if msg.startswith(prefixes) else msg
    if kind == "union_tag_invalid":
        disc = str(ctx.get("discriminator", "")).strip("'")
        expected = _expected_list(str(ctx.get("expected_tags", "")))
        return f"expected {disc} to be one of {expected}, got {ctx.get('tag')!r}"
    if kind == "union_tag_not_found":
        return f"missing required key {str(ctx.get('discriminator', '')).strip(chr(39))!r}"
    return f"{err.get('msg', 'invalid value')}, got {got}"


def issues_from_validation_error(
    exc: pydantic.ValidationError, doc: YamlDoc, model: type[pydantic.BaseModel] | None = None
) -> list[Issue]:
    """Translate every error of a pydantic ``ValidationError`` into a located :class:`Issue`.

    ``model`` (the model validated against ``doc.data``) enables "did you mean" suggestions
    for unknown keys.
    """
    found: list[tuple[Path, str, bool, bool]] = []  # (path, message, at_key, via a union member)
    for err in exc.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        kind = err.get("type", "")
        path = _doc_path(loc, doc.data)
        last = loc[-1] if loc and isinstance(loc[-1], str) else None
        at_key = False
        allowed: list[str] | None = None
        if kind == "extra_forbidden":
            at_key = bool(path) and path[-1] == last
            if model is not None:
                allowed = _allowed_keys(model, path[:-1] if at_key else path)
        elif kind == "union_tag_invalid":
            disc = str((err.get("ctx") or {}).get("discriminator", "")).strip("'")
            target = doc.data
            for elem in path:
                target = target[elem]
            if isinstance(target, dict) and disc in target:
                path = (*path, disc)
        dropped = len(loc) - len(path) - (1 if kind == "missing" else 0)
        found.append((path, _message(err, last, allowed), at_key, dropped > 0))

    issues: list[Issue] = []
    seen: set[tuple[Path, str]] = set()
    for path, message, at_key in _merge_union_alternatives(found):
        if (path, message) not in seen:
            seen.add((path, message))
            issues.append(doc.issue(path, message, at_key=at_key))
    return issues


def _split_expected(message: str) -> tuple[str, str] | None:
    head, sep, got = message.rpartition(", got ")
    if not sep or not head.startswith("expected "):
        return None
    return head[len("expected ") :], got


def _merge_union_alternatives(found: list[tuple[Path, str, bool, bool]]) -> list[tuple[Path, str, bool]]:
    """Fold "expected A, got X" / "expected B, got X" from union members into one message."""
    groups: dict[Path, list[tuple[int, str, str]]] = {}
    for index, (path, message, _, via_union) in enumerate(found):
        parts = _split_expected(message) if via_union else None
        if parts is not None:
            groups.setdefault(path, []).append((index, *parts))
    out = [(path, message, at_key) for path, message, at_key, _ in found]
    drop: set[int] = set()
    for path, members in groups.items():
        gots = {got for _, _, got in members}
        if len(members) < 2 or len(gots) != 1:
            continue
        wanted = list(dict.fromkeys(want for _, want, _ in members))
        either = wanted[0] if len(wanted) == 1 else ", ".join(wanted[:-1]) + " or " + wanted[-1]
        out[members[0][0]] = (path, f"expected {either}, got {gots.pop()}", False)
        drop.update(index for index, _, _ in members[1:])
    return [entry for index, entry in enumerate(out) if index not in drop]
