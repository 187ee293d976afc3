"""The property demo's Mosquitto: TLS, a password per hub and for head office, the estate ACL.

One listener on 127.0.0.1, TLS only: its certificate is signed by a CA the demo
makes (scripts/broker_tls.py) and keeps in the state directory, reused while
valid; the hubs and head office verify the broker against that CA. Passwords
are made here, kept in the state directory (0600) and reused by later runs.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import json
import os
from pathlib import Path
import secrets
import shutil
import ssl
import subprocess
from typing import TYPE_CHECKING

from scripts.demo_owner import DemoError, shown

if TYPE_CHECKING:
    from fleet.estate_mqtt import BrokerSettings
    from scripts.broker_tls import Outcome

OFFICE = "office"
START_DEADLINE = 15  # seconds for the broker to accept connections


@dataclass(frozen=True, slots=True)
class Broker:
    """Where the broker listens (TLS), who may log in (user -> password).

    ``certificates``: what broker_tls.ensure_certificates did at configure
    ("made", "renewed" or "kept").
    """

    directory: Path
    port: int
    passwords: dict[str, str]
    certificates: Outcome = "kept"

    @property
    def url(self) -> str:
        """The broker as fleet.estate_report's ``--broker`` takes it."""
        return f"mqtts://127.0.0.1:{self.port}"

    @property
    def ca(self) -> Path:
        """The CA certificate (PEM) the hubs and head office verify the broker against."""
        from scripts.broker_tls import CA_CERT  # cryptography: not for --help's python3

        return self.directory / CA_CERT

    def settings(self, user: str) -> BrokerSettings:
        """fleet.estate_mqtt's connection settings for ``user``: TLS, verified against ``ca``."""
        from fleet.estate_mqtt import BrokerSettings

        return BrokerSettings(
            host="127.0.0.1",
            port=self.port,
            tls=True,
            ca=self.ca,
            username=user,
            password=self.passwords[user],
        )

    @property
    def log(self) -> Path:
        """Mosquitto's own log (connections, ACL denials)."""
        return self.directory / "mosquitto.log"

    def password_file(self, user: str) -> Path:
        """A file holding ``user``'s password (0600), for --password-file."""
        return self.directory / f"{user}.secret"


def hub_user(building_id: str) -> str:
    """The broker user of the hub of ``building_id``."""
    return f"hub-{building_id}"


def acl_text(estate: str, building_ids: list[str]) -> str:
    """The ACL of docs/estate.md: head office reads all and commands, a hub its building."""
    lines = [
        f"user {OFFICE}",
        "topic read liuzhou/#",
        "topic write liuzhou/+/command/#",
        "topic write liuzhou/+/+/command/#",
        "",
    ]
    for building in building_ids:
        lines += [
            f"user {hub_user(building)}",
            f"topic readwrite liuzhou/{estate}/{building}/#",
            f"topic read liuzhou/{estate}/command/#",
            "",
        ]
    return "\n".join(lines)


def _binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        raise DemoError(f"{name} not found: ./scripts/setup installs mosquitto")
    return found


def configure(directory: Path, port: int, estate: str, building_ids: list[str]) -> Broker:
    """Write certificates, password file, ACL and mosquitto.conf.

    A re-run keeps the passwords, and the certificates while they are valid.
    """
    from scripts import broker_tls  # cryptography: not for --help's python3

    directory.mkdir(parents=True, exist_ok=True)
    certificates = broker_tls.ensure_certificates(directory)
    saved = directory / "passwords.json"
    users = [OFFICE, *(hub_user(b) for b in building_ids)]
    passwords: dict[str, str] = json.loads(saved.read_text()) if saved.exists() else {}
    passwords = {user: passwords.get(user) or secrets.token_urlsafe(16) for user in users}
    saved.write_text(json.dumps(passwords))
    saved.chmod(0o600)
    password_db = directory / "passwd"
    password_db.unlink(missing_ok=True)
    password_db.touch(mode=0o600)
    for user, password in passwords.items():
        subprocess.run(
            [_binary("mosquitto_passwd"), "-b", str(password_db), user, password],
            check=True,
            capture_output=True,
        )
        secret = directory / f"{user}.secret"
        secret.write_text(password + "\n")
        secret.chmod(0o600)
    (directory / "acl").write_text(acl_text(estate, building_ids))
    (directory / "mosquitto.conf").write_text(
        "\n".join(
            [
                # Mosquitto drops root to its own user, which cannot read this directory.
                "user root" if os.geteuid() == 0 else "",
                "allow_anonymous false",
                f"password_file {password_db}",
                f"acl_file {directory / 'acl'}",
                # The default queue of 1000 messages per client is too short for a
                # head office that subscribes to a large estate's retained states.
                "max_queued_messages 20000",
                "persistence true",
                f"persistence_location {directory}/",
                f"log_dest file {directory / 'mosquitto.log'}",
                # TLS only: nothing on the broker travels in the clear.
                f"listener {port} 127.0.0.1",
                f"cafile {directory / broker_tls.CA_CERT}",
                f"certfile {directory / broker_tls.SERVER_CERT}",
                f"keyfile {directory / broker_tls.SERVER_KEY}",
                "",
            ]
        )
    )
    return Broker(directory, port, passwords, certificates)


async def start(broker: Broker) -> asyncio.subprocess.Process:
    """Start mosquitto; return once a TLS handshake verified against the CA succeeds.

    DemoError naming its log if it does not come up, or if its certificate
    does not verify.
    """
    context = ssl.create_default_context(cafile=str(broker.ca))
    process = await asyncio.create_subprocess_exec(
        _binary("mosquitto"),
        "-c",
        str(broker.directory / "mosquitto.conf"),
        # It logs to broker.log; what it says before that (running as root) is noise here.
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        async with asyncio.timeout(START_DEADLINE):
            while True:
                if process.returncode is not None:
                    raise DemoError(f"mosquitto exited at start; see {shown(broker.log)}")
                try:
                    _reader, writer = await asyncio.open_connection(
                        "127.0.0.1", broker.port, ssl=context
                    )
                except ssl.SSLCertVerificationError as err:
                    process.terminate()
                    raise DemoError(
                        f"mosquitto's certificate does not verify against {shown(broker.ca)}: "
                        f"{err.verify_message}; delete {shown(broker.directory)} to make new ones"
                    ) from None
                except OSError:  # ssl.SSLError included: not listening yet
                    await asyncio.sleep(0.1)
                    continue
                writer.close()
                return process
    except TimeoutError:
        process.terminate()
        raise DemoError(
            f"mosquitto did not listen on 127.0.0.1:{broker.port} within {START_DEADLINE} s; "
            f"see {shown(broker.log)}"
        ) from None
