"""The one shape of a refusal the XML APIs report: a numeric code from the spec and a sentence saying why."""

from __future__ import annotations


class CodedError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description
