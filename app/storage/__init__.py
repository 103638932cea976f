"""Storage use cases over the VAPIX clients: overviews, guided disk and share actions, fleet helpers."""
