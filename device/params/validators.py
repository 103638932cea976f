"""Value rules for parameters: each takes the text a client sent and returns the value to store, or raises."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

Validator = Callable[[str], str]


@dataclass(frozen=True)
class Choice:
    values: tuple[str, ...]

    def __call__(self, text: str) -> str:
        for value in self.values:
            if text.lower() == value.lower():
                return value
        raise ValueError(f"must be one of {', '.join(self.values)}")


@dataclass(frozen=True)
class IntRange:
    low: int
    high: int

    def __call__(self, text: str) -> str:
        try:
            number = int(text.strip(), 10)
        except ValueError:
            raise ValueError("must be a whole number") from None
        if not self.low <= number <= self.high:
            raise ValueError(f"must be between {self.low} and {self.high}")
        return str(number)


@dataclass(frozen=True)
class Text:
    max_length: int = 255
    pattern: str | None = None

    def __call__(self, text: str) -> str:
        if len(text) > self.max_length:
            raise ValueError(f"must be at most {self.max_length} characters")
        if any(ch in text for ch in "\r\n\0"):
            raise ValueError("must be a single line")
        if self.pattern and not re.fullmatch(self.pattern, text):
            raise ValueError(f"must match {self.pattern}")
        return text


YES_NO = Choice(("yes", "no"))
OCTAL_MODE = Text(max_length=4, pattern=r"[0-7]{3,4}")
