"""Command-line tools for property managers: they drive a running Home Assistant
through its API and read the estate's MQTT broker; nothing here runs inside Home
Assistant."""
