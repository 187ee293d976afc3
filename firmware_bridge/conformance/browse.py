"""Find the device's zeroconf advertisement, the way the hub's zeroconf listener would."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
import ipaddress
import socket

from zeroconf import InterfaceChoice, IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from custom_components.liuzhou_appliances.link.discovery import SERVICE_TYPE

from .runner import CheckFailed


@dataclass(frozen=True, slots=True)
class Advertisement:
    """One resolved service instance."""

    name: str
    addresses: tuple[str, ...]
    port: int
    properties: dict[bytes, bytes | None]


async def resolve_host(host: str) -> set[str]:
    """The IPv4 addresses ``host`` stands for."""
    with contextlib.suppress(ValueError):
        return {str(ipaddress.ip_address(host))}
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, family=socket.AF_INET)
    except OSError as err:
        raise CheckFailed(f"cannot resolve {host}: {err}") from None
    return {str(info[4][0]) for info in infos}


async def find_advertisement(host: str, port: int, browse_for: float) -> tuple[Advertisement, int]:
    """Browse SERVICE_TYPE until an instance at ``host``:``port`` resolves.

    Returns it and how many instances of the type were seen. Loopback targets
    are browsed on the loopback interface only (where a simulator on this
    machine advertises). CheckFailed when browsing is impossible or nothing
    matches in ``browse_for`` seconds.
    """
    addresses = await resolve_host(host)
    loopback = all(ipaddress.ip_address(address).is_loopback for address in addresses)
    interfaces = ["127.0.0.1"] if loopback else InterfaceChoice.All
    try:
        zeroconf = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
    except OSError as err:
        raise CheckFailed(
            f"zeroconf browsing is impossible here ({err}); the hub finds appliances this way. "
            "Run where multicast works, or pass --no-discovery to skip this check explicitly"
        ) from None
    found: asyncio.Queue[str] = asyncio.Queue()
    seen: set[str] = set()

    def on_change(
        zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is not ServiceStateChange.Removed and name not in seen:
            seen.add(name)
            found.put_nowait(name)

    browser = AsyncServiceBrowser(zeroconf.zeroconf, SERVICE_TYPE, handlers=[on_change])
    loop = asyncio.get_running_loop()
    deadline = loop.time() + browse_for
    elsewhere: list[str] = []
    try:
        while (remaining := deadline - loop.time()) > 0:
            try:
                name = await asyncio.wait_for(found.get(), remaining)
            except TimeoutError:
                break
            info = AsyncServiceInfo(SERVICE_TYPE, name)
            wait_ms = max(100, int(min(remaining, 2.0) * 1000))
            if not await info.async_request(zeroconf.zeroconf, wait_ms):
                elsewhere.append(f"{name} (did not resolve)")
                continue
            advertised = tuple(info.parsed_addresses(IPVersion.V4Only))
            if info.port == port and addresses & set(advertised):
                return Advertisement(name, advertised, port, dict(info.properties)), len(seen)
            elsewhere.append(f"{name} at {', '.join(advertised) or '?'}:{info.port}")
    finally:
        await browser.async_cancel()
        await zeroconf.async_close()
    if elsewhere:
        raise CheckFailed(
            f"no {SERVICE_TYPE} instance advertises {host}:{port} within {browse_for:g} s; "
            f"seen: {'; '.join(elsewhere)}"
        )
    raise CheckFailed(
        f"no {SERVICE_TYPE} service seen within {browse_for:g} s "
        f"(browsed on {'loopback' if loopback else 'all interfaces'})"
    )
