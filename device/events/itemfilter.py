"""MessageContent filters in the ItemFilter dialect, as action rules and event streams use them.

Real clients write `boolean(//SimpleItem[@Name="disk_id" and @Value="SD_DISK"]) and boolean(//SimpleItem[...])`,
with double or single quotes, joined by `and`/`or`, sometimes under `not(...)` (EVENTS.md §6.1). This is that
subset of XPath, parsed once into a tree and evaluated against an event's source and data items. A filter is
true when some SimpleItem (name and value) satisfies each `boolean(...)` as the logic combines them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NoReturn

ITEM_FILTER = "http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter"

_TOKEN = re.compile(
    r"\s*(?:(?P<string>\"[^\"]*\"|'[^']*')|(?P<attr>@(?:Name|Value))|(?P<word>[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)"
    r"|(?P<punct>//|[()\[\]=]))"
)
_BOOLEANS = {"1": "1", "true": "1", "0": "0", "false": "0"}

Items = Mapping[str, str]
Test = Callable[[Items], bool]
ItemTest = Callable[[str, str], bool]


class ItemFilterError(ValueError):
    """A filter that does not parse; the message says where, as firmware's parser does."""


@dataclass(frozen=True)
class ItemFilter:
    text: str
    test: Test

    def matches(self, items: Items) -> bool:
        return self.test(items)

    def names(self) -> set[str]:
        """The item names the filter mentions (`@Name="x"`), to check them against a topic's declaration."""
        return set(re.findall(r"@Name\s*=\s*[\"']([^\"']*)[\"']", self.text))


def parse_filter(text: str) -> ItemFilter:
    parser = _Parser(text)
    test = parser.expression()
    parser.expect_end()
    return ItemFilter(text.strip(), test)


def same_value(expected: str, actual: str) -> bool:
    """Booleans compare as booleans ("true" is "1"); everything else as the exact string."""
    if expected in _BOOLEANS and actual in _BOOLEANS:
        return _BOOLEANS[expected] == _BOOLEANS[actual]
    return expected == actual


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            found = _TOKEN.match(text, pos)
            if not found or found.end() == pos:
                start = len(text) - len(text[pos:].lstrip())
                raise ItemFilterError(f"around character {start + 1}: syntax error, unexpected {text[start]!s}")
            kind = found.lastgroup or ""
            self.tokens.append((kind, found.group(kind), found.start(kind)))
            pos = found.end()
        self.at = 0

    # --- token helpers

    def peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def take(self, *expected: str) -> str:
        token = self.peek()
        if token is None or (expected and token not in expected):
            self.fail(" or ".join(expected))
        self.at += 1
        return token

    def fail(self, expected: str) -> NoReturn:
        if self.at < len(self.tokens):
            _, token, position = self.tokens[self.at]
            where, what = position + 1, token
        else:
            where, what = len(self.text) + 1, "end of input"
        raise ItemFilterError(f"around character {where}: syntax error, unexpected {what}, expecting {expected}")

    def expect_end(self) -> None:
        if self.peek() is not None:
            self.fail("and or or")

    # --- the outer logic: boolean(...) joined by and/or/not

    def expression(self) -> Test:
        parts = [self.conjunction()]
        while self.peek() == "or":
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda items: any(p(items) for p in parts))

    def conjunction(self) -> Test:
        parts = [self.unary()]
        while self.peek() == "and":
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda items: all(p(items) for p in parts))

    def unary(self) -> Test:
        token = self.peek()
        if token == "not":
            self.take()
            self.take("(")
            inner = self.expression()
            self.take(")")
            return lambda items: not inner(items)
        if token == "(":
            self.take()
            inner = self.expression()
            self.take(")")
            return inner
        self.take("boolean")
        self.take("(")
        item = self.simple_item()
        self.take(")")
        return lambda items: any(item(name, value) for name, value in items.items())

    def simple_item(self) -> ItemTest:
        self.take("//")
        name = self.take()
        if name.split(":")[-1] != "SimpleItem":
            self.at -= 1
            self.fail("SimpleItem")
        self.take("[")
        predicate = self.item_or()
        self.take("]")
        return predicate

    # --- the predicate inside [...]: @Name="..." and @Value="..."

    def item_or(self) -> ItemTest:
        parts = [self.item_and()]
        while self.peek() == "or":
            self.take()
            parts.append(self.item_and())
        return parts[0] if len(parts) == 1 else (lambda n, v: any(p(n, v) for p in parts))

    def item_and(self) -> ItemTest:
        parts = [self.item_atom()]
        while self.peek() == "and":
            self.take()
            parts.append(self.item_atom())
        return parts[0] if len(parts) == 1 else (lambda n, v: all(p(n, v) for p in parts))

    def item_atom(self) -> ItemTest:
        token = self.peek()
        if token in ("not", "("):
            negate = token == "not"
            if negate:
                self.take()
            self.take("(")
            inner = self.item_or()
            self.take(")")
            return (lambda n, v: not inner(n, v)) if negate else inner
        attribute = self.take("@Name", "@Value")
        self.take("=")
        if self.at >= len(self.tokens) or self.tokens[self.at][0] != "string":
            self.fail("a quoted string")
        literal = self.take()[1:-1]
        if attribute == "@Name":
            return lambda n, v: n == literal
        return lambda n, v: same_value(literal, v)
