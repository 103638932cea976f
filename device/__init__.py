"""The Edgestore virtual camera: a separate program that speaks VAPIX over HTTP and RTSP like a real Axis camera.

Nothing here imports ``app`` or ``ui``; the desktop app talks to this program only over the network.
"""

__version__ = "0.1.0"
