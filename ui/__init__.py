"""Edgestore's Qt interface: windows, panels and controllers on top of `app`."""
