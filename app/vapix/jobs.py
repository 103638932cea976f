"""Following a camera job (format, check, repair, mount, ...) until it ends, for progress bars and bulk actions.

The camera has no push for jobs; clients poll job.cgi (WIRE.md §2.4). A job has ended when its progress is 100
or it failed (AMBIGUITIES.md D-5). Works with any status that says its progress, whether it finished and
whether it failed, so other job kinds (share tests, exports) can use it too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from app.vapix.errors import ApiError

DEFAULT_INTERVAL = 0.5  # seconds between polls


class JobLike(Protocol):
    @property
    def progress(self) -> int: ...

    @property
    def finished(self) -> bool: ...

    @property
    def failed(self) -> bool: ...

    @property
    def description(self) -> str: ...


J = TypeVar("J", bound=JobLike)


@dataclass(frozen=True)
class ApiJobStatus:
    """A job status as the XML APIs report one (export jobs, share tests): how far, whether it ended, and if it
    failed, the code and a sentence for a person. Each API decodes its own wire form into it."""

    progress: int
    finished: bool
    failed: bool = False
    description: str = ""
    code: int | None = None


class JobFailedError(ApiError):
    """The job ran and ended in ERROR; `status` is its last status, the message the camera's description."""

    def __init__(self, status: JobLike) -> None:
        super().__init__(status.description or "the job failed")
        self.status = status


async def follow_job(
    fetch: Callable[[], Awaitable[J]], interval: float = DEFAULT_INTERVAL, timeout: float | None = None
) -> AsyncIterator[J]:
    """Yield the first status and every one that differs from the last, ending after the finished one.

    Raises TimeoutError when the job has not finished `timeout` seconds after the start (a fetch that hangs
    counts too); whatever `fetch` raises (an unreachable camera, ...) is passed on.
    """
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    last: J | None = None
    while True:
        async with asyncio.timeout_at(deadline):
            status = await fetch()
        if status != last:
            last = status
            yield status
        if status.finished:
            return
        wait = interval if deadline is None else min(interval, deadline - loop.time())
        if wait < 0:
            raise TimeoutError(f"the job did not finish within {timeout} s")
        await asyncio.sleep(wait)


async def wait_for_job(
    fetch: Callable[[], Awaitable[J]],
    interval: float = DEFAULT_INTERVAL,
    timeout: float | None = None,
    on_status: Callable[[J], object] | None = None,
) -> J:
    """The finished status; JobFailedError (carrying the camera's description) when the job failed.

    `on_status` sees every new status on the way, e.g. to move a progress bar.
    """
    last: J | None = None
    async for status in follow_job(fetch, interval, timeout):
        last = status
        if on_status is not None:
            on_status(status)
    assert last is not None, "follow_job yields at least the finished status"
    if last.failed:
        raise JobFailedError(last)
    return last
