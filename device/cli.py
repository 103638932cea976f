"""`edgestore-device` / `python -m device`: run the virtual camera until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from platformdirs import user_data_dir

from device import __version__
from device.identity import IdentityError
from device.recorder.sources import check_source_spec
from device.runtime import Device, DeviceConfig
from device.tls import ensure_self_signed, server_context
from device.users import UserSpec

# Users the parent process passes without putting passwords on a command line that `ps` shows.
USERS_ENV = "EDGESTORE_DEVICE_USERS"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="edgestore-device", description="The Edgestore virtual Axis camera.")
    p.add_argument("--version", action="version", version=f"edgestore-device {__version__}")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path(user_data_dir("edgestore-device", appauthor=False)),
        help="where all state lives (default: the platform's user data dir)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--http-port", type=int, default=8080, help="HTTP(S) port; 0 picks a free one")
    p.add_argument("--rtsp-port", type=int, default=8554, help="RTSP port; 0 picks a free one")
    p.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="NAME:PASSWORD:ROLE",
        help="add or replace a user; ROLE is viewer, operator or admin (repeatable)",
    )
    p.add_argument("--serial", help="serial number, 12 hexadecimal digits (kept once set)")
    p.add_argument("--timezone", help="IANA time zone of the camera, e.g. Europe/Stockholm (kept once set)")
    p.add_argument("--tls", action="store_true", help="serve HTTPS with a self-signed certificate")
    p.add_argument("--tls-cert", type=Path, help="serve HTTPS with this certificate (PEM)")
    p.add_argument("--tls-key", type=Path, help="the private key of --tls-cert (PEM)")
    p.add_argument(
        "--continuous-profiles",
        type=int,
        default=2,
        choices=range(1, 9),
        metavar="N",
        help="how many continuous recording profiles the camera offers, 1-8 (default 2)",
    )
    p.add_argument(
        "--source",
        type=_source,
        default="synthetic",
        metavar="SOURCE",
        help="what the camera records: synthetic (default), file:PATH (looped) or rtsp://... (a camera)",
    )
    p.add_argument(
        "--sd-size",
        type=_size,
        default="32G",
        metavar="SIZE",
        help="capacity of the virtual SD card, e.g. 32G, 512M (default 32G)",
    )
    p.add_argument(
        "--usb-size",
        type=_size,
        default="8G",
        metavar="SIZE",
        help="capacity of the virtual USB disk that exports go to (default 8G)",
    )
    p.add_argument(
        "--usb-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the folder that is the USB disk's contents (default: usb/ in the data dir)",
    )
    p.add_argument("--nonce-lifetime", type=float, default=300.0, help="seconds a Digest nonce stays fresh")
    p.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING or ERROR")
    p.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when standard input closes: the app that started this camera has gone",
    )
    return p.parse_args(argv)


def _source(text: str) -> str:
    try:
        return check_source_spec(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _size(text: str) -> int:
    units = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
    number, unit = text.strip().upper().rstrip("IB"), 1
    if number and number[-1] in units:
        number, unit = number[:-1], units[number[-1]]
    try:
        size = int(float(number) * unit)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (use e.g. 32G or 512M)") from None
    if size < 16 * 1024**2:
        raise argparse.ArgumentTypeError("a disk must be at least 16M")
    return size


def build_config(args: argparse.Namespace) -> DeviceConfig:
    texts = [*args.user, *filter(None, os.environ.get(USERS_ENV, "").splitlines())]
    users = [UserSpec.parse(text) for text in texts]
    ssl_context = None
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            raise ValueError("--tls-cert and --tls-key go together")
        ssl_context = server_context(args.tls_cert, args.tls_key)
    elif args.tls:
        ssl_context = server_context(*ensure_self_signed(args.data_dir, "edgestore-device"))
    return DeviceConfig(
        data_dir=args.data_dir,
        host=args.host,
        http_port=args.http_port,
        rtsp_port=args.rtsp_port,
        users=users,
        serial=args.serial,
        timezone=args.timezone,
        ssl_context=ssl_context,
        nonce_lifetime=args.nonce_lifetime,
        sd_capacity=args.sd_size,
        source=args.source,
        continuous_profiles=args.continuous_profiles,
        usb_capacity=args.usb_size,
        usb_dir=args.usb_dir,
    )


async def run(device: Device, exit_with_parent: bool = False) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if exit_with_parent:
        _watch_parent(loop, stop)
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # Windows: no loop signal handlers
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    await device.start()
    try:
        if device.initial_password:
            print(
                f"Created admin user root with password {device.initial_password} "
                "(shown once; it is saved in the data dir as a hash)",
                flush=True,
            )
        print(f"HTTP listening on {device.http.url}", flush=True)
        print(f"RTSP listening on {device.rtsp.url}", flush=True)
        await stop.wait()
    finally:
        await device.stop()


def _watch_parent(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Stop when stdin reaches EOF: a pipe from the parent closes however the parent ends, even SIGKILL,
    on every platform. A daemon thread, because a blocked read must not hold up the loop's shutdown."""

    def wait_for_eof() -> None:
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait_for_eof, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if given[:1] == ["backfill"]:  # `python -m device backfill ...`: see device/backfill.py
        from device import backfill

        return backfill.main(given[1:])
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        device = Device(build_config(args))
    except (ValueError, IdentityError, OSError) as exc:
        print(f"edgestore-device: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(run(device, args.exit_with_parent))
    except OSError as exc:  # the port is taken, the address is not ours
        print(f"edgestore-device: cannot listen: {exc}", file=sys.stderr)
        return 1
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    return 0
