"""A network module's zeroconf (DNS-SD) advertisement: the record and where it is announced.

``build_service_info`` makes the ``_liuzhou._tcp`` record of an appliance
(TXT schema from ``link.discovery``) for the address it serves on (every
interface's IPv4 address when that is 0.0.0.0); ``zeroconf_for`` makes the
zeroconf instance that announces it, on loopback only when serving on
loopback. ``NetworkModule`` (bridge.py) registers, updates and withdraws it.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Final

import ifaddr
from zeroconf import IPVersion, ServiceInfo
from zeroconf.asyncio import AsyncZeroconf

from custom_components.liuzhou_appliances.link.discovery import (
    SERVICE_TYPE,
    build_txt,
    service_name,
)
from custom_components.liuzhou_appliances.link.server import ApplianceIdentity

LOOPBACK: Final = "127.0.0.1"


def zeroconf_for(host: str) -> AsyncZeroconf:
    """A zeroconf instance that advertises where ``host`` is reachable.

    Served on loopback, the advertisement stays on loopback too, so simulated
    appliances never show up on the real network.
    """
    if ipaddress.ip_address(host).is_loopback:
        return AsyncZeroconf(interfaces=[LOOPBACK], ip_version=IPVersion.V4Only)
    return AsyncZeroconf(ip_version=IPVersion.V4Only)


def _interface_addresses() -> list[str]:
    """The IPv4 addresses of this machine's network interfaces, loopback left out."""
    found: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ipaddress.ip_address(ip.ip).is_loopback:
                found.append(ip.ip)
    return sorted(set(found))


def build_service_info(
    identity: ApplianceIdentity,
    *,
    host: str,
    port: int,
    paired: bool,
    protocol: tuple[int, int],
) -> ServiceInfo:
    """The DNS-SD record of an appliance (TXT schema from link.discovery)."""
    unspecified = ipaddress.ip_address(host).is_unspecified
    addresses = _interface_addresses() if unspecified else [host]
    return ServiceInfo(
        SERVICE_TYPE,
        service_name(identity.appliance_id),
        port=port,
        addresses=[socket.inet_aton(address) for address in addresses],
        properties=build_txt(
            appliance_id=identity.appliance_id,
            appliance_type=identity.type,
            model=identity.model,
            firmware=identity.firmware,
            paired=paired,
            protocol=protocol,
        ),
        server=f"{identity.appliance_id}.local.",
    )
