"""Which edge-storage APIs a camera has: apidiscovery's ids and versions where the firmware has it, the
documented Properties flags where it does not (firmware before AXIS OS 9 answers 404)."""

from __future__ import annotations

import pytest

from app.cameras.capabilities import (
    CAPABILITY_GROUPS,
    DISK_MANAGEMENT,
    DISK_PROPERTIES,
    EVENT_STREAM,
    RECORDING_EXPORT,
    RECORDING_STORAGE_LIMIT,
    ApiSupport,
    StorageCapabilities,
    read_api_support,
)
from app.vapix.apidiscovery import ApiInfo
from app.vapix.params import ParamApi
from tests.conftest import transport_for

# WIRE.md §10 (AXIS OS 9.80.2.2) and §1's apidiscovery list from the same camera.
PARAMS_9_80 = {
    "Properties.LocalStorage.ContinuousRecording": "yes",
    "Properties.LocalStorage.DiskEncryption": "yes",
    "Properties.LocalStorage.DiskHealth": "yes",
    "Properties.LocalStorage.ExportRecording": "yes",
    "Properties.LocalStorage.LocalStorage": "yes",
    "Properties.LocalStorage.NbrOfContinuousRecordingProfiles": "1",
    "Properties.LocalStorage.RequiredFileSystem": "yes",
    "Properties.LocalStorage.SDCard": "yes",
    "Properties.LocalStorage.StorageLimit": "yes",
    "Properties.NetworkShare.CIFS": "yes",
    "Properties.NetworkShare.NetworkShare": "yes",
}
APIS_9_80 = {
    api.id: api
    for api in (
        ApiInfo("disk-management", "1.0", "Edge storage Disk management"),
        ApiInfo("disk-properties", "1.1", "Edge storage Disk properties"),
        ApiInfo("disk-network-share", "1.0", "Edge storage Network share"),
        ApiInfo("recording", "1.0", "Edge Recording"),
        ApiInfo("recording-export", "1.1", "Export edge recording"),
        ApiInfo("recording-storage-limit", "1.0", "Edge Recording storage limit"),
        ApiInfo("param-cgi", "1.0", "Legacy Parameter Handling"),
    )
}
# Firmware 5.51.7: local storage and an SD card, none of the newer properties.
PARAMS_5_51 = {"Properties.LocalStorage.LocalStorage": "yes", "Properties.LocalStorage.SDCard": "yes"}


def flags(support: ApiSupport) -> tuple[bool, ...]:
    return (
        support.disk_management,
        support.disk_properties,
        support.network_share,
        support.recording,
        support.export,
        support.storage_limit,
    )


def test_a_9_80_camera_has_every_api_at_the_discovered_versions():
    support = ApiSupport.from_discovery(APIS_9_80, StorageCapabilities.from_params(PARAMS_9_80))
    assert support.discovered
    assert all(flags(support))
    assert support.versions == {
        "disk-management": "1.0",
        "disk-properties": "1.1",
        "disk-network-share": "1.0",
        "recording": "1.0",
        "recording-export": "1.1",
        "recording-storage-limit": "1.0",
    }
    assert support.version(DISK_PROPERTIES) == (1, 1)
    assert support.at_least(RECORDING_EXPORT, 1, 1)  # export to an external disk
    assert not support.at_least(RECORDING_EXPORT, 1, 2)
    assert not support.at_least(RECORDING_EXPORT, 2)
    assert not support.event_stream  # 9.80's list has no WebSocket event stream: its storage is polled


def test_the_event_stream_counts_only_when_apidiscovery_lists_it():
    listed = {**APIS_9_80, EVENT_STREAM: ApiInfo(EVENT_STREAM, "1.0", "Event Streaming over WebSocket")}
    support = ApiSupport.from_discovery(listed, StorageCapabilities.from_params(PARAMS_9_80))
    assert support.event_stream
    assert support.version(EVENT_STREAM) == (1, 0)
    old = ApiSupport.from_discovery(None, StorageCapabilities.from_params(PARAMS_9_80))
    assert not old.event_stream  # no Properties flag stands in for it


def test_without_apidiscovery_the_properties_decide_and_no_version_is_known():
    support = ApiSupport.from_discovery(None, StorageCapabilities.from_params(PARAMS_5_51))
    assert not support.discovered
    assert flags(support) == (True, False, False, True, False, False)  # disk management and recording
    assert support.versions == {}
    assert support.version(DISK_MANAGEMENT) is None
    assert not support.at_least(DISK_MANAGEMENT, 1)


def test_a_camera_without_properties_or_discovery_has_nothing():
    support = ApiSupport.from_discovery(None, StorageCapabilities.from_params({}))
    assert not any(flags(support))


def test_an_api_discovery_lists_counts_even_when_the_property_is_missing_and_the_reverse():
    only_limit = {RECORDING_STORAGE_LIMIT: APIS_9_80[RECORDING_STORAGE_LIMIT]}
    support = ApiSupport.from_discovery(only_limit, StorageCapabilities.from_params(PARAMS_5_51))
    assert support.discovered
    assert support.storage_limit  # listed, though the property is absent
    assert support.disk_management  # the property says yes, though discovery does not list it
    assert not support.export
    assert support.versions == {RECORDING_STORAGE_LIMIT: "1.0"}


@pytest.mark.parametrize("version", ["", "one", "1.x"])
def test_a_version_that_is_not_one_is_unknown(version):
    apis = {DISK_MANAGEMENT: ApiInfo(DISK_MANAGEMENT, version, "")}
    support = ApiSupport.from_discovery(apis, StorageCapabilities.from_params({}))
    assert support.disk_management
    assert support.version(DISK_MANAGEMENT) is None


@pytest.mark.functional
async def test_the_virtual_camera_reports_what_it_serves(shared_device):
    async with transport_for(shared_device, "viewer") as transport:
        capabilities = StorageCapabilities.from_params(await ParamApi(transport).list(*CAPABILITY_GROUPS))
        support = await read_api_support(transport, capabilities)
    assert support.discovered
    assert support.disk_management
    assert support.disk_properties
    assert support.storage_limit
    assert support.version(DISK_PROPERTIES) == (1, 1)
    assert support.version(RECORDING_STORAGE_LIMIT) == (1, 0)
    assert support.event_stream
