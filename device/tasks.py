"""Stopping a background task: cancel it and wait for it to end.

Not `task.cancel(); with suppress(CancelledError): await task`: that also swallows a cancellation of the task
*waiting* (a shutdown cancelled while it stops a component), which then runs on as if nothing happened.
asyncio.wait lets the waiter's own cancellation through; the stopped task's failure is still raised, as
`await task` raised it.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    if task is None:
        return
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled() and (error := task.exception()) is not None:
        raise error
