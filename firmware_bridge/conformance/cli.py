"""``python -m firmware_bridge conformance HOST:PORT --code CODE [--json]``, or
``--ble ADDRESS [--ble-transport SPEC [--ble-transport SPEC]]`` instead of HOST:PORT."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
from typing import TYPE_CHECKING, TextIO

from custom_components.liuzhou_appliances.link.pairing import (
    InvalidPairingCode,
    normalise_pairing_code,
)

from .checks import checks_for
from .runner import DEFAULT_HUB_ID, CheckResult, ConformanceOptions, Status, run_checks

if TYPE_CHECKING:
    from firmware_bridge.ble.central import BleCentral

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
DEFAULT_BLE_TRANSPORT = "usb:0"
ADDRESSES = ("F5:F4:F3:F2:F1:F0", "F5:F4:F3:F2:F1:F1")
_BLE_ADDRESS = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")


class _Parser(argparse.ArgumentParser):
    """argparse that returns instead of exiting, so run_cli controls the exit code."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds from 0 to 3600")
    return value


def _target(text: str) -> tuple[str, int]:
    host, separator, port_text = text.rpartition(":")
    if not separator or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host.strip("[]"), int(port_text)


def _ble_address(text: str) -> str:
    if not _BLE_ADDRESS.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a BLE address (AA:BB:CC:DD:EE:FF)")
    return text.upper()


def build_parser() -> argparse.ArgumentParser:
    """The conformance subcommand's arguments."""
    parser = _Parser(
        prog="python -m firmware_bridge conformance",
        description=(
            "Exercise a Liuzhou appliance exactly as the hub does and report one line per "
            "check. The appliance is re-paired: pair it with the hub again afterwards."
        ),
    )
    parser.add_argument(
        "target", type=_target, nargs="?", metavar="HOST:PORT", help="the appliance over TCP"
    )
    parser.add_argument(
        "--ble", type=_ble_address, metavar="ADDRESS", help="the appliance over BLE, instead"
    )
    parser.add_argument(
        "--ble-transport",
        action="append",
        default=[],
        metavar="SPEC",
        help=(
            "with --ble: the Bluetooth controller, a Bumble transport spec (usb:0, "
            "serial:/dev/ttyUSB0, tcp-client:HOST:PORT ...; default usb:0). Give a second "
            "one for the kit's connections next to the hub session (two LE devices share "
            "at most one connection)"
        ),
    )
    parser.add_argument("--code", required=True, help="pairing code on the label (1234-5678)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--no-discovery",
        action="store_true",
        help="skip the zeroconf (or BLE advertisement) check (reported as skipped: the run "
        "cannot pass)",
    )
    parser.add_argument("--hub-id", default=DEFAULT_HUB_ID, help="hub id sent in HELLO")
    parser.add_argument(
        "--timeout", type=_seconds, default=3.0, help="wait for any one answer (s, default 3)"
    )
    parser.add_argument(
        "--push-timeout", type=_seconds, default=3.0, help="wait for a push (s, default 3)"
    )
    parser.add_argument(
        "--settle-timeout",
        type=_seconds,
        default=3.0,
        help="wait for a write or command to show in a read (s, default 3)",
    )
    parser.add_argument(
        "--idle",
        type=_seconds,
        default=2.0,
        help="idle period a session must survive (s, default 2; use 50 to cover the "
        "hub's 45 s longest quiet)",
    )
    parser.add_argument(
        "--panel-utterance",
        action="store_true",
        help="also check an utterance from the voice panel: the kit asks you to speak or "
        "type at the panel and waits for it",
    )
    parser.add_argument(
        "--utterance-timeout",
        type=_seconds,
        default=60.0,
        help="with --panel-utterance: wait for the utterance (s, default 60)",
    )
    parser.add_argument(
        "--discovery-timeout",
        type=_seconds,
        default=5.0,
        help="zeroconf browse or BLE scan (s, default 5)",
    )
    return parser


def _line(result: CheckResult) -> str:
    label = {
        Status.PASSED: "PASS",
        Status.FAILED: "FAIL",
        Status.SKIPPED: "SKIP",
        Status.NOT_APPLICABLE: "N/A ",
    }[result.status]
    return f"{label} {result.check:<24} {result.duration_ms:7.0f} ms  {result.detail}"


