"""The async VAPIX client: one transport per camera, thin handlers per API, typed errors."""
