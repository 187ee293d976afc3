"""Assist intents and sentences against simulated appliances."""
