"""Command line of the network module: ``python -m firmware_bridge simulate|bridge|conformance``.

``simulate`` and ``bridge`` take SIGUSR1 as a press of the pairing button
(``kill -USR1 PID``): pairing is then open for 15 min on every appliance the
process serves (PROTOCOL.md 5.5).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
import contextlib
import importlib
import ipaddress
import json
import logging
import os
from pathlib import Path
import signal
import sys
from typing import TYPE_CHECKING, Final

from custom_components.liuzhou_appliances.link.codec import APPLIANCE_ID_PATTERN
from custom_components.liuzhou_appliances.link.declaration import Declaration, DeclarationError
from custom_components.liuzhou_appliances.link.discovery import DEFAULT_PORT
from custom_components.liuzhou_appliances.link.errors import LinkError
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.link.pairing import (
    PAIRING_WINDOW_S,
    InvalidPairingCode,
    normalise_pairing_code,
)

if TYPE_CHECKING:
    from .bridge import SimulatedProduct

PROG: Final = "python -m firmware_bridge"
_LOGGER = logging.getLogger(__name__)


def _whole_number(noun: str, low: int, high: int, label: str = "") -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high`` with a clear error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{label}{value} is not between {low} and {high}")
        return value

    return parse


_count = _whole_number("a whole number", 0, 64)
_port = _whole_number("a port number", 0, 65535, "port ")
_baud = _whole_number("a baud rate", 300, 4_000_000, "baud rate ")


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 100_000:
        raise argparse.ArgumentTypeError(f"speed must be above 0 and at most 100000, got {text}")
    return value


def _host(text: str) -> str:
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an IPv4 address") from None


def _appliance_id(text: str) -> str:
    if not APPLIANCE_ID_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} must be 1-64 of a-z 0-9 -")
    return text


def _code(text: str) -> str:
    try:
        return normalise_pairing_code(text)
    except InvalidPairingCode as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _declaration(text: str) -> Declaration:
    try:
        data = json.loads(Path(text).read_text(encoding="utf-8"))
    except OSError as error:
        raise argparse.ArgumentTypeError(f"cannot read {text}: {error.strerror}") from None
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text} is not valid JSON: {error}") from None
    try:
        return Declaration.from_dict(data)
    except DeclarationError as error:
        raise argparse.ArgumentTypeError(f"{text}: {error}") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    # The neural runtime: loaded only once a parser is wanted.
    from .models import WET_CYCLE, ModuleClass, model_path

    linux, mcu = (model_path(WET_CYCLE, module).name for module in ModuleClass)

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="The Liuzhou appliance network module and its simulators.",
        epilog=(
            "While simulate or bridge runs, kill -USR1 PID presses the pairing button: a paired "
            f"appliance accepts pairing again for {PAIRING_WINDOW_S / 60:.0f} min."
        ),
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    simulate = commands.add_parser(
        "simulate",
        help="run simulated appliances on this machine",
        description="Run simulated appliances, each on its own port, advertised over zeroconf.",
    )
    for flag, what in (
        ("--ac", "room air conditioners"),
        ("--fridge", "refrigerators"),
        ("--washer", "laundry washers"),
        ("--dishwasher", "dishwashers"),
    ):
        simulate.add_argument(flag, type=_count, default=0, metavar="N", help=f"number of {what}")
    simulate.set_defaults(subparser=simulate)
    simulate.add_argument("--seed", type=int, default=0, help="same seed, same ids and codes")
    simulate.add_argument(
        "--json", action="store_true", help="print one JSON object per appliance and line"
    )
    simulate.add_argument(
        "--speed", type=_speed, default=1.0, metavar="X", help="simulated seconds per real second"
    )
    simulate.add_argument("--host", type=_host, default="127.0.0.1", help="address to serve on")
    simulate.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="keys and simulator state (default: under the user's cache directory)",
    )
    simulate.add_argument(
        "--base-port",
        type=_port,
        default=0,
        metavar="P",
        help="serve on consecutive ports from P (default: ports chosen by the system)",
    )
    simulate.add_argument("--no-zeroconf", action="store_true", help="do not advertise")
    simulate.add_argument(
        "--module",
        choices=[str(module) for module in ModuleClass],
        default=str(ModuleClass.LINUX),
        help=(
            f"the washers' and dishwashers' network module: linux runs the float model file "
            f"({linux}), mcu the full-integer one ({mcu}); each declares the version it runs "
            "(default: linux)"
        ),
    )
    simulate.add_argument(
        "--panel",
        action="store_true",
        help=(
            "speak to the voice panels by typing lines on stdin: 'text' (the panel's first "
            "language), 'en: text' (a language), 'washer-1> text' (one appliance of several); "
            "what the panels say is printed"
        ),
    )
    simulate.add_argument(
        "--ble",
        action="store_true",
        help="also serve each appliance over BLE (GATT on the Bumble host stack)",
    )
    simulate.add_argument(
        "--ble-transport",
        action="append",
        default=[],
        metavar="SPEC",
        help=(
            "the controller for the next appliance: a Bumble transport spec (usb:0, "
            "serial:/dev/ttyUSB0, hci-socket:0 ...), one per appliance, or 'virtual' "
            "(default: a virtual controller on an in-process link)"
        ),
    )
    simulate.add_argument(
        "--ble-expose",
        action="append",
        default=[],
        metavar="SPEC",
        help=(
            "serve one more virtual controller on that link over this HCI transport "
            "(e.g. tcp-server:_:9000), for a host stack in another process; repeat for "
            "more (the conformance kit takes two)"
        ),
    )

    bridge = commands.add_parser(
        "bridge",
        help="bridge a real appliance's MCU on a serial port",
        description="Run the network module for an MCU on a serial port (SERIAL.md).",
    )
    bridge.add_argument("--serial", required=True, metavar="PORT", help="e.g. /dev/ttyS1")
    bridge.add_argument("--baud", type=_baud, default=115200, metavar="B")
    bridge.add_argument(
        "--declaration",
        type=_declaration,
        required=True,
        metavar="FILE",
        help="the model's capability declaration (JSON)",
    )
    bridge.add_argument("--id", type=_appliance_id, required=True, help="appliance id")
    bridge.add_argument("--code", type=_code, required=True, help="8-digit pairing code")
    bridge.add_argument("--port", type=_port, default=DEFAULT_PORT, metavar="P")
    bridge.add_argument("--host", type=_host, default="0.0.0.0", help="address to serve on")
    bridge.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where the hub's key is kept (default: under the user's state directory)",
    )
    bridge.add_argument("--no-zeroconf", action="store_true", help="do not advertise")

    commands.add_parser(
        "conformance",
        help="run the conformance kit against an appliance",
        add_help=False,
    )
    return parser


def _default_bridge_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "liuzhou-appliances" / "bridge"


@contextlib.contextmanager
def _stop_signals() -> Iterator[asyncio.Event]:
    """An event set by SIGINT or SIGTERM; installed before anything starts, so an
    early Ctrl-C still shuts down cleanly instead of killing the process."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        yield stop
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


