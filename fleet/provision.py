"""``python -m fleet.provision ROSTER``: provision a property from a running Home Assistant.

Checks the roster here first (custom_components/liuzhou_appliances/roster.py),
uploads it through Home Assistant's file upload (``/api/file_upload``, an
administrator's token), then over the websocket API subscribes to
``liuzhou_appliances_provision_progress`` and calls ``liuzhou_appliances.provision``
with the uploaded file, printing a line per roster line as it is done and the
report at the end (``--json``: the report as JSON, progress on stderr).

The long-lived access token is read from ``--token-file`` or the
``LIUZHOU_HA_TOKEN`` environment variable, never from the command line (it
would show in the process list and the shell history).

Exit status: 0 every line provisioned (paired or already present), 1 some
line failed, 2 the roster or the call was refused, 3 Home Assistant could
not be reached or refused the token.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import csv
import io
import json
import os
from pathlib import Path
import sys
from typing import Any, Final, TextIO

import aiohttp

from custom_components.liuzhou_appliances.roster import RosterError, load_roster

DOMAIN: Final = "liuzhou_appliances"
EVENT: Final = f"{DOMAIN}_provision_progress"
TOKEN_ENV: Final = "LIUZHOU_HA_TOKEN"
# The outcome of a line that --building leaves out (not sent to Home Assistant).
OTHER_BUILDING: Final = "other_building"
EXIT_OK, EXIT_FAILED_ROWS, EXIT_REFUSED, EXIT_UNREACHABLE = 0, 1, 2, 3


class CliError(Exception):
    """The run cannot go on; ``status`` is the exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fleet.provision",
        # "--token" must not pass for "--token-file": a token is never an argument.
        allow_abbrev=False,
        description="Pair and place every appliance of a roster (CSV or YAML) "
        "through a running Home Assistant.",
    )
    parser.add_argument("roster", type=Path, help="the roster file (.csv, .yaml or .yml)")
    parser.add_argument("--url", default="http://localhost:8123", help="Home Assistant's address")
    parser.add_argument(
        "--token-file",
        type=Path,
        help=f"file holding a long-lived access token (default: ${TOKEN_ENV})",
    )
    parser.add_argument("--format", choices=["csv", "yaml"], help="when the suffix says neither")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--building",
        metavar="NAME",
        help="provision only this building's lines (CSV rosters); the others are "
        "reported as other_building and left alone",
    )
    return parser


def read_token(token_file: Path | None, environ: dict[str, str] | None = None) -> str:
    """The access token from the file or the environment; CliError if there is none."""
    environ = dict(os.environ) if environ is None else environ
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise CliError(f"cannot read {token_file}: {err.strerror}", EXIT_REFUSED) from None
    else:
        token = environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise CliError(f"no access token: use --token-file or set {TOKEN_ENV}", EXIT_REFUSED)
    return token


