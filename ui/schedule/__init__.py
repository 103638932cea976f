"""The Schedule tab: the week grid, recording rules, continuous profiles and manual recording."""