class _PairingButtons:
    """What SIGUSR1 presses: the pairing button of every appliance this process serves."""

    def __init__(self) -> None:
        self.buttons: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def press(self) -> None:
        """The signal handler: press them all in a task (handlers cannot wait)."""
        if not self.buttons:
            _LOGGER.warning("pairing button: no appliance is serving yet")
            return
        task = asyncio.get_running_loop().create_task(self._press_all())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _press_all(self) -> None:
        for appliance_id, press in self.buttons:
            try:
                await press()
            except LinkError as error:
                _LOGGER.warning("%s: the pairing button was not taken: %s", appliance_id, error)
            else:
                _LOGGER.info(
                    "%s: pairing button pressed; pairing open for %.0f min",
                    appliance_id,
                    PAIRING_WINDOW_S / 60,
                )


@contextlib.contextmanager
def _pairing_button_signal() -> Iterator[_PairingButtons]:
    """SIGUSR1 presses the pairing buttons; installed early, as an early SIGUSR1 would
    otherwise end the process (its default action)."""
    buttons = _PairingButtons()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, buttons.press)
    try:
        yield buttons
    finally:
        loop.remove_signal_handler(signal.SIGUSR1)


def _print_table(records: list[dict[str, object]]) -> None:
    columns: tuple[str, ...] = ("type", "id", "host", "port", "code", "model", "firmware")
    if any("ble" in record for record in records):
        columns += ("ble",)
    rows = [[str(record[column]) for column in columns] for record in records]
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(columns)]
    for cells in ([c.upper() for c in columns], *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip())
    print(f"To pair an appliance again, press its pairing button: kill -USR1 {os.getpid()}")
    print("Serving; press Ctrl-C to stop.", flush=True)


async def _simulate(args: argparse.Namespace) -> int:
    from .bridge import default_state_dir

    state_dir = args.state_dir if args.state_dir is not None else default_state_dir()
    try:
        with _stop_signals() as stop, _pairing_button_signal() as buttons:
            return await _serve_fleet(args, state_dir, stop, buttons)
    except OSError as error:
        # A taken port or an unwritable state directory: say which, no traceback.
        print(f"{PROG} simulate: {error}", file=sys.stderr)
        return 1


