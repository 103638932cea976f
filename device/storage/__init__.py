"""The camera's disks: the virtual SD card, the share's disk, their recording stores, health and encryption."""
