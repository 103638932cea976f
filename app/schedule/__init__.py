"""Recording schedules and event-triggered recording on a camera (issue #10): pure models and use cases, no Qt."""
