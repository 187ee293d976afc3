"""The roster parser: good rows, problems per row, one error for an unreadable file."""

from __future__ import annotations

import csv
import io
from pathlib import Path
import re

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.liuzhou_appliances.roster import (
    MAX_BYTES,
    WARNINGS,
    ProblemKind,
    RosterError,
    Target,
    load_roster,
    parse_roster,
    parse_target,
)

CSV = """\
# Tower A and Tower B, first two floors
building,floor,room,appliance,code,name
Tower A,1,101,127.0.0.1:7001,1234-5678,Bedroom AC
Tower A,1,102,lz-ac-0002,2345 6789,
Tower B,2,201,AA:bb:CC:dd:EE:ff,34567890,Fridge
"""


def test_csv_rows_in_order_with_lines_and_targets() -> None:
    roster = parse_roster(CSV)
    assert roster.problems == ()
    assert [row.line for row in roster.rows] == [3, 4, 5]
    first, second, third = roster.rows
    assert (first.building, first.floor, first.room, first.name) == (
        "Tower A",
        "1",
        "101",
        "Bedroom AC",
    )
    assert first.target == Target(host="127.0.0.1", port=7001)
    assert first.code == "12345678"
    assert first.floor_level == 1
    assert second.target == Target(appliance_id="lz-ac-0002")
    assert second.code == "23456789"
    assert second.name is None
    assert third.target == Target(ble_address="AA:BB:CC:DD:EE:FF")


def test_codes_never_in_repr_or_str() -> None:
    roster = parse_roster(CSV)
    for text in (repr(roster), str(roster), *map(str, roster.rows), *map(repr, roster.rows)):
        for code in ("12345678", "1234-5678", "23456789", "2345 6789", "34567890"):
            assert code not in text
    assert "code=" not in repr(roster.rows[0])


def test_yaml_keeps_leading_zeros_and_reports_lines() -> None:
    roster = parse_roster(
        """\
appliances:
  - building: A
    floor: G
    room: Lobby
    appliance: lz-fr-1
    code: 01234567
  - {building: A, floor: 3, room: "301", appliance: "[::1]:7000", code: "7654-3210"}
"""
    )
    assert roster.problems == ()
    lobby, room = roster.rows
    assert (lobby.line, lobby.code, lobby.floor_level) == (2, "01234567", None)
    assert (room.line, room.target, room.floor_level) == (7, Target(host="::1", port=7000), 3)


def test_yaml_list_at_top_level_and_bad_items() -> None:
    roster = parse_roster(
        """\
- {building: A, floor: 1, room: "1", appliance: lz-ac-1, code: "11112222"}
- just text
- {building: A, floor: [1], room: "2", appliance: lz-ac-2, code: "11112222"}
""",
        "yaml",
    )
    assert [row.line for row in roster.rows] == [1]
    assert [(p.line, p.kind) for p in roster.problems] == [
        (2, ProblemKind.BAD_ROW),
        (3, ProblemKind.BAD_ROW),
    ]
    assert "floor" in roster.problems[1].reason


def test_bad_rows_say_why_and_keep_the_others() -> None:
    roster = parse_roster(
        """\
building,floor,room,appliance,code
A,1,101,lz-ac-1,1234-5678
A,1,,lz-ac-2,1234-5678
A,1,103,not an id,1234-5678
A,1,104,host:99999,1234-5678
A,1,105,lz-ac-5,9876-543
A,1,106,lz-ac-6,12345678,surplus
A,1,107,lz-ac-7,12345678
"""
    )
    assert [row.room for row in roster.rows] == ["101", "107"]
    reasons = {p.line: p.reason for p in roster.problems}
    assert all(p.kind is ProblemKind.BAD_ROW for p in roster.problems)
    assert reasons[3] == "room is empty"
    assert "appliance must be" in reasons[4]
    assert "port" in reasons[5]
    assert reasons[6] == "code must be 8 digits, like 1234-5678"
    assert "9876" not in reasons[6]
    assert "more than the header" in reasons[7]


def test_unknown_column_is_reported_and_ignored() -> None:
    roster = parse_roster("building,floor,room,appliance,code,colour\nA,1,1,lz-ac-1,12345678,red\n")
    assert len(roster.rows) == 1
    (problem,) = roster.problems
    assert (problem.line, problem.kind) == (1, ProblemKind.UNKNOWN_COLUMN)
    assert "colour" in problem.reason


