"""The camera's refusals as sentences an installer can act on.

A SOAP fault's identity is its Detail element (`ActionConfigurationIsInUseFault`), and its reason is written for
developers; the panel shows a sentence that says what was refused and keeps the camera's reason after it.
"""

from __future__ import annotations

from app.schedule.week import UnsupportedSchedule
from app.vapix.errors import ApiError, ConnectionFailed, Forbidden, Unauthorized, VapixError
from app.vapix.soap import SoapFaultError

_FAULTS = {
    "InvalidScheduleFault": "The camera did not accept the schedule",
    "ScheduledEventNotFoundFault": "That schedule is no longer on the camera",
    "ParametersMissmatchFault": "The camera does not take these recording settings",
    "InvalidActionConfigurationFault": "The camera refused the recording settings",
    "ActionConfigurationIsInUseFault": "The recording settings are still used by a rule",
    "ActionConfigurationNotFoundFault": "The rule's recording settings are no longer on the camera",
    "ActionRuleNotFoundFault": "That rule is no longer on the camera",
    "InsufficientActivationRuleFault": "A rule needs something that starts it",
    "InvalidConditionFilterFault": "The camera cannot use that condition",
    "InvalidTopicExpressionFault": "The camera does not know that event",
    "InvalidMessageContentExpressionFault": "The camera cannot read that event filter",
    "ActionTemplateNotFoundFault": "The camera cannot record on events (no recording action)",
}


class Refused(Exception):
    """A refusal already put in the installer's words (a Recording group API error, say)."""


def sentence(exc: BaseException) -> str:
    """What went wrong, as one sentence ending with a full stop."""
    if isinstance(exc, Refused):
        return _finish(str(exc))
    if isinstance(exc, SoapFaultError):
        lead = _FAULTS.get(exc.name, "The camera refused the request")
        return _finish(f"{lead}: {exc.reason}" if exc.reason else lead)
    if isinstance(exc, ApiError):
        return _finish(f"The camera refused the request: {exc}")
    if isinstance(exc, UnsupportedSchedule):
        return _finish(f"The saved schedule cannot be shown as a week: {exc}")
    if isinstance(exc, (Forbidden, Unauthorized)):
        return _finish(f"The camera account in use may not do this: {exc}")
    if isinstance(exc, ConnectionFailed):
        return _finish(f"The camera could not be reached: {exc}")
    if isinstance(exc, VapixError):
        return _finish(f"The camera's answer was not understood: {exc}")
    return _finish(f"Unexpected error: {exc}")


def _finish(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."
