"""Head office's connection to the estate's broker (paho-mqtt), shared by the estate tools.

``BrokerSettings.from_args`` reads ``--broker mqtt[s]://host[:port]``, ``--ca``,
``--username`` and ``--password-file`` (or ``LIUZHOU_MQTT_PASSWORD``);
``connect`` returns a paho client with its network loop running, or raises
``BrokerError`` (refused credentials, unreachable broker, bad certificate).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
import os
from pathlib import Path
import ssl
import threading
from urllib.parse import urlsplit
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

PASSWORD_ENV = "LIUZHOU_MQTT_PASSWORD"


class BrokerError(Exception):
    """The broker could not be reached or refused us (the message says which)."""


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """Where the broker is and how to log in (``tls``: verify it against ``ca``)."""

    host: str
    port: int
    tls: bool
    ca: Path | None = None
    username: str | None = None
    password: str | None = None

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """The connection options every estate tool takes."""
        parser.add_argument(
            "--broker", required=True, help="mqtt://host[:1883] or mqtts://host[:8883]"
        )
        parser.add_argument("--ca", type=Path, help="CA certificate that signed the broker's")
        parser.add_argument("--username")
        parser.add_argument("--password-file", type=Path, help=f"else ${PASSWORD_ENV}")

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> BrokerSettings:
        """The settings from the parsed options; BrokerError if they are inconsistent."""
        url = urlsplit(args.broker)
        if url.scheme not in ("mqtt", "mqtts") or not url.hostname:
            raise BrokerError(f"--broker {args.broker!r}: expected mqtt://host or mqtts://host")
        tls = url.scheme == "mqtts"
        password = os.environ.get(PASSWORD_ENV)
        if args.password_file is not None:
            try:
                password = args.password_file.read_text().strip()
            except OSError as err:
                raise BrokerError(f"--password-file: {err}") from None
        return cls(
            host=url.hostname,
            port=url.port or (8883 if tls else 1883),
            tls=tls,
            ca=args.ca,
            username=args.username,
            password=password,
        )


def connect(settings: BrokerSettings, timeout: float = 10.0) -> mqtt.Client:
    """A connected client (MQTT 3.1.1, clean session) with its loop running in a thread."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"liuzhou-estate-{uuid.uuid4().hex[:12]}"
    )
    if settings.username is not None:
        client.username_pw_set(settings.username, settings.password)
    if settings.tls:
        try:
            client.tls_set(
                ca_certs=str(settings.ca) if settings.ca else None,
                cert_reqs=ssl.CERT_REQUIRED,
            )
        except (OSError, ssl.SSLError) as err:
            raise BrokerError(f"TLS: {err}") from None
    done = threading.Event()
    outcome: list[ReasonCode] = []

    def _on_connect(
        _client: mqtt.Client, _userdata: object, _flags: object, reason: ReasonCode, _props: object
    ) -> None:
        outcome.append(reason)
        done.set()

    client.on_connect = _on_connect
    try:
        client.connect(settings.host, settings.port, keepalive=30)
    except (OSError, ssl.SSLError) as err:
        raise BrokerError(f"{settings.host}:{settings.port}: {err}") from None
    client.loop_start()
    if not done.wait(timeout) or outcome[0].is_failure:
        client.loop_stop()
        client.disconnect()
        reason = str(outcome[0]) if outcome else "no answer"
        raise BrokerError(f"{settings.host}:{settings.port} refused the connection: {reason}")
    client.on_connect = None
    return client
