"""What SET_PARAMETER may set (RFC 2326 §10.9), and the ``text/parameters`` body it comes in: one ``name: value``
a line.

The one parameter VAPIX documents is ``Renew-Stream: yes`` (WIRE.md §7): renew the I-frame, so a client that lost
packets gets a picture it can decode again. Anything else is not understood (451), and then nothing is set, as
RFC 2326 asks: a client must not be left guessing which half of its request was acted on.
"""

from __future__ import annotations

from dataclasses import dataclass

CONTENT_TYPE = "text/parameters"
RENEW_STREAM = "renew-stream"


@dataclass(frozen=True)
class Settings:
    """What a SET_PARAMETER asks for, once every parameter in it is understood."""

    renew_stream: bool = False


def read_settings(body: bytes) -> Settings | list[str]:
    """The settings a ``text/parameters`` body asks for, or the lines not understood (for the 451 reply's body,
    as RFC 2326 §10.9 shows it). An empty body sets nothing."""
    settings = Settings()
    not_understood = []
    for line in body.decode("utf-8", "replace").splitlines():
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if colon and name.strip().lower() == RENEW_STREAM and value.strip().lower() == "yes":
            settings = Settings(renew_stream=True)
        else:
            not_understood.append(line.strip())
    return not_understood or settings
