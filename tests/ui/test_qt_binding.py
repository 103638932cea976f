"""The Qt binding the app runs on: a custom signal's emit must not lose a reference to `True`.

PySide6 6.12.0's SignalInstance.emit returns `True` without owning a reference to it, so every emit takes one
away; an app that reports progress for a while frees `True` itself and Python aborts (seen here as exit 134
with "bool_dealloc" at the end of the GUI tests). pyproject.toml excludes that release; this keeps it out.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QObject, Signal

pytestmark = pytest.mark.gui


class Reporter(QObject):
    progress = Signal(str, int)


def test_emitting_a_signal_keeps_the_reference_count_of_true(qapp):
    reporter = Reporter()
    seen: list[int] = []
    reporter.progress.connect(lambda _step, percent: seen.append(percent))
    before = sys.getrefcount(True)
    for percent in range(200):
        reporter.progress.emit("Formatting", percent)
    assert len(seen) == 200
    assert sys.getrefcount(True) - before >= 0
