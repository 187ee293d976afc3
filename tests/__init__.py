"""Tests for the Liuzhou Appliance Hub."""
