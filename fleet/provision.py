"""``python -m fleet.provision ROSTER``: provision a property from a running Home Assistant.

Checks the roster here first (custom_components/liuzhou_appliances/roster.py),
uploads it through Home Assistant's file upload (``/api/file_upload``, an
administrator's token), then over the websocket API subscribes to
``liuzhou_appliances_provision_progress`` and calls ``liuzhou_appliances.provision``
with the uploaded file, printing a line per roster line as it is done and the
report at the end (``--json``: the report as JSON, progress on stderr).
``--language zh-Hans`` prints the progress, the report and the command's
messages in Simplified Chinese (fleet.provision_texts); the JSON is the same
in both, and English, the default, prints each outcome as its key.

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

from .languages import LANGUAGES
from .provision_texts import OUTCOME_WIDTH, column, outcome_name, reason_text, texts

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
    parser.add_argument(
        "--language",
        choices=LANGUAGES,
        default="en",
        help="language of the progress, the report and the messages (zh-Hans: Simplified "
        "Chinese); JSON is the same in both",
    )
    return parser


def read_token(
    token_file: Path | None, environ: dict[str, str] | None = None, language: str = "en"
) -> str:
    """The access token from the file or the environment; CliError (in ``language``) if
    there is none."""
    environ = dict(os.environ) if environ is None else environ
    said = texts(language)
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as err:
            message = said["token_unreadable"].format(path=token_file, error=err.strerror)
            raise CliError(message, EXIT_REFUSED) from None
    else:
        token = environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise CliError(said["no_token"].format(variable=TOKEN_ENV), EXIT_REFUSED)
    return token


async def async_run(
    url: str,
    token: str,
    roster: Path,
    *,
    fmt: str | None = None,
    as_json: bool = False,
    building: str | None = None,
    language: str = "en",
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Provision ``roster`` through Home Assistant at ``url``; returns the exit status.

    With ``building``, only that building's lines go to Home Assistant (a CSV
    roster only); the others are reported with the outcome ``other_building``.
    Progress, report and messages are in ``language`` (one of LANGUAGES).
    """
    said = texts(language)
    try:
        checked = load_roster(str(roster), fmt)
    except RosterError as error:
        print(said["roster_error"].format(roster=roster, error=error), file=err)
        return EXIT_REFUSED
    content = roster.read_bytes()
    others: list[dict[str, Any]] = []
    if building is not None:
        if (fmt or roster.suffix.lower().lstrip(".")) != "csv":
            print(said["building_needs_csv"].format(roster=roster), file=err)
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
    print(said["to_provision"].format(roster=roster, count=wanted), file=progress)
    if others:
        print(said["others_skipped"].format(roster=roster, count=len(others)), file=progress)
    headers = {"Authorization": f"Bearer {token}"}
    base = url.rstrip("/")
    try:
        async with aiohttp.ClientSession(headers=headers) as session:
            file_id = await _async_upload(session, base, roster.name, content, language)
            report = await _async_provision(session, base, token, file_id, fmt, progress, language)
    except CliError as error:
        print(str(error), file=err)
        return error.status
    except (aiohttp.ClientError, TimeoutError) as error:
        print(said["unreachable"].format(url=url, error=error), file=err)
        return EXIT_UNREACHABLE
    if others:
        report["rows"] = sorted([*report.get("rows", []), *others], key=lambda r: r["line"])
        report.setdefault("summary", {})[OTHER_BUILDING] = len(others)
    if as_json:
        json.dump(report, out, ensure_ascii=False, indent=2)
        print(file=out)
    else:
        print_report(report, out, language)
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
    session: aiohttp.ClientSession, base: str, name: str, content: bytes, language: str
) -> str:
    said = texts(language)
    form = aiohttp.FormData()
    form.add_field("file", content, filename=name)
    async with session.post(f"{base}/api/file_upload", data=form) as response:
        if response.status in (401, 403):
            raise CliError(said["token_refused_upload"], EXIT_UNREACHABLE)
        if response.status != 200:
            raise CliError(said["upload_refused"].format(status=response.status), EXIT_REFUSED)
        return str((await response.json())["file_id"])