async def async_run(
    url: str,
    token: str,
    roster: Path,
    *,
    fmt: str | None = None,
    as_json: bool = False,
    building: str | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Provision ``roster`` through Home Assistant at ``url``; returns the exit status.

    With ``building``, only that building's lines go to Home Assistant (a CSV
    roster only); the others are reported with the outcome ``other_building``.
    """
    try:
        checked = load_roster(str(roster), fmt)
    except RosterError as error:
        print(f"{roster}: {error}", file=err)
        return EXIT_REFUSED
    content = roster.read_bytes()
    others: list[dict[str, Any]] = []
    if building is not None:
        if (fmt or roster.suffix.lower().lstrip(".")) != "csv":
            print(f"{roster}: --building needs a CSV roster", file=err)
            return EXIT_REFUSED
        others = [
            {
                "line": row.line,
                "outcome": OTHER_BUILDING,
                "building": row.building,
                "floor": row.floor,
                "room": row.room,
                "appliance": str(row.target),
            }
            for row in checked.rows
            if row.building != building
        ]
        content = blank_lines(content.decode("utf-8-sig"), {r["line"] for r in others})
    progress = err if as_json else out
    wanted = len(checked.rows) - len(others)
    print(f"{roster}: {wanted} appliances to provision", file=progress)
    if others:
        print(f"{roster}: {len(others)} lines of other buildings skipped", file=progress)
    headers = {"Authorization": f"Bearer {token}"}
    base = url.rstrip("/")
    try:
        async with aiohttp.ClientSession(headers=headers) as session:
            file_id = await _async_upload(session, base, roster.name, content)
            report = await _async_provision(session, base, token, file_id, fmt, progress)
    except CliError as error:
        print(str(error), file=err)
        return error.status
    except (aiohttp.ClientError, TimeoutError) as error:
        print(f"cannot reach Home Assistant at {url}: {error}", file=err)
        return EXIT_UNREACHABLE
    if others:
        report["rows"] = sorted([*report.get("rows", []), *others], key=lambda r: r["line"])
        report.setdefault("summary", {})[OTHER_BUILDING] = len(others)
    if as_json:
        json.dump(report, out, ensure_ascii=False, indent=2)
        print(file=out)
    else:
        print_report(report, out)
    return EXIT_FAILED_ROWS if report.get("failed") else EXIT_OK


def blank_lines(text: str, lines: set[int]) -> bytes:
    """``text`` (a CSV roster) with the records that end on ``lines`` made blank.

    Blank lines are skipped by the roster reader, so the lines left keep their
    numbers and Home Assistant's report names the lines of the original file.
    """
    physical = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    for _values in reader:
        end = reader.line_num
        if end in lines:
            for number in range(start, end + 1):
                ending = "\n" if physical[number - 1].endswith(("\n", "\r")) else ""
                physical[number - 1] = ending
        start = end + 1
    return "".join(physical).encode("utf-8")


async def _async_upload(
    session: aiohttp.ClientSession, base: str, name: str, content: bytes
) -> str:
    form = aiohttp.FormData()
    form.add_field("file", content, filename=name)
    async with session.post(f"{base}/api/file_upload", data=form) as response:
        if response.status in (401, 403):
            raise CliError(
                "Home Assistant refused the token (an administrator's is needed)",
                EXIT_UNREACHABLE,
            )
        if response.status != 200:
            raise CliError(f"upload refused: HTTP {response.status}", EXIT_REFUSED)
        return str((await response.json())["file_id"])


async def _async_provision(
    session: aiohttp.ClientSession,
    base: str,
    token: str,
    file_id: str,
    fmt: str | None,
    progress: TextIO,
) -> dict[str, Any]:
    """Authenticate, subscribe to the progress, call the action; its response."""
    async with session.ws_connect(f"{base}/api/websocket", max_msg_size=0) as ws:
        await ws.receive_json()  # auth_required
        await ws.send_json({"type": "auth", "access_token": token})
        if (await ws.receive_json()).get("type") != "auth_ok":
            raise CliError("Home Assistant refused the token", EXIT_UNREACHABLE)
        await ws.send_json({"id": 1, "type": "subscribe_events", "event_type": EVENT})
        subscribed = await ws.receive_json()
        if not subscribed.get("success"):
            raise CliError(f"cannot follow the progress: {subscribed}", EXIT_REFUSED)
        data: dict[str, Any] = {"file_id": file_id}
        if fmt is not None:
            data["format"] = fmt
        await ws.send_json(
            {
                "id": 2,
                "type": "call_service",
                "domain": DOMAIN,
                "service": "provision",
                "service_data": data,
                "return_response": True,
            }
        )
        while True:
            message = await ws.receive_json()
            if message.get("id") == 1 and message.get("type") == "event":
                print(progress_line(message["event"]["data"]), file=progress, flush=True)
            elif message.get("id") == 2 and message.get("type") == "result":
                if not message.get("success"):
                    error = message.get("error") or {}
                    raise CliError(
                        f"Home Assistant refused the roster: {error.get('message', error)}",
                        EXIT_REFUSED,
                    )
                response: dict[str, Any] = message["result"]["response"]
                return response


def progress_line(event: dict[str, Any]) -> str:
    """One progress event as a line: ``[3/8] line 4 Tower B / 2 / 201 lz-ac-1: paired``.

    A try that failed for a passing reason ends ``..., trying again in 5 s``.
    """
    where = " / ".join(str(event[k]) for k in ("building", "floor", "room") if k in event)
    parts = [f"[{event.get('done')}/{event.get('total')}] line {event.get('line')}"]
    parts += [p for p in (where, event.get("appliance")) if p]
    text = " ".join(str(p) for p in parts) + f": {event.get('outcome')}"
    if event.get("reason"):
        text += f" ({event['reason']})"
    if event.get("retry_in") is not None:
        text += f", trying again in {float(event['retry_in']):.0f} s"
    return text


def print_report(report: dict[str, Any], out: TextIO) -> None:
    """The report for people: every line, warnings, what was created, the totals."""
    print("\nReport", file=out)
    for row in report.get("rows", []):
        detail = row.get("reason") or ", ".join(row.get("changes") or [])
        place = " / ".join(str(row[k]) for k in ("building", "floor", "room") if k in row)
        print(
            f"  line {row['line']:>4}  {row['outcome']:<19} {place:<28} "
            f"{row.get('appliance', '')}{f'  {detail}' if detail else ''}",
            file=out,
        )
    for warning in report.get("warnings", []):
        print(f"  line {warning['line']:>4}  warning: {warning['reason']}", file=out)
    created = report.get("created", {})
    if created.get("household"):
        print("Created the household entry (rooms and floors belong to it).", file=out)
    for kind in ("floors", "areas", "labels"):
        if created.get(kind):
            print(f"Created {kind}: {', '.join(created[kind])}", file=out)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(report.get("summary", {}).items()))
    print(f"{summary} in {report.get('seconds', 0)} s; {report.get('failed', 0)} failed", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        token = read_token(args.token_file)
    except CliError as error:
        print(str(error), file=sys.stderr)
        return error.status
    return asyncio.run(
        async_run(
            args.url,
            token,
            args.roster,
            fmt=args.format,
            as_json=args.json,
            building=args.building,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
