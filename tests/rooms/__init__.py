"""Tests of the HA-free room occupancy rules."""