async def _serve_fleet(
    args: argparse.Namespace, state_dir: Path, stop: asyncio.Event, buttons: _PairingButtons
) -> int:
    from .bridge import simulated_appliances

    async with simulated_appliances(
        ac=args.ac,
        fridge=args.fridge,
        washer=args.washer,
        dishwasher=args.dishwasher,
        seed=args.seed,
        speed=args.speed,
        host=args.host,
        state_dir=state_dir,
        zeroconf=not args.no_zeroconf,
        base_port=args.base_port,
        simulator_options={
            kind: {"module": args.module}
            for kind in (ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER)
        },
    ) as fleet:
        # Through the serial link, as the appliance's own button would.
        buttons.buttons = [(appliance.id, appliance.press_pairing_button) for appliance in fleet]
        records = [appliance.to_json() for appliance in fleet]
        async with contextlib.AsyncExitStack() as ble_stack:
            if args.ble:
                from .ble.fleet import serve_over_ble

                try:
                    peripherals = await serve_over_ble(
                        fleet, args.ble_transport, args.ble_expose, ble_stack
                    )
                except ValueError as error:
                    print(f"{PROG} simulate: {error}", file=sys.stderr)
                    return 2
                for record, peripheral in zip(records, peripherals, strict=True):
                    record["ble"] = peripheral.address
            if args.json:
                for record in records:
                    print(json.dumps(record, ensure_ascii=False), flush=True)
            else:
                _print_table(records)
            if args.panel:
                return await _serve_panels(fleet, stop)
            await stop.wait()
    return 0


async def _serve_panels(fleet: Sequence[SimulatedProduct], stop: asyncio.Event) -> int:
    """Type at the panels on stdin, print what they say, until stopped (EOF keeps serving)."""
    from .panel import PanelConsole, read_lines

    panels = {product.name: product.panel for product in fleet if product.panel is not None}
    if not panels:
        print(f"{PROG} simulate: none of these appliances has a voice panel", file=sys.stderr)
        return 2
    console = PanelConsole(panels, sys.stdout)
    print(f"Panels: {', '.join(panels)}. Type what the panel hears.", flush=True)
    reading = asyncio.create_task(read_lines(console, sys.stdin))
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if reading.done() and reading.exception() is not None:
            # stdin a regular file, say: a pipe or a terminal is needed.
            print(f"{PROG} simulate: cannot read stdin: {reading.exception()}", file=sys.stderr)
            return 1
        await stopping  # end of input: the appliances go on serving
    finally:
        for task in (reading, stopping):
            task.cancel()
        await asyncio.gather(reading, stopping, return_exceptions=True)
    return 0


async def _bridge(args: argparse.Namespace) -> int:
    from .bridge import NetworkModule, zeroconf_for
    from .mcu import McuBackend, open_serial_link

    declaration: Declaration = args.declaration
    state_dir = args.state_dir if args.state_dir is not None else _default_bridge_state_dir()
    try:
        link = await open_serial_link(args.serial, args.baud)
    except (OSError, ValueError) as error:
        print(f"{PROG} bridge: cannot open {args.serial}: {error}", file=sys.stderr)
        return 1
    async with contextlib.AsyncExitStack() as stack:
        stop = stack.enter_context(_stop_signals())
        buttons = stack.enter_context(_pairing_button_signal())
        aiozc = None
        if not args.no_zeroconf:
            aiozc = zeroconf_for(args.host)
            stack.push_async_callback(aiozc.async_close)
        module = NetworkModule(
            McuBackend(link, declaration),
            appliance_id=args.id,
            pairing_code=args.code,
            state_dir=state_dir,
            host=args.host,
            port=args.port,
            zeroconf=aiozc,
        )
        try:
            await module.start()
        except Exception as error:
            print(f"{PROG} bridge: {error}", file=sys.stderr)
            await module.stop()
            return 1
        stack.push_async_callback(module.stop)

        async def open_pairing() -> None:
            # A bench without the appliance's button: the signal stands in for PAIRING_BUTTON.
            module.open_pairing_window()

        buttons.buttons = [(args.id, open_pairing)]
        print(f"{args.id} serving on {args.host}:{module.port}", flush=True)
        await stop.wait()
    return 0


def _conformance(argv: list[str]) -> int:
    # Imported only when asked for: the kit is another engineer's module.
    try:
        kit = importlib.import_module(f"{__package__}.conformance")
    except ModuleNotFoundError as error:
        if error.name != f"{__package__}.conformance":
            raise
        print(f"{PROG} conformance: the conformance kit is not installed", file=sys.stderr)
        return 2
    run_cli: Callable[[list[str]], int] = kit.run_cli
    return run_cli(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] == "conformance":
        # The kit parses its own arguments.
        return _conformance(arguments[1:])
    parser = build_parser()
    args = parser.parse_args(arguments)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.command == "simulate":
        if not (args.ac or args.fridge or args.washer or args.dishwasher):
            args.subparser.error(
                "nothing to simulate: give --ac, --fridge, --washer or --dishwasher"
            )
        if (args.ble_transport or args.ble_expose) and not args.ble:
            args.subparser.error("--ble-transport and --ble-expose go with --ble")
        return asyncio.run(_simulate(args))
    if args.command == "bridge":
        return asyncio.run(_bridge(args))
    parser.error(f"unknown command {args.command}")
