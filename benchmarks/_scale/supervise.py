"""Child processes of the scale benchmark, and the baseline code tree they may run.

Every child runs in a session of its own with its output read by a thread, so
the benchmark can wait for a line with a deadline, and ends it (its whole
process group: SIGTERM, then SIGKILL) whatever happens, Ctrl-C included.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import os
from pathlib import Path
import queue
import signal
import subprocess
import sys
import threading
import time
from typing import IO, Any

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
# What the worker code uses of the integration: it must exist in the baseline too.
IMPORT_CHECK = """
import homeassistant.core
from custom_components.liuzhou_appliances.config_flow import async_get_hub_id
from custom_components.liuzhou_appliances.const import CONF_APPLIANCE_ID, CONF_HUB_ID, CONF_KEY
from custom_components.liuzhou_appliances.link.client import pair
from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.server import (
    ApplianceIdentity, ApplianceServer, MemoryKeyStore,
)
from benchmarks._scale.child import code_origin
print(code_origin())
"""


class BaselineError(Exception):
    """The baseline cannot be prepared or imported."""


def child_env() -> dict[str, str]:
    """The environment of a child: this checkout importable after the code root (its cwd)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def extract_baseline(ref: str, dest: Path) -> str:
    """Put the integration of commit ``ref`` into ``dest``; return the full commit hash.

    Children started with ``dest`` as their working directory import
    ``custom_components`` from there (``python -m`` puts the working directory
    first on sys.path) and everything else (benchmarks, firmware_bridge) from
    this checkout.
    """
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--verify", f"{ref}^{{commit}}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", commit, "custom_components"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    except subprocess.CalledProcessError as err:
        detail = err.stderr.decode() if isinstance(err.stderr, bytes) else err.stderr
        raise BaselineError(f"cannot take custom_components from {ref!r}: {detail}") from err
    check = subprocess.run(
        [PYTHON, "-c", IMPORT_CHECK],
        cwd=dest,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    origin = check.stdout.strip().splitlines()[-1:] if check.returncode == 0 else []
    if origin != [str(dest.resolve())]:
        raise BaselineError(
            f"the integration of {ref} ({commit[:12]}) cannot run this benchmark's workers "
            f"(an API they use is missing, or it did not import from {dest}):\n"
            + (check.stderr.strip()[-2000:] or check.stdout)
        )
    return commit


class Child:
    """One child process: lines of its standard output on a queue, its errors in a file."""

    def __init__(self, name: str, argv: list[str], cwd: Path, log: Path) -> None:
        self.name = name
        self.log = log
        self._log_file = log.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_line(self, want: str | None, timeout: float) -> str | None:
        """The first line starting with ``want`` (any line if None); None on end or timeout."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                self.lines.put(None)  # stays at its end
                return None
            if want is None or line.startswith(want):
                return line
        return None

    def send(self, text: str) -> None:
        """Write a line to its standard input, if it is still there to read it."""
        with contextlib.suppress(OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.write(text + "\n")
            self.proc.stdin.flush()

    def stop(self, grace: float = 5.0) -> None:
        """End its process group: SIGTERM, then SIGKILL after ``grace`` seconds."""
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            if self.proc.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(wait)
        # The group may outlive its leader (a thread pool's helper, say).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        self._log_file.close()

    def tail(self, lines: int = 15) -> str:
        """The end of its standard error, for a failure's reason."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])


class Children:
    """Every child started; all of them are ended on exit, normal or not."""

    def __init__(self) -> None:
        self.started: list[Child] = []

    def start(self, name: str, module: str, args: list[str], cwd: Path, logs: Path) -> Child:
        child = Child(name, [PYTHON, "-m", module, *args], cwd, logs / f"{name}.log")
        self.started.append(child)
        return child

    def stop_all(self) -> None:
        for child in self.started:
            child.stop()

    def alive(self) -> int:
        return sum(1 for child in self.started if child.proc.poll() is None)


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGTERM ends the benchmark as Ctrl-C does, so that its clean-up runs."""

    def on_term(_sig: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
