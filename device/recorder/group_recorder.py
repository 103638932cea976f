"""Recording into a recording group: every rule whose action names the group feeds one recording (EVENTS.md §4.1,
"Several active actions on one group produce one recording").

Each group in use has one shared TriggeredRecorder made with the group's stream options, pre and post time and
disk. A rule holding the group holds that recorder; the recording ends `post` after the last holder lets go, so
two rules active in parallel, or one after the other within the post time, make one recording. The recording
is labelled by the rule that started it (recordingtype, eventid, eventtrigger, as a rule's own action would).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from device.recorder.groups import GroupStore, RecordingGroup
from device.recorder.service import RecordingService
from device.recorder.triggered import RecordSettings, TriggeredRecorder

Trigger = tuple[str, str, str]  # recordingtype, eventid, eventtrigger


@dataclass
class _Shared:
    group: RecordingGroup
    recorder: TriggeredRecorder
    users: set[int] = field(default_factory=set)  # rules whose action is started
    holders: set[int] = field(default_factory=set)  # rules holding the group now


def _settings(group: RecordingGroup, trigger: Trigger) -> RecordSettings:
    return RecordSettings(
        group.disk_id,
        group.stream_options,
        timedelta(milliseconds=group.pre_ms),
        timedelta(milliseconds=group.post_ms),
        trigger,
    )


class GroupRecorders:
    def __init__(self, recorder: RecordingService, store: GroupStore) -> None:
        self._recorder, self.store = recorder, store
        self.clock = recorder.state.clock
        self._shared: dict[str, _Shared] = {}

    def action(self, rule_id: int, group_id: str, trigger: Trigger) -> GroupAction:
        return GroupAction(self, rule_id, group_id, trigger)

    def recording(self, group_id: str) -> str | None:
        """The ID of the group's recording in progress, if any."""
        shared = self._shared.get(group_id)
        return shared.recorder.recording_id if shared is not None else None

    async def join(self, rule_id: int, group_id: str, trigger: Trigger) -> None:
        shared = self._shared.get(group_id)
        if shared is None:
            group = self.store.stored(group_id)
            if group is None:
                return  # deleted groups are refused while in use, so only a damaged actions.json gets here
            shared = _Shared(group, self._make(group, trigger))
            await shared.recorder.start()
            self._shared[group_id] = shared
        shared.users.add(rule_id)

    async def leave(self, rule_id: int, group_id: str, moment: datetime) -> None:
        shared = self._shared.get(group_id)
        if shared is None:
            return
        self.release(rule_id, group_id, moment)
        shared.users.discard(rule_id)
        if not shared.users:
            del self._shared[group_id]
            await shared.recorder.stop()

    def hold(self, rule_id: int, group_id: str, moment: datetime, trigger: Trigger) -> None:
        shared = self._shared.get(group_id)
        if shared is None:
            return
        if shared.recorder.recording_id is None and not shared.holders:
            shared.recorder.settings = replace(shared.recorder.settings, trigger=trigger)  # the starter labels it
        shared.holders.add(rule_id)
        shared.recorder.hold(moment)

    def release(self, rule_id: int, group_id: str, moment: datetime) -> None:
        shared = self._shared.get(group_id)
        if shared is None or rule_id not in shared.holders:
            return
        shared.holders.discard(rule_id)
        if not shared.holders:
            shared.recorder.release(moment)

    async def changed(self, before: RecordingGroup, after: RecordingGroup, moment: datetime) -> None:
        """update.cgi changed a group. New stream options restart its recording ("the recording group will be
        restarted"); new pre and post times apply from the next activation."""
        shared = self._shared.get(after.id)
        if shared is None:
            return
        shared.group = after
        if before.stream_options == after.stream_options:
            shared.recorder.retime(timedelta(milliseconds=after.pre_ms), timedelta(milliseconds=after.post_ms))
            return
        old = shared.recorder
        shared.recorder = self._make(after, old.settings.trigger)
        await old.stop()
        await shared.recorder.start()
        if shared.holders:
            shared.recorder.hold(moment)

    def _make(self, group: RecordingGroup, trigger: Trigger) -> TriggeredRecorder:
        return TriggeredRecorder(
            self._recorder,
            _settings(group, trigger),
            on_recording=lambda recording_id: self._recorded(group, recording_id),
        )

    def _recorded(self, group: RecordingGroup, recording_id: str) -> None:
        """Note the group's new recording, and forget the ones the disk no longer has (cleaned up, removed), so
        the list stays as long as what the disk holds rather than growing with every event for years."""
        disk = self._recorder.disks.disks.get(group.disk_id)
        if disk is not None and disk.store is not None:
            held = {meta.id for meta, _folder, _locked in disk.store.index.recordings()}
            self.store.forget_recordings(group.id, [r for r in self.store.recordings(group.id) if r not in held])
        self.store.add_recording(group.id, recording_id)


class GroupAction:
    """The ActionRunner (device.events.rules) of one rule whose action is `recording_group.storage`."""

    def __init__(self, groups: GroupRecorders, rule_id: int, group_id: str, trigger: Trigger) -> None:
        self._groups, self._rule, self.group_id, self._trigger = groups, rule_id, group_id, trigger

    async def start(self) -> None:
        await self._groups.join(self._rule, self.group_id, self._trigger)

    async def stop(self) -> None:
        await self._groups.leave(self._rule, self.group_id, self._groups.clock.now())

    def fire(self, moment: datetime) -> None:
        """The template is unlimited-only, so the engine holds and releases it; a fire is a hold that lets go at
        once, which still records the group's pre and post time."""
        self.hold(moment)
        self.release(moment)

    def hold(self, moment: datetime) -> None:
        self._groups.hold(self._rule, self.group_id, moment, self._trigger)

    def release(self, moment: datetime) -> None:
        self._groups.release(self._rule, self.group_id, moment)
