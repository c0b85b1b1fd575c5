"""``--output json|text|table``: a response rendered the way the AWS CLI renders it.

json is indented by four with non-ASCII kept; text prints a dict's scalar values (keys sorted) on
one tab-separated line and each nested value on lines prefixed with its upper-cased key; table is
in :mod:`airflow_connect_fed.cli.table`. With color, json keys are highlighted.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Literal

from airflow_connect_fed.cli.table import render_table

if TYPE_CHECKING:
    from airflow_connect_fed.cli.color import Palette

OutputFormat = Literal["json", "text", "table"]
OUTPUT_FORMATS: tuple[OutputFormat, ...] = ("json", "text", "table")

# With indent=4 every key starts a line; a JSON string cannot hold a raw quote or newline.
_JSON_KEY = re.compile(r'^(\s*)("(?:[^"\\]|\\.)*")(: )', re.MULTILINE)


def render(data: Any, output: OutputFormat, *, title: str, width: int, palette: Palette) -> str:
    """Render ``data`` (a response, or what ``--query`` selected from it) for stdout."""
    if output == "table":
        return render_table(title, data, width=width, palette=palette)
    if output == "text":
        return "".join(_text_lines(data))
    return _json(data, palette)


def _json(data: Any, palette: Palette) -> str:
    if data == {}:  # the AWS CLI prints nothing for an empty response
        return ""
    rendered = json.dumps(data, indent=4, ensure_ascii=False)
    if palette.enabled:
        rendered = _JSON_KEY.sub(lambda m: m[1] + palette.paint(m[2], "key") + m[3], rendered)
    return rendered + "\n"


def _text_lines(item: Any, identifier: str | None = None, scalar_keys: list[str] | None = None) -> list[str]:
    if isinstance(item, dict):
        return _text_dict(item, identifier, scalar_keys)
    if isinstance(item, list):
        return _text_list(item, identifier)
    return [f"{item}\n"]


def _text_dict(item: dict[str, Any], identifier: str | None, scalar_keys: list[str] | None) -> list[str]:
    if scalar_keys is None:
        scalars = [str(value) for _, value in sorted(item.items()) if _scalar(value)]
        nested = [(key, value) for key, value in sorted(item.items()) if not _scalar(value)]
    else:
        scalars = [str(item.get(key, "")) for key in scalar_keys]
        nested = [(key, item[key]) for key in sorted(set(item) - set(scalar_keys))]
    lines = []
    if scalars:
        prefix = [identifier.upper()] if identifier is not None else []
        lines.append("\t".join(prefix + scalars) + "\n")
    for key, value in nested:
        lines.extend(_text_lines(value, key))
    return lines


def _text_list(items: list[Any], identifier: str | None) -> list[str]:
    if not items:
        return []
    if any(isinstance(element, dict) for element in items):
        keys = sorted({k for e in items if isinstance(e, dict) for k, v in e.items() if _scalar(v)})
        return [line for element in items for line in _text_lines(element, identifier, keys)]
    scalars = [element for element in items if _scalar(element)]
    lines = _text_scalars(scalars, identifier) if scalars else []
    for element in items:
        if not _scalar(element):
            lines.extend(_text_lines(element, identifier))
    return lines


def _text_scalars(elements: list[Any], identifier: str | None) -> list[str]:
    if identifier is not None:
        return [f"{identifier.upper()}\t{element}\n" for element in elements]
    return ["\t".join(str(element) for element in elements) + "\n"]


def _scalar(value: Any) -> bool:
    return not isinstance(value, (list, dict))
