"""Export of recordings to single playable files: planning a range, remuxing blocks, archives, the USB disk."""
