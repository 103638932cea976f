"""gst-rtsp-server serving one Matroska block, the reference for bench/rtsp_playback.py. Not run on its own: the
bench starts it with the SYSTEM python3 (`/usr/bin/python3 bench/gst_rtsp_server.py BLOCK.mkv`), because GStreamer's
Python bindings (python3-gi, gir1.2-gst-rtsp-server-1.0) come from Debian and are not installable into the venv.

It serves ``rtsp://127.0.0.1:PORT/block`` without authentication, the block demuxed and packetized as it is, never
transcoded (``matroskademux ! h264parse ! rtph264pay``). ``set_shared(False)``: every client gets its own pipeline,
as every camera session reads the block on its own, so a seek by one client never moves another. It binds a free
port and prints ``listening on PORT`` once it accepts connections; SIGTERM or SIGINT stops it.
"""

from __future__ import annotations

import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402  (the versions must be chosen before the import)

PATH = "/block"


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: {sys.argv[0]} BLOCK.mkv")
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service("0")  # any free port; the bound one is read back below
    factory = GstRtspServer.RTSPMediaFactory()
    location = sys.argv[1].replace('"', '\\"')
    # config-interval=-1: SPS and PPS in band before every IDR, as the camera sends them (the blocks carry them in
    # band too, so this changes nothing when they are there already).
    factory.set_launch(
        f'( filesrc location="{location}" ! matroskademux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )'
    )
    factory.set_shared(False)
    server.get_mount_points().add_factory(PATH, factory)
    if server.attach(None) == 0:
        raise SystemExit("gst-rtsp-server could not listen")
    print(f"listening on {server.get_bound_port()}", flush=True)
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    loop.run()


if __name__ == "__main__":
    main()
