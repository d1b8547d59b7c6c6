"""Read an OpenSCENARIO (or catalog) XML file safely, keeping the line:col of every element.

Parsing goes through ``defusedxml``'s SAX reader: DTDs, entity declarations and external
references are refused (no XML bombs, no file or network access), the file is at most
:data:`MAX_BYTES`, nests at most :data:`MAX_DEPTH` deep and holds at most :data:`MAX_ELEMENTS`
elements. Every problem is a :class:`~simcore.scenario.errors.ScenarioError` located as
``file:line:col: element path: what is wrong``; the file's text is never echoed.
"""

from __future__ import annotations

import os
import xml.sax
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import defusedxml
import defusedxml.sax

from simcore.scenario.errors import Issue, ScenarioError

MAX_BYTES = 5 * 1024 * 1024
"""Largest accepted file (bytes)."""
MAX_DEPTH = 200
"""Deepest accepted element nesting."""
MAX_ELEMENTS = 200_000
"""Most elements one file may hold."""


@dataclass(eq=False)
class XNode:
    """One XML element: tag, attributes, 1-based line/col of its start tag, children in order."""

    tag: str
    attrs: dict[str, str]
    file: str
    line: int
    col: int
    parent: XNode | None = None
    children: list[XNode] = field(default_factory=list)
    scope: dict[str, str] = field(default_factory=dict)

    def kids(self, tag: str | None = None) -> list[XNode]:
        """Children (with ``tag`` only, if given)."""
        return [c for c in self.children if tag is None or c.tag == tag]

    def kid(self, tag: str) -> XNode | None:
        """First child with ``tag``, or None."""
        for c in self.children:
            if c.tag == tag:
                return c
        return None

    def first(self) -> XNode | None:
        """First child (the chosen alternative of an XSD choice element)."""
        return self.children[0] if self.children else None

    @property
    def path(self) -> str:
        """``OpenSCENARIO/Storyboard/Story[name]/...`` (named elements carry their name)."""
        parts = []
        node: XNode | None = self
        while node is not None:
            name = node.attrs.get("name")
            parts.append(f"{node.tag}[{name}]" if name else node.tag)
            node = node.parent
        return "/".join(reversed(parts))

    def issue(self, message: str) -> Issue:
        """An issue located at this element."""
        return Issue(self.file, self.line, self.col, self.path, message)

    def error(self, message: str) -> ScenarioError:
        """A ScenarioError located at this element."""
        return ScenarioError([self.issue(message)])

    def clone(self, parent: XNode | None = None) -> XNode:
        """A copy of this subtree (attributes and children copied, locations kept) under ``parent``."""
        out = XNode(self.tag, dict(self.attrs), self.file, self.line, self.col, parent, [], dict(self.scope))
        out.children = [c.clone(out) for c in self.children]
        return out

    def walk(self) -> Any:
        """This element and every descendant, depth first in document order."""
        yield self
        for c in self.children:
            yield from c.walk()


class _Builder(xml.sax.handler.ContentHandler):
    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file
        self.root: XNode | None = None
        self.stack: list[XNode] = []
        self.count = 0
        self.reader: Any = None

    def where(self) -> tuple[int, int]:
        """1-based position of the expat parser now (the start of the current tag in a start event)."""
        expat = getattr(self.reader, "_parser", None)
        if expat is None:
            return 1, 1
        return int(expat.CurrentLineNumber or 1), int(expat.CurrentColumnNumber or 0) + 1

    def startElement(self, name: str, attrs: Any) -> None:
        line, col = self.where()
        self.count += 1
        parent = self.stack[-1] if self.stack else None
        node = XNode(name.split(":")[-1], {k.split(":")[-1]: v for k, v in attrs.items()}, self.file, line, col, parent)
        if self.count > MAX_ELEMENTS:
            raise ScenarioError([node.issue(f"more than {MAX_ELEMENTS} elements; refused")])
        if len(self.stack) >= MAX_DEPTH:
            raise ScenarioError([node.issue(f"elements nest deeper than {MAX_DEPTH} levels; refused")])
        if parent is None:
            self.root = node
        else:
            parent.children.append(node)
        self.stack.append(node)

    def endElement(self, name: str) -> None:
        self.stack.pop()


def read_text(path: str | os.PathLike[str]) -> bytes:
    """The file's bytes, refusing unreadable and oversized files with a located error."""
    file = str(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_BYTES:
            raise ScenarioError.single(file, 1, 1, "", f"file is {size} bytes, more than the {MAX_BYTES} cap")
        return Path(path).read_bytes()
    except OSError as exc:
        raise ScenarioError.single(file, 1, 1, "", f"cannot read the file: {exc.strerror or exc}") from None


def parse_xml(path: str | os.PathLike[str], *, text: bytes | str | None = None) -> XNode:
    """Parse ``path`` (or ``text``) into an :class:`XNode` tree; located ``ScenarioError`` on any problem."""
    file = str(path)
    data = read_text(path) if text is None else (text.encode() if isinstance(text, str) else text)
    if len(data) > MAX_BYTES:
        raise ScenarioError.single(file, 1, 1, "", f"text is more than the {MAX_BYTES} byte cap")
    handler = _Builder(file)
    parser = defusedxml.sax.make_parser()
    parser.setFeature(xml.sax.handler.feature_namespaces, False)
    parser.setFeature(xml.sax.handler.feature_external_ges, False)
    parser.setFeature(xml.sax.handler.feature_external_pes, False)
    parser.forbid_dtd = True
    parser.setContentHandler(handler)
    handler.reader = parser
    try:
        parser.feed(data)
        parser.close()
    except ScenarioError:
        raise
    except defusedxml.DefusedXmlException as exc:
        line, col = handler.where()
        kind = type(exc).__name__
        raise ScenarioError.single(
            file, line, col, "", f"refused unsafe XML ({kind}): DTDs, entities and external references are not allowed"
        ) from None
    except xml.sax.SAXParseException as exc:
        line, col = exc.getLineNumber() or 1, (exc.getColumnNumber() or 0) + 1
        raise ScenarioError.single(file, line, col, "", f"malformed XML: {exc.getMessage()}") from None
    if handler.root is None:
        raise ScenarioError.single(file, 1, 1, "", "no XML element found")
    return handler.root
