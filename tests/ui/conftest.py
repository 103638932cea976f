from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import qasync

pytestmark = pytest.mark.gui


@pytest.fixture
def qloop(qapp) -> Iterator[qasync.QEventLoop]:
    """An asyncio loop on Qt's, as the app runs: tests drive a story with loop.run_until_complete."""
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    loop.close()
    asyncio.set_event_loop(None)
