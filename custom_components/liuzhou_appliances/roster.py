"""A property's roster: which appliance goes in which room, read from CSV or YAML.

No Home Assistant import: provisioning.py and the command line read files with
it, and its tests run without Home Assistant. One error, ``RosterError``, for
a file that cannot be read as a roster at all; everything wrong with single
rows is a ``RowProblem`` next to the good rows, so one bad line loses nothing
else.

Columns (header names are case-insensitive): ``building``, ``floor``,
``room``, ``appliance`` (an appliance id like ``lz-ac-3f2a9c01``, a LAN address
``host:port`` or ``[v6]:port``, or a Bluetooth address ``AA:BB:CC:DD:EE:FF``),
``code`` (the 8-digit pairing code, ``pairing_code`` also accepted) and the
optional ``name``. A CSV file has them as its header line; a YAML file is a
list of mappings, or a mapping with that list under ``appliances``.

The pairing code is kept in the row for the caller to use once; it is left
out of the row's ``repr``/``str``, and nothing here stores or logs it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from enum import StrEnum
import io
import re
from typing import Final

import yaml

from .link.pairing import InvalidPairingCode, normalise_pairing_code

REQUIRED_COLUMNS: Final = ("building", "floor", "room", "appliance", "code")
OPTIONAL_COLUMNS: Final = ("name",)
# Other spellings of a column's name that mean the same column.
_ALIASES: Final = {"pairing_code": "code", "pairing code": "code", "appliance_id": "appliance"}
_KNOWN: Final = frozenset(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
MAX_TEXT: Final = 100  # characters in a building, floor, room or name
MAX_ROWS: Final = 10_000
MAX_BYTES: Final = 2_000_000

_ID: Final = re.compile(r"[a-z0-9-]{1,64}")  # link/discovery.py's appliance id
_BLE: Final = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}")
_HOST: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
_V6: Final = re.compile(r"\[([0-9A-Fa-f:.]{2,45})\]")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


class RosterError(ValueError):
    """The file is not a roster at all: unreadable, not CSV/YAML, no header, required
    columns missing, too large. ``line`` is where it went wrong (1-based) or None."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.line = line


class ProblemKind(StrEnum):
    """What is wrong with a row; ``UNKNOWN_COLUMN`` and ``ROOM_SPELLING`` keep the row."""

    BAD_ROW = "bad_row"
    DUPLICATE_ROW = "duplicate_row"
    DUPLICATE_APPLIANCE = "duplicate_appliance"
    UNKNOWN_COLUMN = "unknown_column"
    ROOM_SPELLING = "room_spelling"


# Problems after which the row is still provisioned (a warning, not a failure).
WARNINGS: Final = frozenset({ProblemKind.UNKNOWN_COLUMN, ProblemKind.ROOM_SPELLING})


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One problem: the 1-based line, its kind and a reason in English (never the code)."""

    line: int
    kind: ProblemKind
    reason: str


@dataclass(frozen=True, slots=True)
class Target:
    """Where the appliance is: exactly one of appliance_id, host+port or ble_address."""

    appliance_id: str | None = None
    host: str | None = None
    port: int | None = None
    ble_address: str | None = None

    @property
    def key(self) -> str:
        """One spelling per appliance, for finding duplicates."""
        if self.appliance_id is not None:
            return f"id:{self.appliance_id}"
        if self.ble_address is not None:
            return f"ble:{self.ble_address}"
        return f"lan:{(self.host or '').lower()}:{self.port}"

    def __str__(self) -> str:
        if self.appliance_id is not None:
            return self.appliance_id
        if self.ble_address is not None:
            return self.ble_address
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One good row. ``floor_level`` is the floor as an integer when it is one.

    ``code`` holds the normalised 8 digits and is not part of repr/str/eq.
    """

    line: int
    building: str
    floor: str
    room: str
    target: Target
    name: str | None
    floor_level: int | None
    code: str = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Roster:
    """The good rows in file order, and every problem found (by line)."""

    rows: tuple[RosterRow, ...]
    problems: tuple[RowProblem, ...]

    def problems_at(self, line: int) -> list[RowProblem]:
        """The problems of one line."""
        return [p for p in self.problems if p.line == line]


def parse_target(text: str) -> Target:
    """An appliance column's value as a Target; ValueError (reason) if it is none of them."""
    value = text.strip()
    if _BLE.fullmatch(value):
        return Target(ble_address=value.upper())
    if _ID.fullmatch(value):
        return Target(appliance_id=value)
    host, sep, port_text = value.rpartition(":")
    if not sep:
        raise ValueError(
            "appliance must be an appliance id (a-z, 0-9, -), host:port or a Bluetooth address"
        )
    if not port_text.isascii() or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError("the port after ':' must be a number from 1 to 65535")
    if (v6 := _V6.fullmatch(host)) is not None:
        host = v6.group(1)
    elif not _HOST.fullmatch(host):
        raise ValueError(f"{host!r} is not a host name or address")
    return Target(host=host, port=int(port_text))