def run_cli(argv: list[str], *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the conformance kit; 0 if every check passed, 1 if not, 2 on bad arguments."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        normalise_pairing_code(args.code)
    except _UsageError as usage:
        err.write(f"{parser.format_usage()}error: {usage}\n")
        return EXIT_USAGE
    except InvalidPairingCode as invalid:
        err.write(f"{parser.format_usage()}error: --code: {invalid}\n")
        return EXIT_USAGE
    except SystemExit as exit_request:  # --help
        return EXIT_USAGE if exit_request.code else EXIT_PASSED
    problem = None
    if (args.target is None) == (args.ble is None):
        problem = "give the appliance as HOST:PORT or as --ble ADDRESS (one of them)"
    elif args.ble_transport and args.ble is None:
        problem = "--ble-transport goes with --ble"
    elif len(args.ble_transport) > 2:
        problem = "--ble-transport: at most two controllers"
    if problem is not None:
        err.write(f"{parser.format_usage()}error: {problem}\n")
        return EXIT_USAGE
    host, port = args.target if args.target is not None else (args.ble, 0)
    return asyncio.run(_run(args, host, port, out, err))


async def _open_centrals(
    specs: list[str], err: TextIO, stack: contextlib.AsyncExitStack
) -> tuple[BleCentral, BleCentral | None] | None:
    """The hub session's central and, with a second spec, the kit's other one."""
    from firmware_bridge.ble.central import BleCentral  # Bumble only when asked for

    centrals: list[BleCentral] = []
    for index, spec in enumerate(specs or [DEFAULT_BLE_TRANSPORT]):
        try:
            # Distinct static random addresses: a link tells its devices apart by them.
            central = await asyncio.wait_for(BleCentral.open(spec, address=ADDRESSES[index]), 10)
        except Exception as error:  # Bumble's transports raise what their medium raises
            err.write(f"cannot open the Bluetooth controller {spec}: {error!r}\n")
            return None
        stack.push_async_callback(central.close)
        centrals.append(central)
    if len(centrals) == 1:
        err.write(
            "one controller: from capability_declaration on the kit opens connections "
            "next to the hub session, which one central cannot hold at once; give a "
            "second --ble-transport for a meaningful run\n"
        )
    return centrals[0], (centrals[1] if len(centrals) > 1 else None)


async def _run(args: argparse.Namespace, host: str, port: int, out: TextIO, err: TextIO) -> int:
    async with contextlib.AsyncExitStack() as stack:
        ble: BleCentral | None = None
        ble_side: BleCentral | None = None
        if args.ble is not None:
            opened = await _open_centrals(args.ble_transport, err, stack)
            if opened is None:
                return EXIT_USAGE
            ble, ble_side = opened
        code = await _run_kit(args, host, port, out, ble, ble_side)
    # (An exit stack may swallow exceptions, so mypy wants the return out here.)
    return code


async def _run_kit(
    args: argparse.Namespace,
    host: str,
    port: int,
    out: TextIO,
    ble: BleCentral | None,
    ble_side: BleCentral | None,
) -> int:
    options = ConformanceOptions(
        host=host,
        port=port,
        code=args.code,
        hub_id=args.hub_id,
        timeout=args.timeout,
        push_timeout=args.push_timeout,
        settle_timeout=args.settle_timeout,
        idle=args.idle,
        discovery=not args.no_discovery,
        discovery_timeout=args.discovery_timeout,
        ble=ble,
        ble_side=ble_side,
        panel_utterance=args.panel_utterance,
        utterance_timeout=args.utterance_timeout,
    )
    checks = checks_for(options)

    def report(result: CheckResult) -> None:
        out.write((json.dumps(result.to_json()) if args.json else _line(result)) + "\n")
        out.flush()

    discovery = "discovery_record" if ble is None else "ble_advertisement"
    skip = {} if options.discovery else {discovery: "skipped on request (--no-discovery)"}
    results = await run_checks(checks, options, on_result=report, skip=skip)
    passed = sum(result.passed for result in results)
    failed = [r.check for r in results if r.status is Status.FAILED]
    skipped = [r.check for r in results if r.status is Status.SKIPPED]
    not_applicable = [r.check for r in results if r.status is Status.NOT_APPLICABLE]
    total_ms = sum(r.duration_ms for r in results)
    conformant = len(results) == len(checks) and all(r.counts for r in results)
    target = f"{host}:{port}" if ble is None else f"ble {host}"
    if args.json:
        summary = {
            "summary": True,
            "target": target,
            "passed": passed,
            "failed": failed,
            "skipped": skipped,
            "not_applicable": not_applicable,
            "total": len(results),
            "conformant": conformant,
            "duration_ms": round(total_ms, 1),
        }
        out.write(json.dumps(summary) + "\n")
    else:
        verdict = "CONFORMANT" if conformant else "NOT CONFORMANT"
        extra = f", failed: {', '.join(failed)}" if failed else ""
        extra += f", skipped: {', '.join(skipped)}" if skipped else ""
        extra += f", not applicable: {', '.join(not_applicable)}" if not_applicable else ""
        out.write(
            f"{verdict}: {passed}/{len(results)} checks passed in {total_ms / 1000:.1f} s{extra}\n"
        )
    return EXIT_PASSED if conformant else EXIT_FAILED
