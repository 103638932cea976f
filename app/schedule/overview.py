"""Everything the Schedule panel shows for one camera, read in one go: its disks, its rules and schedules, and
its continuous recording profiles, so the panel draws one consistent moment rather than pieces of several."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.schedule.rules import CameraRules, RecordingRules, RuleListing, WeekSchedule
from app.vapix.disks import DiskManagement
from app.vapix.event_service import ScheduledEvent, ScheduleType
from app.vapix.recording_groups import RecordingGroup
from app.vapix.recordings import ContinuousProfile, RecordingControl
from app.vapix.transport import VapixTransport

DISK_LABELS = {"SD_DISK": "SD card", "NetworkShare": "Network share"}


@dataclass(frozen=True)
class DiskChoice:
    disk_id: str
    label: str


@dataclass(frozen=True)
class ScheduleOverview:
    disks: list[DiskChoice]
    rules: CameraRules
    profiles: list[ContinuousProfile] = field(default_factory=list)

    def week(self, disk_id: str) -> WeekSchedule:
        return self.rules.week(disk_id)

    def listing(self) -> list[RuleListing]:
        return self.rules.listing()

    def pulses(self) -> list[ScheduledEvent]:
        """Schedules a triggered rule can start on (pulses are instants; intervals make the week)."""
        return [s for s in self.rules.schedules.values() if s.kind is ScheduleType.PULSE]

    @property
    def groups(self) -> list[RecordingGroup]:
        return list(self.rules.groups.values())

    def label(self, disk_id: str) -> str:
        return next((d.label for d in self.disks if d.disk_id == disk_id), disk_id)


async def read_overview(transport: VapixTransport) -> ScheduleOverview:
    disks = [
        DiskChoice(d.disk_id, d.name or DISK_LABELS.get(d.disk_id, d.disk_id))
        for d in await DiskManagement(transport).list()
    ]
    rules = await RecordingRules(transport).read()
    profiles = await RecordingControl(transport).profiles()
    return ScheduleOverview(disks, rules, profiles)