def load_roster(path: str, fmt: str | None = None) -> Roster:
    """Read and parse the file at ``path`` (blocking; call it in an executor).

    ``fmt`` is "csv" or "yaml"; by default the file's suffix decides
    (.csv, else YAML for .yaml/.yml, else the content). Raises RosterError.
    """
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as err:
        raise RosterError(f"cannot read {path}: {err.strerror or err}") from None
    if fmt is None:
        lower = path.lower()
        fmt = (
            "csv"
            if lower.endswith(".csv")
            else "yaml"
            if lower.endswith((".yaml", ".yml"))
            else None
        )
    return parse_roster(data, fmt)


def parse_roster(data: str | bytes, fmt: str | None = None) -> Roster:
    """Parse a roster's text (UTF-8 bytes or str); ``fmt`` "csv", "yaml" or None to guess.

    Returns the good rows and the problems; raises RosterError only.
    """
    if len(data) > MAX_BYTES:
        raise RosterError(f"the file is larger than {MAX_BYTES} bytes")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise RosterError(f"not UTF-8 text (byte {err.start})") from None
    else:
        text = data.removeprefix("\ufeff")
    if fmt is None:
        fmt = _guess(text)
    if fmt == "csv":
        records = _csv_records(text)
    elif fmt == "yaml":
        records = _yaml_records(text)
    else:
        raise RosterError(f"unknown format {fmt!r} (csv or yaml)")
    return _Checker().check(records)


# A record: its 1-based line and its values by column; "#..." keys say what is malformed.
_Record = tuple[int, dict[str, str]]
# The columns, the line to report unknown columns at, the records.
_Parsed = tuple[list[str], int, list[_Record]]


def _guess(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return "yaml" if stripped.startswith(("-", "appliances:", "---")) else "csv"
    raise RosterError("the file is empty")


def _column(name: str) -> str:
    key = " ".join(name.strip().lower().split())
    return _ALIASES.get(key, key)


def _csv_records(text: str) -> _Parsed:
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    header_line = 1
    records: list[_Record] = []
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values) or values[0].lstrip().startswith("#"):
                continue
            if header is None:
                header = [_column(v) for v in values]
                header_line = line
                if twice := sorted({c for c in header if header.count(c) > 1}):
                    raise RosterError(f"column(s) named twice: {', '.join(twice)}", line)
                continue
            if len(records) >= MAX_ROWS:
                raise RosterError(f"more than {MAX_ROWS} rows", line)
            if len(values) > len(header):
                extra = {f"#{i + 1}": v for i, v in enumerate(values) if i >= len(header)}
                row = dict(zip(header, values, strict=False)) | extra
            else:
                row = dict(zip(header, values, strict=False))
            records.append((line, row))
    except csv.Error as err:
        raise RosterError(f"not CSV: {err}", reader.line_num) from None
    if header is None:
        raise RosterError("the file has no header line")
    return header, header_line, records


