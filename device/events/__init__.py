"""The camera's internal event bus: stateful conditions (storage disruption, storage alert, recording)."""
