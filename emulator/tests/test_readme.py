"""The README's pytest example, run as printed against the ``connect_emulator`` fixture."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"


def readme_example() -> dict[str, object]:
    """The README's python block that defines ``test_sign_in_url``, executed into a namespace."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    [block] = [block for block in blocks if "def test_sign_in_url" in block]
    namespace: dict[str, object] = {}
    exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - the README's own code
    return namespace


@pytest.mark.integration
def test_the_readmes_example_passes(connect_emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    example = readme_example()
    example["test_sign_in_url"](connect_emulator, monkeypatch)  # type: ignore[operator]
    assert connect_emulator.counters.totals().succeeded == 1
