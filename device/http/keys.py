"""Typed keys for what the aiohttp application and requests carry."""

from __future__ import annotations

from aiohttp import web

from device.state import DeviceState
from device.users import User

STATE = web.AppKey("state", DeviceState)
USER_KEY = "edgestore.user"


def state_of(request: web.Request) -> DeviceState:
    return request.app[STATE]


def user_of(request: web.Request) -> User | None:
    user: User | None = request.get(USER_KEY)
    return user
