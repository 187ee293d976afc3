"""A real Mosquitto broker on 127.0.0.1 for the estate tests, set up as docs/estate.md says.

Two listeners, both with a password per user and the ACL: plain TCP (Home
Assistant's MQTT client in the tests) and TLS with a CA and a server
certificate made by scripts/broker_tls.py (as the property demo's broker's
are). Retained messages persist across ``stop()``/``start()``, as on a real
site.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import os
from pathlib import Path
import shutil
import socket
import subprocess
import time

from scripts.broker_tls import CA_CERT, SERVER_CERT, SERVER_KEY, write_certificates
from scripts.property_broker import OFFICE, acl_text, hub_user

ESTATE = "riverside"
# user -> (password, building or None for head office)
USERS: dict[str, tuple[str, str | None]] = {
    OFFICE: ("office-secret", None),
    hub_user("tower-a"): ("secret-a", "tower-a"),
    hub_user("tower-b"): ("secret-b", "tower-b"),
}


def mosquitto_binary(name: str) -> str:
    """The path of a Mosquitto program (Debian puts the broker in /usr/sbin)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        raise RuntimeError(f"{name} not found: ./scripts/setup installs mosquitto")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class MosquittoBroker:
    """A mosquitto process; ``port`` plain, ``tls_port`` TLS (``ca`` verifies it)."""

    directory: Path
    port: int = field(default_factory=_free_port)
    tls_port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def ca(self) -> Path:
        """The CA certificate that signed the broker's."""
        return self.directory / CA_CERT

    def configure(self) -> None:
        """Write certificates, password file (mosquitto_passwd), ACL and configuration."""
        self.directory.mkdir(parents=True, exist_ok=True)
        write_certificates(self.directory)
        passwords = self.directory / "passwd"
        passwords.touch()
        for user, (password, _building) in USERS.items():
            subprocess.run(
                [mosquitto_binary("mosquitto_passwd"), "-b", str(passwords), user, password],
                check=True,
                capture_output=True,
            )
        buildings = [building for _password, building in USERS.values() if building is not None]
        # The demo's ACL, the one docs/estate.md gives: what the tests prove is what ships.
        (self.directory / "acl").write_text(acl_text(ESTATE, buildings))
        d = self.directory
        (d / "mosquitto.conf").write_text(
            "\n".join(
                [
                    "user root" if _is_root() else "",
                    "per_listener_settings false",
                    "allow_anonymous false",
                    f"password_file {d / 'passwd'}",
                    f"acl_file {d / 'acl'}",
                    # Mosquitto queues at most 1000 messages per client by default: a head
                    # office subscribing to 2000 appliances' retained states lost the rest.
                    "max_queued_messages 20000",
                    "persistence true",
                    f"persistence_location {d}/",
                    f"log_dest file {d / 'mosquitto.log'}",
                    "log_type all",
                    f"listener {self.port} 127.0.0.1",
                    f"listener {self.tls_port} 127.0.0.1",
                    f"cafile {d / CA_CERT}",
                    f"certfile {d / SERVER_CERT}",
                    f"keyfile {d / SERVER_KEY}",
                    "",
                ]
            )
        )

    def start(self) -> None:
        """Start mosquitto and wait until both listeners accept connections."""
        self.process = subprocess.Popen(
            [mosquitto_binary("mosquitto"), "-c", str(self.directory / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        for port in (self.port, self.tls_port):
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"mosquitto exited: {self.log()[-2000:]}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)

    def stop(self) -> None:
        """Stop mosquitto (SIGTERM: it saves retained messages first)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def log(self) -> str:
        """What the broker logged (connections refused, ACL denials)."""
        path = self.directory / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _is_root() -> bool:
    return os.geteuid() == 0
