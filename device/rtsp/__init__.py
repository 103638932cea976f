"""The camera's RTSP server (RTSP/1.0 over TCP)."""
