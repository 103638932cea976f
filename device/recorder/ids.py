"""A Recording ID as clients write it in a ``recordingid`` argument: play.cgi's query and the RTSP URL's.

The RTSP API's own example quotes it (``recordingid="myrecording"``, WIRE.md §7), and a client that copied that
form sends the quotes to play.cgi as well. A Recording ID never holds a quote (``YYYYMMDD_HHMMSS_XXXX_<SERIAL>``,
WIRE.md §6), so taking them off cannot name a different recording; one helper keeps the two entrances agreeing.
"""

from __future__ import annotations


def recording_id_argument(value: str) -> str:
    """The Recording ID a ``recordingid`` value names, without surrounding blanks and double quotes; "" if none."""
    return value.strip().strip('"').strip()