def test_duplicates_and_spellings() -> None:
    roster = parse_roster(
        """\
building,floor,room,appliance,code
Tower A,1,Suite 101,lz-ac-1,12345678
Tower A,1,Suite 101,lz-ac-1,1234-5678
tower a,1,suite  101,lz-fr-1,12345678
Tower A,2,101,lz-ac-1,12345678
Tower A,2,Suite 101,lz-wa-1,12345678
"""
    )
    assert [(row.line, row.building, row.room) for row in roster.rows] == [
        (2, "Tower A", "Suite 101"),
        (4, "Tower A", "Suite 101"),
    ]
    kinds = [(p.line, p.kind) for p in roster.problems]
    assert kinds == [
        (3, ProblemKind.DUPLICATE_ROW),
        (4, ProblemKind.ROOM_SPELLING),
        (4, ProblemKind.ROOM_SPELLING),
        (5, ProblemKind.DUPLICATE_APPLIANCE),
        (6, ProblemKind.BAD_ROW),
    ]
    assert "floor 1" in roster.problems_at(6)[0].reason


@pytest.mark.parametrize(
    ("data", "fmt", "message"),
    [
        ("", None, "empty"),
        ("building,floor,room\nA,1,1\n", "csv", "missing column(s): appliance, code"),
        ("room,room,building,floor,appliance,code\n", "csv", "named twice"),
        ("# only a comment\n", "csv", "no header"),
        ("- [unclosed\n", "yaml", "not YAML"),
        ("just: a mapping\n", "yaml", "a YAML roster is a list"),
        ("[]\n", "yaml", "lists no appliances"),
        (b"building\xff", "csv", "not UTF-8"),
        ("x", "xlsx", "unknown format"),
        ("a" * (MAX_BYTES + 1), None, "larger than"),
    ],
)
def test_unreadable_files_raise_roster_error(
    data: str | bytes, fmt: str | None, message: str
) -> None:
    with pytest.raises(RosterError, match=re.escape(message)):
        parse_roster(data, fmt)


def test_load_roster_by_suffix_and_missing_file(tmp_path: Path) -> None:
    csv_file = tmp_path / "rooms.csv"
    csv_file.write_text(CSV, encoding="utf-8")
    assert len(load_roster(str(csv_file)).rows) == 3
    yaml_file = tmp_path / "rooms.yml"
    yaml_file.write_text("- {building: A, floor: 1, room: '1', appliance: x:1, code: '12345678'}\n")
    assert load_roster(str(yaml_file)).rows[0].target == Target(host="x", port=1)
    with pytest.raises(RosterError, match="cannot read"):
        load_roster(str(tmp_path / "absent.csv"))


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("lz-ac-3f2a9c01", Target(appliance_id="lz-ac-3f2a9c01")),
        ("hotel-hub.local:7000", Target(host="hotel-hub.local", port=7000)),
        ("[fe80::1]:7000", Target(host="fe80::1", port=7000)),
        ("aa:bb:cc:dd:ee:ff", Target(ble_address="AA:BB:CC:DD:EE:FF")),
    ],
)
def test_targets(text: str, target: Target) -> None:
    assert parse_target(text) == target
    assert parse_target(str(target)) == target


_cells = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.one_of(st.binary(max_size=400), st.text(max_size=400)),
    st.sampled_from(["csv", "yaml", None]),
)
def test_fuzz_raises_only_roster_error(data: str | bytes, fmt: str | None) -> None:
    try:
        roster = parse_roster(data, fmt)
    except RosterError:
        return
    assert all(p.line >= 1 for p in roster.problems)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.lists(_cells, min_size=0, max_size=8), max_size=8))
def test_fuzz_csv_rows(rows: list[list[str]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["building", "floor", "room", "appliance", "code", "name"])
    writer.writerows(rows)
    try:
        roster = parse_roster(out.getvalue(), "csv")
    except RosterError:
        return
    lines = {row.line for row in roster.rows}
    assert not lines & {p.line for p in roster.problems if p.kind not in WARNINGS}
