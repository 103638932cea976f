"""Video the virtual camera makes: a synthetic picture, its encoders and the fan-out to recordings and streams."""
