"""Tests of the property managers' tools: the roster parser and the command line."""
