"""The camera's HTTP API (aiohttp): one module per CGI group, wired in device/http/server.py."""
