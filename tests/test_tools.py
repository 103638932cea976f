"""The real peers the suite talks to are installed when it runs through the README's test command.

Tests that need an outside program (FFmpeg, GStreamer, 7-Zip, VLC, curl, Samba) skip where it is missing, so a developer
can run a part of the suite on a machine without them. Run by `scripts/test.sh` (and so by CI), a skip would hide
exactly the acceptance those programs give; there the command sets ``EDGESTORE_FULL_RUN=1`` and this test fails
for any that is missing instead.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.support.samba import smbd_binary

PROGRAMS = {
    "ffmpeg": ("ffmpeg",),
    "ffprobe": ("ffprobe",),
    "GStreamer": ("gst-launch-1.0",),
    "7-Zip": ("7zz", "7z"),
    "VLC": ("cvlc",),
    "curl": ("curl",),
}


@pytest.mark.skipif(os.environ.get("EDGESTORE_FULL_RUN") != "1", reason="only through scripts/test.sh")
def test_every_program_the_acceptance_tests_talk_to_is_installed():
    missing = [name for name, commands in PROGRAMS.items() if not any(shutil.which(c) for c in commands)]
    if smbd_binary() is None:  # in /usr/sbin, which a non-login PATH may lack
        missing.append("Samba")
    assert missing == [], f"install them with scripts/test.sh (scripts/os-packages.sh): {missing}"
