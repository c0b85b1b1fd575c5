"""``--output table``: sections, column widths, the vertical fallback and colors, as the AWS CLI lays them out."""

from __future__ import annotations

import re

import pytest

from airflow_connect_fed.cli.color import Palette
from airflow_connect_fed.cli.table import Section, render_table, text_width
from tests.cli.aws_cli_reference import RESPONSE, aws_cli, plain


def table(data, width=80, color=False):
    return render_table("GetFederationToken", data, width=width, palette=Palette(color))


@pytest.mark.parametrize("width", [40, 200])
def test_table_width_follows_the_terminal(width):
    assert plain(RESPONSE, "table", width) == aws_cli(RESPONSE, "table", width)


def test_wide_terminal_keeps_one_row_under_headers():
    lines = plain(RESPONSE["Credentials"], "table", width=400).splitlines()
    assert len(lines) == 7  # border, title, rule, headers, rule, one row, rule
    assert [cell.strip() for cell in lines[3].strip("|").split("|")] == list(RESPONSE["Credentials"])
    assert [cell.strip() for cell in lines[5].strip("|").split("|")] == list(RESPONSE["Credentials"].values())


def test_narrow_terminal_turns_the_table_vertical():
    rule = "+-------+" + "-" * 95 + "+"
    assert plain({"Key": "value", "Other": "x" * 90}, "table").splitlines() == [
        "-" * 105,
        "|" + " " * 42 + "GetFederationToken" + " " * 43 + "|",
        rule,
        "|  Key  |  value" + " " * 88 + "|",
        "|  Other|  " + "x" * 90 + "   |",
        rule,
    ]


DOCUMENT = {
    "UserId": "u-1",
    "SignInUrl": "https://x/sign-in",
    "Credentials": {"AccessToken": "a", "RefreshToken": "r"},
}


def test_scalar_keys_sorted_under_headers_and_a_nested_dict_indented():
    assert table(DOCUMENT).splitlines() == [
        "-----------------------------------",
        "|       GetFederationToken        |",
        "+----------------------+----------+",
        "|       SignInUrl      | UserId   |",
        "+----------------------+----------+",
        "|  https://x/sign-in   |  u-1     |",
        "+----------------------+----------+",
        "||          Credentials          ||",
        "|+--------------+----------------+|",
        "||  AccessToken | RefreshToken   ||",
        "|+--------------+----------------+|",
        "||  a           |  r             ||",
        "|+--------------+----------------+|",
    ]


def test_a_list_of_dicts_is_one_section_of_rows():
    assert table([{"Name": "a", "Size": 1}, {"Name": "bb", "Size": 22}]) == (
        "--------------------\n"
        "|GetFederationToken|\n"
        "+--------+---------+\n"
        "|  Name  |  Size   |\n"
        "+--------+---------+\n"
        "|  a     |  1      |\n"
        "|  bb    |  22     |\n"
        "+--------+---------+\n"
    )


def test_dicts_with_nested_values_get_a_section_each():
    rendered = table([{"Name": "a", "Tags": {"k": "v"}}, {"Name": "b", "Tags": {"k": "w"}}])
    assert rendered.splitlines() == [
        "--------------------",
        "|GetFederationToken|",
        "+------------------+",
        "|       Name       |",
        "+------------------+",
        "|  a               |",
        "+------------------+",
        "||      Tags      ||",
        "|+-------+--------+|",
        "||  k    |  v     ||",
        "|+-------+--------+|",
        "|GetFederationToken|",
        "+------------------+",
        "|       Name       |",
        "+------------------+",
        "|  b               |",
        "+------------------+",
        "||      Tags      ||",
        "|+-------+--------+|",
        "||  k    |  w     ||",
        "|+-------+--------+|",
    ]


