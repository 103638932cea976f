"""Typed keys for what the aiohttp application and requests carry."""

from __future__ import annotations

from aiohttp import web

from device.services import Services
from device.state import DeviceState
from device.users import User

STATE = web.AppKey("state", DeviceState)
SERVICES = web.AppKey("services", Services)
USER_KEY = "edgestore.user"


def state_of(request: web.Request) -> DeviceState:
    return request.app[STATE]


def user_of(request: web.Request) -> User | None:
    user: User | None = request.get(USER_KEY)
    return user


def services_of(request: web.Request) -> Services:
    return request.app[SERVICES]
