"""Edgestore's core: the async VAPIX client, models and camera services. No widgets here."""

__version__ = "0.1.0"