def _yaml_records(text: str) -> _Parsed:
    # BaseLoader keeps every scalar a string: a code like 01234567 stays as written.
    try:
        root = yaml.compose(text, Loader=yaml.BaseLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise RosterError(
            f"not YAML: {getattr(err, 'problem', None) or err}",
            None if mark is None else mark.line + 1,
        ) from None
    except (ValueError, RecursionError) as err:
        raise RosterError(f"not YAML: {err}") from None
    if isinstance(root, yaml.MappingNode):
        found = [
            v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "appliances"
        ]
        if len(found) != 1:
            raise RosterError("a YAML roster is a list, or a mapping with an 'appliances' list", 1)
        root = found[0]
    if not isinstance(root, yaml.SequenceNode):
        raise RosterError("a YAML roster is a list, or a mapping with an 'appliances' list", 1)
    if len(root.value) > MAX_ROWS:
        raise RosterError(f"more than {MAX_ROWS} rows")
    header: list[str] = []
    unknown_line = 0
    records: list[_Record] = []
    for item in root.value:
        line = item.start_mark.line + 1
        row: dict[str, str] = {}
        if not isinstance(item, yaml.MappingNode):
            row["#"] = "not a mapping of column: value"
        else:
            for key, value in item.value:
                if not isinstance(key, yaml.ScalarNode):
                    row["#"] = "a column name must be plain text"
                    continue
                column = _column(key.value)
                if column not in header:
                    header.append(column)
                    if column not in _KNOWN and not unknown_line:
                        unknown_line = line
                if isinstance(value, yaml.ScalarNode):
                    row[column] = value.value
                else:
                    row["#"] = f"{column} must be plain text, not a list or mapping"
        records.append((line, row))
    if not records:
        raise RosterError("the roster lists no appliances")
    # A column every row misses is reported by each row, not as a missing column.
    return (
        [*REQUIRED_COLUMNS, *(c for c in header if c not in REQUIRED_COLUMNS)],
        (unknown_line or records[0][0]),
        records,
    )


def _text(row: dict[str, str], column: str, *, required: bool = True) -> str:
    """The column's value, whitespace collapsed; ValueError with the reason if unusable."""
    value = " ".join(row.get(column, "").split())
    if not value:
        if required:
            raise ValueError(f"{column} is empty")
        return ""
    if len(value) > MAX_TEXT:
        raise ValueError(f"{column} is longer than {MAX_TEXT} characters")
    if _CONTROL.search(value):
        raise ValueError(f"{column} contains control characters")
    return value


def _level(floor: str) -> int | None:
    text = floor.strip()
    digits = text.removeprefix("-")
    if digits.isascii() and digits.isdigit() and len(digits) <= 4:
        return int(text)
    return None


@dataclass(slots=True)
class _Checker:
    """Checks the records in order; the first spelling of a building or room wins."""

    rows: list[RosterRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    # Normalised key -> (spelling, line) of buildings, (building, floor) and (building, room).
    buildings: dict[str, tuple[str, int]] = field(default_factory=dict)
    floors: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    rooms: dict[tuple[str, str], tuple[str, str, int]] = field(default_factory=dict)
    targets: dict[str, RosterRow] = field(default_factory=dict)

    def check(self, parsed: _Parsed) -> Roster:
        header, header_line, records = parsed
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise RosterError(f"missing column(s): {', '.join(missing)}", header_line)
        if unknown := [c for c in header if c not in _KNOWN]:
            self.problems.append(
                RowProblem(
                    header_line,
                    ProblemKind.UNKNOWN_COLUMN,
                    f"unknown column(s) ignored: {', '.join(map(repr, unknown))}",
                )
            )
        for line, values in records:
            self._row(line, values)
        self.problems.sort(key=lambda p: p.line)
        return Roster(tuple(self.rows), tuple(self.problems))

    def _bad(self, line: int, kind: ProblemKind, reason: str) -> None:
        self.problems.append(RowProblem(line, kind, reason))

    def _row(self, line: int, values: dict[str, str]) -> None:
        if "#" in values:
            self._bad(line, ProblemKind.BAD_ROW, values["#"])
            return
        if extra := [k for k in values if k.startswith("#")]:
            self._bad(line, ProblemKind.BAD_ROW, f"{len(extra)} value(s) more than the header has")
            return
        try:
            building = _text(values, "building")
            floor = _text(values, "floor")
            room = _text(values, "room")
            name = _text(values, "name", required=False) or None
            target = parse_target(_text(values, "appliance"))
        except ValueError as err:
            self._bad(line, ProblemKind.BAD_ROW, str(err))
            return
        try:
            code = normalise_pairing_code(values.get("code", ""))
        except InvalidPairingCode:
            # The reason never repeats what was typed: it may be most of a real code.
            self._bad(line, ProblemKind.BAD_ROW, "code must be 8 digits, like 1234-5678")
            return
        notes: list[RowProblem] = []
        building = self._spelling(line, building, notes)
        floor_key = (building, floor.casefold())
        floor = self.floors.get(floor_key, (floor, line))[0]
        room_key = (building, room.casefold())
        known = self.rooms.get(room_key)
        if known is not None:
            if known[1] != floor:
                self._bad(
                    line,
                    ProblemKind.BAD_ROW,
                    f"room {known[0]} of {building} is on floor {known[1]} (line {known[2]})",
                )
                return
            if known[0] != room:
                notes.append(
                    RowProblem(
                        line,
                        ProblemKind.ROOM_SPELLING,
                        f"room {room!r} read as {known[0]!r} (line {known[2]})",
                    )
                )
                room = known[0]
        row = RosterRow(line, building, floor, room, target, name, _level(floor), code)
        if (first := self.targets.get(target.key)) is not None:
            same = (first.building, first.room, first.name, first.code) == (
                row.building,
                row.room,
                row.name,
                row.code,
            )
            if same:
                self._bad(line, ProblemKind.DUPLICATE_ROW, f"the same row as line {first.line}")
            else:
                self._bad(
                    line,
                    ProblemKind.DUPLICATE_APPLIANCE,
                    f"appliance {target} is already listed at line {first.line}",
                )
            return
        # Spellings are noted only for rows that are kept: a rejected row says why once.
        self.buildings.setdefault(building.casefold(), (building, line))
        self.floors.setdefault(floor_key, (floor, line))
        self.rooms.setdefault(room_key, (room, floor, line))
        self.targets[target.key] = row
        self.rows.append(row)
        self.problems.extend(notes)

    def _spelling(self, line: int, building: str, notes: list[RowProblem]) -> str:
        known = self.buildings.get(building.casefold(), (building, line))
        if known[0] != building:
            notes.append(
                RowProblem(
                    line,
                    ProblemKind.ROOM_SPELLING,
                    f"building {building!r} read as {known[0]!r} (line {known[1]})",
                )
            )
        return known[0]
