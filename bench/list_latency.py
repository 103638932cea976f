"""list.cgi latency with 10k and 100k recordings on the card: time-window filter, a page of 100, Digest auth over
loopback. Run by hand from the repository root: `.venv/bin/python -m bench.list_latency [--requests 200]`.

Each size gets a fresh data dir: a little real history (0.25 h) plus N index-only recordings (event ID "bench",
4 s each, 5 s apart, see device/backfill.py), then the real camera process. Requests ask for recordings overlapping
a random window (10 min to 24 h) inside the filled span, newest first, maxnumberofresults=100. Two clients:

* persistent: one httpx.Client, keep-alive, Digest challenge reused (one round trip per request);
* fresh: a new connection and a new Digest challenge per request (two round trips), as a naive client does.

Then, in-process on the same index, where a request's time goes: the SQL (RecordingIndex.query_recordings) versus
building and serialising the XML (recording_element + lxml tostring).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from lxml import etree

from device.backfill import INDEX_ONLY_STEP, backfill
from device.http.recordings import recording_element
from device.storage.index import RecordingFilter, RecordingIndex
from device.storage.layout import INDEX_NAME
from tests.support.device_process import CREDENTIALS, DEFAULT_USERS, SERIAL, RunningDevice


def windows(end: datetime, count: int, n: int, rng: random.Random) -> list[tuple[datetime, datetime]]:
    span = (n * INDEX_ONLY_STEP).total_seconds()
    out = []
    for _ in range(n and count):
        length = rng.uniform(600, 24 * 3600)
        start = end - timedelta(seconds=rng.uniform(0, span))
        out.append((start, start + timedelta(seconds=length)))
    return out


def params(window: tuple[datetime, datetime]) -> dict[str, str]:
    return {
        "recordingid": "all",
        "starttime": window[0].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "stoptime": window[1].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "maxnumberofresults": "100",
    }


def summary(label: str, samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"{label:<34} p50 {statistics.median(ms):6.2f} ms  p95 {p95:6.2f} ms  max {ms[-1]:6.2f} ms  (n={len(ms)})"


def over_http(device: RunningDevice, wins: list[tuple[datetime, datetime]]) -> tuple[list[float], list[float], int]:
    url = f"{device.http_url}/axis-cgi/record/list.cgi"
    auth = httpx.DigestAuth(*CREDENTIALS["viewer"])
    persistent: list[float] = []
    fresh: list[float] = []
    returned = 0
    with httpx.Client(auth=auth, timeout=30) as client:
        for w in wins[:10]:  # warm up: connection, nonce, SQLite page cache
            client.get(url, params=params(w)).raise_for_status()
        for w in wins:
            began = time.perf_counter()
            response = client.get(url, params=params(w))
            persistent.append(time.perf_counter() - began)
            response.raise_for_status()
            returned += len(etree.fromstring(response.content).find("recordings"))
    for w in wins:
        began = time.perf_counter()
        httpx.get(url, params=params(w), auth=auth, timeout=30).raise_for_status()
        fresh.append(time.perf_counter() - began)
    return persistent, fresh, returned


def in_process(
    index_path: Path, wins: list[tuple[datetime, datetime]], end: datetime
) -> tuple[list[float], list[float]]:
    index = RecordingIndex(index_path)
    zone = ZoneInfo("UTC")
    sql: list[float] = []
    xml: list[float] = []
    try:
        for w in wins:
            began = time.perf_counter()
            _total, _matched, page = index.query_recordings(RecordingFilter(start=w[0], stop=w[1], now=end), True, 100)
            sql.append(time.perf_counter() - began)
            began = time.perf_counter()
            root = etree.Element("root")
            for meta, locked in page:
                root.append(recording_element("SD_DISK", meta, locked, end, zone))
            etree.tostring(root)
            xml.append(time.perf_counter() - began)
    finally:
        index.close()
    return sql, xml


def run(n: int, requests: int, workdir: Path) -> None:
    data = workdir / f"camera-{n}"
    end = datetime.now(UTC).replace(microsecond=0)
    began = time.perf_counter()
    report = backfill(data, 0.25, end=end, index_only_count=n, serial=SERIAL)
    print(f"\n== {n} index-only recordings (+{report.recordings} real): filled in {time.perf_counter() - began:.1f} s")
    wins = windows(end, requests, n, random.Random(n))
    args = [a for user in DEFAULT_USERS for a in ("--user", user)] + ["--serial", SERIAL]
    device = RunningDevice(data, args).start(timeout=120)
    try:
        persistent, fresh, returned = over_http(device, wins)
    finally:
        device.stop()
    print(summary("list.cgi, persistent client", persistent))
    print(summary("list.cgi, new connection + Digest", fresh))
    print(f"{'':<34} {returned / len(wins):.1f} recordings per response on average")
    sql, xml = in_process(data / "sdcard" / INDEX_NAME, wins, end)
    print(summary("  in-process: query_recordings", sql))
    print(summary("  in-process: XML build + tostring", xml))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--sizes", default="10000,100000")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="edgestore-bench-") as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            run(n, args.requests, Path(tmp))


if __name__ == "__main__":
    main()
