"""Playing recordings back over RTSP, without widgets: the RTSP session (`session.py`) that turns a camera's
stream into H.264 access units stamped with their wall-clock time, and the feed (`vlcfeed.py`) that hands them to
libvlc in-process as MPEG-TS, since Debian's libvlc has no RTSP module of its own.
"""
