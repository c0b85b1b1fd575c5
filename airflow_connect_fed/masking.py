"""Registering tokens with Airflow's secret masker at a cost that does not grow with the tokens.

Airflow's masker keeps every secret in one regex and recompiles all of it for each
value ``mask_secret`` adds: about 50 us per 64-character token already registered.
A process holding N tokens pays O(N) per new token, O(N^2) for a batch of N, and a
compile transient in memory that grows with N.

Tokens are added here as literals to a :class:`LiteralReplacer` that stands in for
the masker's compiled pattern: it masks whatever that pattern matches plus every
occurrence of the literals, and adding a token compiles nothing. The tokens' escaped
patterns also join the masker's pattern set, so when Airflow next recompiles (the
next ``mask_secret`` of any secret), its own regex covers them.

The supervisor, which masks the task's stdout and stderr, is told through Airflow's
``MaskSecret`` message, as ``airflow.sdk.log.mask_secret`` does.
"""

from __future__ import annotations

import re
import sys
import threading
from contextlib import suppress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

_update_lock = threading.Lock()


class LiteralReplacer:
    """The masker's compiled pattern plus literal secrets found with ``str.find``; immutable."""

    __slots__ = ("compiled", "literals")

    def __init__(self, compiled: re.Pattern[str] | None, literals: tuple[str, ...]) -> None:
        self.compiled = compiled
        self.literals = literals

    def sub(self, repl: str, string: str) -> str:
        """Replace every match of the pattern and every occurrence of a literal with ``repl``.

        Where matches overlap, their union is replaced once, so no part of any secret survives.
        """
        spans = sorted(self._spans(string))
        if not spans:
            return string
        parts: list[str] = []
        done = 0
        start, end = spans[0]
        for next_start, next_end in spans[1:]:
            if next_start < end:
                end = max(end, next_end)
                continue
            parts += (string[done:start], repl)
            done, start, end = end, next_start, next_end
        parts += (string[done:start], repl, string[end:])
        return "".join(parts)

    def _spans(self, string: str) -> list[tuple[int, int]]:
        spans = [match.span() for match in self.compiled.finditer(string)] if self.compiled else []
        for literal in self.literals:
            start = string.find(literal)
            while start >= 0:
                spans.append((start, start + len(literal)))
                start = string.find(literal, start + 1)
        return spans


def mask_values(values: Sequence[str]) -> None:
    """Mask ``values`` in task logs and rendered fields, like ``airflow.sdk.log.mask_secret``."""
    masker = _local_masker()
    if masker is None:
        from airflow.sdk.log import mask_secret

        mask_secret(list(values))
        return
    _add_literals(masker, values)
    _tell_supervisor(list(values))


def _add_literals(masker: Any, values: Iterable[str]) -> None:
    min_length = _min_length(masker)
    with _update_lock:
        new = {
            adapted
            for value in values
            for adapted in masker._adaptations(value)
            if adapted and len(adapted) >= min_length and re.escape(adapted) not in masker.patterns
        }
        if not new:
            return
        masker.patterns.update(re.escape(literal) for literal in new)
        current = masker.replacer
        if isinstance(current, LiteralReplacer):
            masker.replacer = LiteralReplacer(current.compiled, current.literals + tuple(new))
        else:
            masker.replacer = LiteralReplacer(current, tuple(new))


def _min_length(masker: Any) -> int:
    if hasattr(masker, "min_length_to_mask"):
        return int(masker.min_length_to_mask)
    from airflow.sdk.execution_time.secrets_masker import get_min_secret_length  # Airflow 3.0

    return int(get_min_secret_length())


def _local_masker() -> Any:
    """This process's SecretsMasker, if this Airflow has the attributes a literal add needs."""
    try:
        from airflow.sdk._shared.secrets_masker import _secrets_masker
    except ImportError:
        try:  # Airflow 3.0
            from airflow.sdk.execution_time.secrets_masker import _secrets_masker  # type: ignore[no-redef]
        except ImportError:
            return None
    masker = _secrets_masker()
    needed = ("patterns", "replacer", "_adaptations")
    return masker if all(hasattr(masker, name) for name in needed) else None


def _tell_supervisor(values: list[str]) -> None:
    # Only a task process has imported the task runner, and only there is a supervisor to tell.
    task_runner = sys.modules.get("airflow.sdk.execution_time.task_runner")
    comms = getattr(task_runner, "SUPERVISOR_COMMS", None)
    if comms is None:
        return
    with suppress(Exception):
        from airflow.sdk.execution_time.comms import MaskSecret

        comms.send(MaskSecret(value=list[Any](values)))
