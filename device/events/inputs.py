"""Virtual inputs (ports 1-32) and the manual trigger: the camera's software switches that clients flip.

Virtual inputs are the Virtual input API's (`activate.cgi`, `deactivate.cgi`, optionally for a `duration`);
the manual trigger is `io/virtualinput.cgi`'s port `Properties.IO.ManualTriggerNbr`, emitted as VirtualPort
(EVENTS.md §2.4, §2.5). Both are stateful and start inactive, so a rule or stream sees their state at once.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from device.events.bus import EventBus
from device.events.declarations import MANUAL_TRIGGER_PORTS, VIRTUAL_INPUT_PORTS
from device.events.topics import MANUAL_TRIGGER, VIRTUAL_INPUT
from device.tasks import cancel_and_wait

MANUAL_TRIGGER_NUMBER = 6  # Properties.IO.ManualTriggerNbr, "commonly 6"
_STEP = re.compile(r"(\d*)([/\\])")


class UnknownPort(ValueError):
    """A port that is not a virtual input (error 20) or not the manual trigger."""


@dataclass(frozen=True)
class Step:
    wait_ms: int  # before this step
    active: bool


def parse_trigger_action(text: str) -> tuple[int, list[Step]]:
    """`6:/`, `6:\\`, `6:/2000\\` (activate, wait 2 s, deactivate): the port and its steps. Raises ValueError."""
    port_text, sep, steps_text = text.partition(":")
    if not sep or not port_text.strip().isdigit() or not steps_text:
        raise ValueError(f"action must look like 6:/ or 6:/2000\\, not {text!r}")
    steps: list[Step] = []
    pos = 0
    while pos < len(steps_text):
        found = _STEP.match(steps_text, pos)
        if not found or (found.group(1) and not steps):
            raise ValueError(f"action must look like 6:/ or 6:/2000\\, not {text!r}")
        steps.append(Step(int(found.group(1) or 0), found.group(2) == "/"))
        pos = found.end()
    return int(port_text), steps


class VirtualInputs:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        for port in VIRTUAL_INPUT_PORTS:
            bus.set_state(VIRTUAL_INPUT, {"port": str(port)}, {"active": "0"})
        for port in MANUAL_TRIGGER_PORTS:
            bus.set_state(MANUAL_TRIGGER, {"port": str(port)}, {"state": "0"})

    def activate(self, port: int, duration: float | None = None) -> bool:
        """Returns whether the state changed; with `duration` (seconds) it deactivates by itself afterwards,
        even when it was already active ("it will continue to be active and will be deactivated after")."""
        changed = self._set(port, True)
        timer = self._timers.pop(port, None)
        if timer is not None:
            timer.cancel()
        if duration is not None:
            self._timers[port] = asyncio.get_running_loop().call_later(duration, self._expire, port)
        return changed

    def deactivate(self, port: int) -> bool:
        timer = self._timers.pop(port, None)
        if timer is not None:
            timer.cancel()
        return self._set(port, False)

    def manual_trigger(self, port: int, steps: list[Step]) -> None:
        """Run `io/virtualinput.cgi` steps in the background; waits are real milliseconds."""
        if port != MANUAL_TRIGGER_NUMBER:
            raise UnknownPort(
                f"port {port} is not the manual trigger (Properties.IO.ManualTriggerNbr={MANUAL_TRIGGER_NUMBER})"
            )
        task = asyncio.get_running_loop().create_task(self._run_steps(steps))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        for task in list(self._tasks):
            await cancel_and_wait(task)

    async def _run_steps(self, steps: list[Step]) -> None:
        for step in steps:
            if step.wait_ms:
                await asyncio.sleep(step.wait_ms / 1000)
            self._bus.set_state(
                MANUAL_TRIGGER, {"port": str(MANUAL_TRIGGER_PORTS[0])}, {"state": "1" if step.active else "0"}
            )

    def _expire(self, port: int) -> None:
        self._timers.pop(port, None)
        self._set(port, False)

    def _set(self, port: int, active: bool) -> bool:
        if port not in VIRTUAL_INPUT_PORTS:
            raise UnknownPort(f"The specified virtual input {port} does not exist")
        return self._bus.set_state(VIRTUAL_INPUT, {"port": str(port)}, {"active": "1" if active else "0"})
