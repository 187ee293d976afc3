"""Tests of the appliance data model."""
