from __future__ import annotations

import pytest


@pytest.fixture
def camera(device_factory):
    """A fresh camera with a 1 GiB SD card, for tests that change the card."""
    return device_factory("--sd-size", "1G")
