"""Recording group API (/axis-cgi/record/recording_group/*.cgi, EVENTS.md §4.1): named recording settings on a
disk that several action rules record into, making one recording however many are active.

Times travel as the API gives them (pre and post in ms, retention in hours, 0 = no retention limit); the model
holds them in those units so nothing is rounded on the way back. The documentation spells the root's version
attribute `schemaversion` where other APIs write `SchemaVersion`; nothing here depends on either.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from app.vapix import xmlwire
from app.vapix.errors import ApiError, ProtocolError
from app.vapix.schemaversions import SchemaVersions
from app.vapix.transport import VapixTransport

BASE = "/axis-cgi/record/recording_group"
SCHEMA_VERSION = "1"
API_ID = "recording-group"

ERROR_TEXTS: dict[int, str] = {
    10: "The camera could not process the request.",
    20: "The camera refused the request as invalid.",
    40: "The camera does not support this version of the Recording group API.",
    110: "The camera has no recording group with this ID (or its disk is not there).",
    120: "The camera has as many recording groups as it can hold; delete one first.",
    130: "The camera does not accept these stream options.",
    140: "The recording group is in use by an action; remove the rules and actions that record into it first.",
}


def error_text(error: ApiError) -> str:
    known = ERROR_TEXTS.get(error.code) if error.code is not None else None
    return f"{known} ({error.description})" if known and error.description else known or error.description


@dataclass(frozen=True)
class RecordingGroup:
    group_id: str
    disk_id: str
    nice_name: str = ""
    description: str = ""
    retention_hours: int = 0
    stream_options: str = ""
    pre_ms: int = 0
    post_ms: int = 0

    @property
    def label(self) -> str:
        """What a person calls the group: its nice name, else its ID."""
        return self.nice_name or self.group_id

    @classmethod
    def from_element(cls, element: etree._Element) -> RecordingGroup:
        group_id = xmlwire.attr(element, "RecordingGroupId", "RecordingGroupID")
        if not group_id:
            raise ProtocolError("a RecordingGroup has no RecordingGroupId")
        return cls(
            group_id,
            xmlwire.attr(element, "DiskId", "DiskID") or "",
            xmlwire.attr(element, "NiceName") or "",
            xmlwire.attr(element, "Description") or "",
            _number(element, "RetentionTime"),
            xmlwire.attr(element, "StreamOptions") or "",
            _number(element, "PreDuration"),
            _number(element, "PostDuration"),
        )


def _number(element: etree._Element, name: str) -> int:
    value = (xmlwire.attr(element, name) or "").strip()
    if not value:
        return 0
    if not value.isdigit():
        raise ProtocolError(f"RecordingGroup has {name}={value!r}, which is not a whole number")
    return int(value)


class RecordingGroups:
    def __init__(self, transport: VapixTransport) -> None:
        self._transport = transport

    async def schema_versions(self) -> SchemaVersions:
        return SchemaVersions.from_xml(await self._transport.get_xml(f"{BASE}/schemaversions.cgi"))

    async def list(self, group_id: str | None = None) -> list[RecordingGroup]:
        params = {"schemaversion": SCHEMA_VERSION}
        if group_id is not None:
            params["recordinggroupid"] = group_id
        root = await self._transport.get_xml(f"{BASE}/list.cgi", params)
        xmlwire.raise_for_error(root)
        if xmlwire.find(root, "ListSuccess") is None:
            raise ProtocolError("list.cgi answered neither ListSuccess nor an error")
        return [RecordingGroup.from_element(e) for e in xmlwire.find_all(root, "RecordingGroup")]

    async def create(self, group: RecordingGroup) -> str:
        """Creates the group; an empty group_id lets the camera choose one. Returns the group's ID."""
        params = {"schemaversion": SCHEMA_VERSION, "diskid": group.disk_id, **_settings(group)}
        if group.group_id:
            params["recordinggroupid"] = group.group_id
        root = await self._transport.get_xml(f"{BASE}/create.cgi", params)
        xmlwire.raise_for_error(root)
        created = xmlwire.find(root, "CreateSuccess")
        group_id = xmlwire.attr(created, "RecordingGroupId", "RecordingGroupID") if created is not None else None
        if not group_id:
            raise ProtocolError("create.cgi answered without the new group's ID")
        return group_id

    async def update(self, group: RecordingGroup) -> None:
        """Sends every setting but the disk, which cannot change. New stream options restart the group's
        recording if one is running."""
        params = {"schemaversion": SCHEMA_VERSION, "recordinggroupid": group.group_id, **_settings(group)}
        await self._general(f"{BASE}/update.cgi", params)

    async def delete(self, group_id: str) -> None:
        """Deletes the group and its recordings; refused (140) while an action records into it."""
        await self._general(f"{BASE}/delete.cgi", {"schemaversion": SCHEMA_VERSION, "recordinggroupid": group_id})

    async def _general(self, path: str, params: dict[str, str]) -> None:
        root = await self._transport.get_xml(path, params)
        xmlwire.raise_for_error(root)
        if xmlwire.find(root, "GeneralSuccess") is None:
            raise ProtocolError(f"{path.rsplit('/', 1)[-1]} answered neither GeneralSuccess nor an error")


def _settings(group: RecordingGroup) -> dict[str, str]:
    return {
        "nicename": group.nice_name,
        "description": group.description,
        "retentiontime": str(group.retention_hours),
        "streamoptions": group.stream_options,
        "preduration": str(group.pre_ms),
        "postduration": str(group.post_ms),
    }
