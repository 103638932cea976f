"""Error 10's words for an export the camera could not make from its own disk.

The API has one code for these ("Error while processing the request"), so the description is what tells a person
what happened: a block removed after the recording was listed (cleanup, remove.cgi) asks for a fresh look at the
recording, a failing card for a disk check. Host paths stay in the camera's log, not in the answer.
"""

from __future__ import annotations

import errno
import sqlite3

PREFIX = "Error while processing the request"


def read_failure(exc: BaseException) -> str:
    """The description of error 10 for `exc`, raised while the export's blocks or index were read."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOENT:
        return (
            f"{PREFIX}: a block of the recording is no longer on the disk (removed after the recording was listed);"
            " list the recording again."
        )
    if isinstance(exc, sqlite3.Error):
        return f"{PREFIX}: the disk's recording index could not be read ({exc}); check the disk."
    if isinstance(exc, OSError):
        return f"{PREFIX}: the recording could not be read from the disk ({exc.strerror or type(exc).__name__})."
    return f"{PREFIX}: {str(exc).rstrip('.')}."
