"""The camera's recorder: encoded frames into Matroska blocks on a recording store, split, indexed, and closed
cleanly after a crash.

* :mod:`device.recorder.muxer` writes one block's frames as an append-only Matroska stream;
* :mod:`device.recorder.session` runs one recording: blocks, splits, the key-frame index, disk-full stops;
* :mod:`device.recorder.keyframes` is the key-frame side table in the store's index.db;
* :mod:`device.recorder.recovery` closes what a crash (SIGKILL, power loss) left open, at start-up;
* :mod:`device.recorder.ids` reads a Recording ID as clients write it in an argument.
"""
