from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import qasync
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui


@pytest.fixture
def qloop(qapp) -> Iterator[qasync.QEventLoop]:
    """An asyncio loop on Qt's, as the app runs: tests drive a story with loop.run_until_complete."""
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
async def desktop(qtbot, tmp_path):
    """The installer's desktop with no cameras yet, for `async def` stories on Qt's loop; add test cameras
    with `await desktop.add_camera(device, name)`."""
    from tests.ui.desktop import make_desktop

    desk = make_desktop(qtbot, tmp_path)
    desk.loop = asyncio.get_running_loop()
    yield desk
    await desk.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Shut the desktop down on its own loop as soon as the story ends: pytest-qt processes Qt events right
    after the call, and qasync would run the camera polling's callbacks there, outside any running loop."""
    try:
        return (yield)
    finally:  # a failed story too, or its report drowns in the polling's tracebacks
        desk = item.funcargs.get("desktop")
        if desk is not None and not desk.loop.is_closed():
            desk.loop.run_until_complete(desk.close())


def pytest_asyncio_loop_factories(config, item):
    """`async def` tests here run on Qt's loop, as the app does, so widgets, signals and coroutines interleave
    as they do for a user, and every step runs inside a running loop."""
    return {"qt": lambda: qasync.QEventLoop(QApplication.instance() or QApplication([]))}
