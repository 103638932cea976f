"""Following a job: every change of status once, the end at progress 100 or ERROR, a deadline, and a failed job
raised only by the convenience that promises a finished one."""

from __future__ import annotations

import asyncio
import time

import pytest

from app.vapix.disks import JobStatus
from app.vapix.errors import ApiError, ConnectionFailed
from app.vapix.jobs import JobFailedError, follow_job, wait_for_job


def status(progress: int, result: str = "OK", description: str = "") -> JobStatus:
    return JobStatus(7, "SD_DISK", "format", result, progress, description)


class Camera:
    """job.cgi answers in turn; the last one repeats."""

    def __init__(self, *answers: JobStatus | BaseException) -> None:
        self.answers = list(answers)
        self.polls = 0

    async def fetch(self) -> JobStatus:
        self.polls += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer


async def collect(camera: Camera, **kwargs) -> list[JobStatus]:
    return [s async for s in follow_job(camera.fetch, interval=0, **kwargs)]


async def test_each_change_is_yielded_once_and_following_ends_at_100():
    camera = Camera(
        status(0), status(0), status(30), status(30), status(30), status(99), status(100, description="done")
    )
    seen = await collect(camera)
    assert [s.progress for s in seen] == [0, 30, 99, 100]
    assert seen[-1].description == "done"
    assert camera.polls == 7  # nothing is fetched after the finished status


async def test_a_change_of_description_alone_is_a_new_status():
    seen = await collect(Camera(status(50), status(50, description="checking blocks"), status(100)))
    assert [(s.progress, s.description) for s in seen] == [(50, ""), (50, "checking blocks"), (100, "")]


async def test_a_job_already_finished_gives_one_status():
    camera = Camera(status(100))
    assert await collect(camera) == [status(100)]
    assert camera.polls == 1


async def test_an_error_ends_the_job_below_100():
    seen = await collect(Camera(status(10), status(40, "ERROR", "I/O error"), status(50)))
    assert [(s.progress, s.failed) for s in seen] == [(10, False), (40, True)]


async def test_the_interval_is_waited_between_polls():
    camera = Camera(status(0), status(50), status(100))
    started = time.monotonic()
    seen = [s async for s in follow_job(camera.fetch, interval=0.05)]
    assert len(seen) == 3
    assert time.monotonic() - started >= 0.09  # two waits, none after the end


async def test_a_job_that_never_finishes_times_out():
    camera = Camera(status(10))
    seen: list[JobStatus] = []

    async def follow() -> None:
        async for s in follow_job(camera.fetch, interval=0.01, timeout=0.1):
            seen.append(s)

    with pytest.raises(TimeoutError):
        await follow()
    assert seen == [status(10)]
    assert camera.polls > 2


async def test_a_fetch_that_hangs_counts_against_the_timeout():
    async def hang() -> JobStatus:
        await asyncio.sleep(10)
        return status(100)

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await wait_for_job(hang, interval=0.01, timeout=0.1)
    assert time.monotonic() - started < 1


async def test_what_the_fetch_raises_is_passed_on():
    with pytest.raises(ConnectionFailed):
        await collect(Camera(status(10), ConnectionFailed("cannot reach camera")))


async def test_wait_for_job_returns_the_finished_status_and_reports_progress():
    seen: list[int] = []
    final = await wait_for_job(
        Camera(status(0), status(60), status(100, description="formatted")).fetch,
        interval=0,
        on_status=lambda s: seen.append(s.progress),
    )
    assert final == status(100, description="formatted")
    assert seen == [0, 60, 100]


async def test_wait_for_job_raises_a_failed_job_with_the_cameras_description():
    failed = status(100, "ERROR", "Errors found: The index is missing. Run repair.cgi.")
    with pytest.raises(JobFailedError) as caught:
        await wait_for_job(Camera(status(20), failed).fetch, interval=0)
    assert isinstance(caught.value, ApiError)
    assert caught.value.description == "Errors found: The index is missing. Run repair.cgi."
    assert caught.value.status == failed
    assert caught.value.code is None


async def test_a_failed_job_without_description_still_says_it_failed():
    with pytest.raises(JobFailedError, match="failed"):
        await wait_for_job(Camera(status(100, "ERROR")).fetch, interval=0)
