"""Liuzhou appliance link: data model, wire codec, crypto and sessions.

Imports nothing from Home Assistant: the integration and firmware_bridge
(the appliance's network module) both use this one package.
"""