async def _async_provision(
    session: aiohttp.ClientSession,
    base: str,
    token: str,
    file_id: str,
    fmt: str | None,
    progress: TextIO,
    language: str,
) -> dict[str, Any]:
    """Authenticate, subscribe to the progress, call the action; its response."""
    said = texts(language)
    async with session.ws_connect(f"{base}/api/websocket", max_msg_size=0) as ws:
        await ws.receive_json()  # auth_required
        await ws.send_json({"type": "auth", "access_token": token})
        if (await ws.receive_json()).get("type") != "auth_ok":
            raise CliError(said["token_refused"], EXIT_UNREACHABLE)
        await ws.send_json({"id": 1, "type": "subscribe_events", "event_type": EVENT})
        subscribed = await ws.receive_json()
        if not subscribed.get("success"):
            raise CliError(said["no_progress"].format(detail=subscribed), EXIT_REFUSED)
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
                line = progress_line(message["event"]["data"], language)
                print(line, file=progress, flush=True)
            elif message.get("id") == 2 and message.get("type") == "result":
                if not message.get("success"):
                    error = message.get("error") or {}
                    detail = error.get("message", error)
                    raise CliError(said["roster_refused"].format(detail=detail), EXIT_REFUSED)
                response: dict[str, Any] = message["result"]["response"]
                return response


def progress_line(event: dict[str, Any], language: str = "en") -> str:
    """One progress event as a line: ``[3/8] line 4 Tower B / 2 / 201 lz-ac-1: paired``.

    A try that failed for a passing reason ends ``..., trying again in 5 s``. In
    ``language`` (fleet.provision_texts): the outcome and the reason by name.
    """
    said = texts(language)
    where = " / ".join(str(event[k]) for k in ("building", "floor", "room") if k in event)
    parts = [said["progress"].format(**{k: event.get(k) for k in ("done", "total", "line")})]
    parts += [p for p in (where, event.get("appliance")) if p]
    outcome = outcome_name(str(event.get("outcome")), language)
    text = " ".join(str(p) for p in parts) + said["progress_outcome"].format(outcome=outcome)
    if event.get("reason"):
        reason = reason_text(str(event["reason"]), language, event)
        text += said["progress_reason"].format(reason=reason)
    if event.get("retry_in") is not None:
        text += said["progress_retry"].format(seconds=float(event["retry_in"]))
    return text


def print_report(report: dict[str, Any], out: TextIO, language: str = "en") -> None:
    """The report for people: every line, warnings, what was created, the totals.

    In English the outcome column is the outcome's key (scripts read it); in
    another ``language`` outcomes, reasons and changes are named in it.
    """
    said = texts(language)
    print(said["report"], file=out)
    for row in report.get("rows", []):
        if row.get("reason"):
            detail = reason_text(str(row["reason"]), language, row)
        else:
            changes = row.get("changes") or []
            detail = said["list"].join(outcome_name(c, language) for c in changes)
        place = " / ".join(str(row[k]) for k in ("building", "floor", "room") if k in row)
        outcome = column(outcome_name(row["outcome"], language), OUTCOME_WIDTH[language], language)
        print(
            f"{said['row'].format(line=row['line'])}{outcome} {column(place, 28, language)} "
            f"{row.get('appliance', '')}{f'  {detail}' if detail else ''}",
            file=out,
        )
    for warning in report.get("warnings", []):
        print(said["warning"].format(line=warning["line"], reason=warning["reason"]), file=out)
    created = report.get("created", {})
    if created.get("household"):
        print(said["created_household"], file=out)
    for kind in ("floors", "areas", "labels"):
        if created.get(kind):
            print(said[f"created_{kind}"].format(names=said["list"].join(created[kind])), file=out)
    summary = said["list"].join(
        said["summary_part"].format(count=n, outcome=outcome_name(k, language))
        for k, n in sorted(report.get("summary", {}).items())
    )
    print(
        said["summary"].format(
            summary=summary, seconds=report.get("seconds", 0), failed=report.get("failed", 0)
        ),
        file=out,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        token = read_token(args.token_file, language=args.language)
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
            language=args.language,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
