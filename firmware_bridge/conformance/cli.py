"""``python -m firmware_bridge conformance HOST:PORT --code CODE [--json]``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TextIO

from custom_components.liuzhou_appliances.link.pairing import (
    InvalidPairingCode,
    normalise_pairing_code,
)

from .checks import CHECKS
from .runner import DEFAULT_HUB_ID, CheckResult, ConformanceOptions, Status, run_checks

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


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


def build_parser() -> argparse.ArgumentParser:
    """The conformance subcommand's arguments."""
    parser = _Parser(
        prog="python -m firmware_bridge conformance",
        description=(
            "Exercise a Liuzhou appliance exactly as the hub does and report one line per "
            "check. The appliance is re-paired: pair it with the hub again afterwards."
        ),
    )
    parser.add_argument("target", type=_target, metavar="HOST:PORT", help="the appliance")
    parser.add_argument("--code", required=True, help="pairing code on the label (1234-5678)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--no-discovery",
        action="store_true",
        help="skip the zeroconf check (reported as skipped: the run cannot pass)",
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
        "--discovery-timeout", type=_seconds, default=5.0, help="zeroconf browse (s, default 5)"
    )
    return parser


def _line(result: CheckResult) -> str:
    label = {Status.PASSED: "PASS", Status.FAILED: "FAIL", Status.SKIPPED: "SKIP"}[result.status]
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
    host, port = args.target
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
    )

    def report(result: CheckResult) -> None:
        out.write((json.dumps(result.to_json()) if args.json else _line(result)) + "\n")
        out.flush()

    skip = {} if options.discovery else {"discovery_record": "skipped on request (--no-discovery)"}
    results = asyncio.run(run_checks(CHECKS, options, on_result=report, skip=skip))
    passed = sum(result.passed for result in results)
    failed = [r.check for r in results if r.status is Status.FAILED]
    skipped = [r.check for r in results if r.status is Status.SKIPPED]
    total_ms = sum(r.duration_ms for r in results)
    conformant = passed == len(results) == len(CHECKS)
    if args.json:
        summary = {
            "summary": True,
            "target": f"{host}:{port}",
            "passed": passed,
            "failed": failed,
            "skipped": skipped,
            "total": len(results),
            "conformant": conformant,
            "duration_ms": round(total_ms, 1),
        }
        out.write(json.dumps(summary) + "\n")
    else:
        verdict = "CONFORMANT" if conformant else "NOT CONFORMANT"
        extra = f", failed: {', '.join(failed)}" if failed else ""
        extra += f", skipped: {', '.join(skipped)}" if skipped else ""
        out.write(
            f"{verdict}: {passed}/{len(results)} checks passed in {total_ms / 1000:.1f} s{extra}\n"
        )
    return EXIT_PASSED if conformant else EXIT_FAILED