@pytest.mark.parametrize(
    ("data", "rows"),
    [
        (["x", "yy"], ["|  x               |", "|  yy              |"]),
        ([["a", 1], ["bb", 22]], ["|  a     |  1      |", "|  bb    |  22     |"]),
        ({"Name": "日本"}, ["|  Name  |  日本   |"]),  # one scalar key: a key | value row
    ],
)
def test_lists_and_one_key_dicts_are_rows_without_headers(data, rows):
    lines = table(data).splitlines()
    rule = lines[2]
    assert lines[:2] == ["-" * 20, "|GetFederationToken|"]
    assert lines[2:] == [rule, *rows, rule]


@pytest.mark.parametrize("data", [None, "", [], {}])
def test_nothing_to_show_renders_nothing(data):
    assert table(data) == ""


def test_color_paints_cells_and_nested_borders_only():
    colored = table(DOCUMENT, color=True)
    assert re.sub(r"\x1b\[\d+m", "", colored) == table(DOCUMENT)
    assert "|  \x1b[1m\x1b[34mu-1\x1b[0m     |" in colored
    assert "\x1b[2m\x1b[33m|\x1b[0m|          Credentials          |\x1b[2m\x1b[33m|\x1b[0m" in colored
    assert "|       GetFederationToken        |" in colored  # the title is not painted
    assert "|       SignInUrl      | UserId   |" in colored  # nor are headers


@pytest.mark.parametrize(
    ("text", "width"),
    [("", 0), ("abc", 3), ("日本語", 6), ("\uff21", 2), ("é", 2), ("\uff71", 1)],
)
def test_text_width_counts_wide_and_ambiguous_characters_twice(text, width):
    assert text_width(text) == width


def test_rows_are_strings_and_widen_their_columns():
    section = Section("T")
    section.add_headers(["Name", "Count"])
    section.add_row(["日本", 1234567])
    assert section.rows == [["日本", "1234567"]]
    assert section.max_widths == [4, 7]


@pytest.mark.parametrize(
    ("headers", "first", "row", "message"),
    [
        (["a", "b"], None, [1], "Row should have 2 elements, instead it has 1"),
        ([], [1, 2, 3], [1, 2], "Row should have 3 elements, instead it has 2"),
    ],
)
def test_a_row_of_the_wrong_length_is_refused(headers, first, row, message):
    section = Section()
    section.add_headers(headers)
    if first is not None:
        section.add_row(first)
    with pytest.raises(ValueError, match=message):
        section.add_row(row)


@pytest.mark.parametrize(
    ("max_widths", "total", "widths"),
    [
        ([3, 5], 16, [7, 9]),  # the padded widths themselves
        ([3, 5], 17, [7, 10]),
        ([3, 5], 33, [14, 19]),
        ([1, 1, 1], 16, [5, 5, 6]),  # rounded down: the remainder goes to the last columns
        ([1, 1, 1], 17, [5, 6, 6]),
        ([], 40, []),
    ],
)
def test_column_widths_add_up_to_the_width(max_widths, total, widths):
    assert Section(max_widths=max_widths).column_widths(total) == widths


def test_total_width_counts_padding_borders_and_indentation():
    section = Section("Credentials", indent_level=1)
    assert section.total_width() == 15  # the title alone: 11 + 2 borders + 2 for the indentation
    section.add_row(["AccessToken", "x"])
    assert section.total_width() == (11 + 4) + (1 + 4) + 2 + 2


def test_vertical_turns_one_row_into_header_value_rows():
    section = Section("Credentials", indent_level=1)
    section.add_headers(["AccessToken", "RefreshToken"])
    section.add_row(["a", "r"])
    turned = section.vertical()
    assert (turned.title, turned.indent_level, turned.headers) == ("Credentials", 1, [])
    assert turned.rows == [["AccessToken", "a"], ["RefreshToken", "r"]]


def test_vertical_keeps_sections_of_several_rows_or_no_headers():
    rows = Section(headers=["a"], rows=[["1"], ["2"]])
    headerless = Section(rows=[["1"]])
    assert rows.vertical() is rows
    assert headerless.vertical() is headerless
