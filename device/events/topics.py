"""Topic names as real firmware declares them, and topic expressions as clients write them.

Declared topics are paths of QNames with the prefixes of EVENTS.md §2.1: root levels prefixed (`tns1:Device`,
`tnsaxis:Storage`), intermediate levels `tnsaxis:`, leaves unprefixed. Clients address them in several
spellings (EVENTS.md §5.1): `tnsaxis:` on every level, `onvif:`/`axis:` instead of `tns1:`/`tnsaxis:`, a `//.`
subtree suffix, `|` between alternatives, and on very old firmware the `tns1:Storage` root. Matching therefore
compares the root by namespace and every further level by local name only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

ONVIF_TOPICS = "http://www.onvif.org/ver10/topics"
AXIS_TOPICS = "http://www.axis.com/2009/event/topics"
PREFIXES: dict[str, str] = {"tns1": ONVIF_TOPICS, "onvif": ONVIF_TOPICS, "tnsaxis": AXIS_TOPICS, "axis": AXIS_TOPICS}

STORAGE_RECORDING = RECORDING = "tnsaxis:Storage/Recording"
STORAGE_DISRUPTION = "tnsaxis:Storage/Disruption"
STORAGE_ALERT = "tnsaxis:Storage/Alert"
STORAGE_FAILURE = "tns1:Device/tnsaxis:HardwareFailure/StorageFailure"
SCHEDULE_INTERVAL = "tns1:UserAlarm/tnsaxis:Recurring/Interval"
SCHEDULE_PULSE = "tns1:UserAlarm/tnsaxis:Recurring/Pulse"
VIRTUAL_INPUT = "tns1:Device/tnsaxis:IO/VirtualInput"
MANUAL_TRIGGER = "tns1:Device/tnsaxis:IO/VirtualPort"
SYSTEM_READY = "tns1:Device/tnsaxis:Status/SystemReady"

CONCRETE = "http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete"
CONCRETE_SET = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
SIMPLE = "http://docs.oasis-open.org/wsn/t-1/TopicExpression/Simple"
TOPIC_DIALECTS = (CONCRETE, CONCRETE_SET, SIMPLE)

_LEVEL = re.compile(r"^(?:([A-Za-z_][\w.-]*):)?([A-Za-z_][\w.-]*|\*)$")


class TopicExpressionError(ValueError):
    """A topic expression that cannot be parsed; the message is the one real firmware gives."""

    def __init__(self, text: str) -> None:
        super().__init__(f"failed to parse topic expression '{text}'")


@dataclass(frozen=True)
class Level:
    namespace: str | None  # None: unprefixed, matches any namespace
    name: str  # "*" matches any one level


@dataclass(frozen=True)
class TopicPath:
    """One alternative of an expression: its levels, and whether it takes the whole subtree below them."""

    levels: tuple[Level, ...]
    subtree: bool = False

    def matches(self, topic: tuple[Level, ...]) -> bool:
        if len(topic) < len(self.levels) or (len(topic) > len(self.levels) and not self.subtree):
            return False
        pairs = enumerate(zip(self.levels, topic[: len(self.levels)], strict=True))
        return all(_same(mine, theirs, n == 0) for n, (mine, theirs) in pairs)


@dataclass(frozen=True)
class TopicExpression:
    text: str
    alternatives: tuple[TopicPath, ...]

    def matches(self, topic: str) -> bool:
        levels = declared_levels(topic)
        return any(path.matches(levels) for path in self.alternatives)


def parse_expression(text: str, namespaces: Mapping[str | None, str] | None = None) -> TopicExpression:
    """A ConcreteSet (or Concrete, or Simple) expression; `namespaces` are the prefixes in scope in the XML the
    expression came in, consulted before the well-known ones. Raises TopicExpressionError."""
    stripped = text.strip()
    if not stripped:
        raise TopicExpressionError(text)
    paths = tuple(_parse_path(part.strip(), text, namespaces or {}) for part in stripped.split("|"))
    return TopicExpression(stripped, paths)


def declared_levels(topic: str) -> tuple[Level, ...]:
    """The levels of a declared topic such as `tns1:Device/tnsaxis:IO/VirtualInput`."""
    return tuple(_level(part, topic, {}) for part in topic.split("/"))


def _parse_path(part: str, whole: str, namespaces: Mapping[str | None, str]) -> TopicPath:
    if part in ("//.", "//", "/"):
        return TopicPath((), subtree=True)  # everything ([KANE] subscribes with "//.")
    subtree = False
    for suffix in ("//.", "//*", "//"):
        if part.endswith(suffix):
            part, subtree = part[: -len(suffix)], True
            break
    if not part or "//" in part:
        raise TopicExpressionError(whole)
    levels = [_level(p, whole, namespaces) for p in part.split("/")]
    if (levels[0].namespace, levels[0].name) == (ONVIF_TOPICS, "Storage"):
        levels[0] = Level(AXIS_TOPICS, "Storage")  # tns1:Storage/tnsaxis:Disruption = tnsaxis:Storage/Disruption
    return TopicPath(tuple(levels), subtree)


def _level(part: str, whole: str, namespaces: Mapping[str | None, str]) -> Level:
    found = _LEVEL.match(part.strip())
    if not found:
        raise TopicExpressionError(whole)
    prefix, name = found.groups()
    if prefix is None:
        return Level(None, name)
    namespace = namespaces.get(prefix) or PREFIXES.get(prefix)
    if namespace is None:
        raise TopicExpressionError(whole)
    return Level(namespace, name)


def _same(mine: Level, theirs: Level, root: bool) -> bool:
    if mine.name != "*" and mine.name != theirs.name:
        return False
    if not root or mine.namespace is None or theirs.namespace is None:
        return True
    return mine.namespace == theirs.namespace
