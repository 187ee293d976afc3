"""The processes of ``./scripts/bench scale``: appliances, hub, and their supervision."""
