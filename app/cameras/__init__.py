"""Cameras the user manages: saved configuration, secrets, connection checks and sessions."""
