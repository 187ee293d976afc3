"""``fleet.provision --building``: only one building's lines leave the machine."""

from __future__ import annotations

from custom_components.liuzhou_appliances.roster import parse_roster
from fleet.provision import blank_lines

ROSTER = (
    "# two buildings\n"
    "building,floor,room,appliance,code,name\n"
    "Tower A,1,101,127.0.0.1:7001,1234-5678,\n"
    'Tower B,1,101,127.0.0.1:7002,2345-6789,"Mini\nbar"\n'
    "Tower A,2,201,127.0.0.1:7003,3456-7890,AC\n"
)


def test_blank_lines_keeps_line_numbers_and_drops_the_other_building() -> None:
    rows = parse_roster(ROSTER, "csv").rows
    other = {row.line for row in rows if row.building != "Tower A"}
    assert other == {5}  # the quoted name spans lines 4 and 5

    kept = parse_roster(blank_lines(ROSTER, other), "csv")

    assert [(row.line, row.building, str(row.target)) for row in kept.rows] == [
        (3, "Tower A", "127.0.0.1:7001"),
        (6, "Tower A", "127.0.0.1:7003"),
    ]
    assert not kept.problems


def test_blank_lines_without_lines_changes_nothing() -> None:
    assert blank_lines(ROSTER, set()).decode() == ROSTER
