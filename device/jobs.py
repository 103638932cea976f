"""Long-running work the API reports on: format, check, repair, mount (and later export and share tests).

A job records progress from the work actually done, keeps its result after it ends so several clients can
poll it, and has an ID that is never reused while the camera runs.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Progress = Callable[[float], None]  # 0.0 .. 1.0 of the work done
Work = Callable[[Progress], Awaitable[str]]  # returns a description of the result


class JobFailed(Exception):
    """Raised by work to end its job with result ERROR and this description (and the API's error code, for APIs
    whose job status carries one)."""

    def __init__(self, description: str, code: int = 0) -> None:
        super().__init__(description)
        self.code = code


@dataclass
class Job:
    id: int
    action: str
    target: str  # the disk ID, share ID or export it works on
    progress: int = 0  # percent; 100 once ended, failed or not (real clients poll until 100)
    result: str = "OK"  # "OK" while running or done, "ERROR" once failed
    description: str = ""
    error_code: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def finished(self) -> bool:
        return self.done.is_set()


class JobRegistry:
    def __init__(self, keep_finished: int = 64, first_id: int = 1) -> None:
        self._ids = itertools.count(first_id)
        self._jobs: OrderedDict[int, Job] = OrderedDict()
        self._keep = keep_finished
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, action: str, target: str, work: Work) -> Job:
        job = Job(next(self._ids), action, target)
        self._jobs[job.id] = job
        task = asyncio.get_running_loop().create_task(self._run(job, work), name=f"job-{job.id}-{action}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._trim()
        return job

    def get(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    def running(self, target: str | None = None) -> list[Job]:
        return [j for j in self._jobs.values() if not j.finished and (target is None or j.target == target)]

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, job: Job, work: Work) -> None:
        def progress(fraction: float) -> None:
            job.progress = max(job.progress, min(99, int(fraction * 100)))

        try:
            job.description = await work(progress)
        except JobFailed as exc:
            job.result, job.description, job.error_code = "ERROR", str(exc), exc.code
        except asyncio.CancelledError:
            job.result, job.description = "ERROR", "The camera stopped before the job finished."
            raise
        except Exception as exc:  # a bug must end the job visibly, not leave it at 40 % forever
            log.exception("job %s (%s) failed", job.id, job.action)
            job.result, job.description = "ERROR", f"Internal error: {exc}"
        finally:
            job.progress = 100
            job.done.set()
            self._trim()

    def _trim(self) -> None:
        finished = [jid for jid, j in self._jobs.items() if j.finished]
        for jid in finished[: max(0, len(finished) - self._keep)]:
            del self._jobs[jid]
