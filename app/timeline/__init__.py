"""The operator\x27s timeline without Qt: recordings as spans per track, the time scale and its ticks."""
