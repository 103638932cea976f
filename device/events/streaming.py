"""The event stream's protocol, apart from its transport (EVENTS.md §3.1): `events:configure` requests with
topic and content filters, their answers and errors, and `events:notify` messages.

Each filter is its own subscription ("an event that matches multiple filters will be sent more than once"); a
new configure replaces the filters. Topic filters accept every spelling of :mod:`device.events.topics`,
content filters the ItemFilter subset of :mod:`device.events.itemfilter`. Values are strings, booleans "1"/"0",
and the timestamp is an integer in milliseconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from device.events.bus import Event
from device.events.itemfilter import ItemFilter, ItemFilterError, parse_filter
from device.events.topics import TopicExpression, TopicExpressionError, parse_expression

API_VERSION = "1.0"
CONFIGURE = "events:configure"
NOTIFY = "events:notify"

INTERNAL_ERROR = 1100
VERSION_NOT_SUPPORTED = 2100
INVALID_JSON = 2101
METHOD_NOT_SUPPORTED = 2102
PARAMETER_MISSING = 2103
INVALID_PARAMETER = 2104


class StreamError(Exception):
    def __init__(self, code: int, message: str, context: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.context = code, message, context


@dataclass(frozen=True)
class EventFilter:
    topic: TopicExpression | None
    content: ItemFilter | None

    def matches(self, event: Event) -> bool:
        if self.topic is not None and not self.topic.matches(event.topic):
            return False
        return self.content is None or self.content.matches(event.items)


@dataclass(frozen=True)
class Configure:
    context: Any
    filters: tuple[EventFilter, ...]


def parse_configure(text: str) -> Configure:
    """Raises StreamError with the documented code."""
    try:
        request = json.loads(text)
    except ValueError:
        raise StreamError(INVALID_JSON, "Invalid JSON") from None
    if not isinstance(request, dict):
        raise StreamError(INVALID_JSON, "Invalid JSON")
    context = request.get("context")
    if request.get("apiVersion") != API_VERSION:
        raise StreamError(VERSION_NOT_SUPPORTED, "API version not supported", context)
    if request.get("method") != CONFIGURE:
        raise StreamError(METHOD_NOT_SUPPORTED, "Method not supported", context)
    params = request.get("params")
    filters = params.get("eventFilterList") if isinstance(params, dict) else None
    if not isinstance(filters, list):
        raise StreamError(PARAMETER_MISSING, "Required parameter missing: eventFilterList", context)
    return Configure(context, tuple(_filter(f, context) for f in filters))


def _filter(given: Any, context: Any) -> EventFilter:
    if not isinstance(given, dict) or not ({"topicFilter", "contentFilter"} & set(given)):
        raise StreamError(INVALID_PARAMETER, "Invalid parameter value specified: a filter", context)
    try:
        topic = parse_expression(str(given["topicFilter"])) if "topicFilter" in given else None
        content = parse_filter(str(given["contentFilter"])) if "contentFilter" in given else None
    except (TopicExpressionError, ItemFilterError) as exc:
        raise StreamError(INVALID_PARAMETER, f"Invalid parameter value specified: {exc}", context) from None
    return EventFilter(topic, content)


def configured(context: Any) -> dict[str, Any]:
    return _with_context({"apiVersion": API_VERSION, "method": CONFIGURE, "data": {}}, context)


def error(failure: StreamError) -> dict[str, Any]:
    answer = {
        "apiVersion": API_VERSION,
        "method": CONFIGURE,
        "error": {"code": failure.code, "message": failure.message},
    }
    return _with_context(answer, failure.context)


def notification(event: Event) -> dict[str, Any]:
    message = {"source": dict(event.source), "key": {}, "data": dict(event.data)}
    timestamp = int(event.time.timestamp() * 1000)
    return {
        "apiVersion": API_VERSION,
        "method": NOTIFY,
        "params": {"notification": {"timestamp": timestamp, "topic": event.topic, "message": message}},
    }


def _with_context(answer: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"apiVersion": answer.pop("apiVersion"), "context": context, **answer} if context is not None else answer
