"""What masking N agents' tokens costs, in the task process and in its supervisor (issue 5).

In a task, Airflow writes the log file from the supervisor process, which masks every line with its
own masker; the task tells it each secret with a ``MaskSecret`` message and waits for the answer.
The supervisor registers those with Airflow's ``mask_secret``, which recompiles one regex of every
secret it holds for each value. Both sides are timed here for N agents, two tokens each, one message
per agent as the bulk hook sends them: the supervisor's handler (``handle_mask_secret``, Airflow's
code) and the task process's ``mask_values`` (the provider's).
"""

from __future__ import annotations

import re
import secrets
import time
from typing import TYPE_CHECKING

from harness import main

if TYPE_CHECKING:
    from collections.abc import Callable

    from report import Section

SIZES = (50, 200, 400)


def _pairs(n: int) -> list[list[str]]:
    return [[secrets.token_urlsafe(48), secrets.token_urlsafe(48)] for _ in range(n)]


def _timed_per_agent(register: Callable[[list[str]], None], pairs: list[list[str]]) -> list[float]:
    """Seconds per agent, starting from an empty masker."""
    from airflow.sdk._shared.secrets_masker import reset_secrets_masker

    reset_secrets_masker()
    re.purge()
    times = []
    for pair in pairs:
        started = time.perf_counter()
        register(pair)
        times.append(time.perf_counter() - started)
    reset_secrets_masker()
    return times


def measure(section: Section) -> None:
    from airflow.sdk.execution_time.comms import MaskSecret
    from airflow.sdk.execution_time.request_handlers import handle_mask_secret

    from airflow_connect_fed.masking import mask_values

    def supervisor(pair: list[str]) -> None:
        handle_mask_secret(MaskSecret(value=pair))

    airflow = {n: _timed_per_agent(supervisor, _pairs(n)) for n in SIZES}
    provider = {n: _timed_per_agent(mask_values, _pairs(n)) for n in SIZES}
    sizes = " / ".join(map(str, SIZES))

    def each(times: dict[int, list[float]], value: Callable[[list[float]], str]) -> str:
        return " / ".join(value(times[n]) for n in SIZES)

    section.add(
        f"Supervisor (Airflow's mask_secret), N = {sizes}: total",
        each(airflow, lambda t: f"{sum(t):.2f}") + " s",
        "handle_mask_secret(MaskSecret(value=[access, refresh])) once per agent, from an empty masker: "
        "CPU the supervisor spends and the task's sending thread waits for.",
    )
    section.add(
        "Supervisor: the last agent's message",
        each(airflow, lambda t: f"{1000 * t[-1]:.1f}") + " ms",
        "time of the N-th agent's registration; it grows with the secrets registered before it.",
    )
    section.add(
        f"Task process (provider's mask_values), N = {sizes}: total",
        each(provider, lambda t: f"{1000 * sum(t):.1f}") + " ms",
        "mask_values([access, refresh]) once per agent, from an empty masker, no supervisor attached.",
    )
    section.add(
        "Task process: the last agent's call",
        each(provider, lambda t: f"{1e6 * t[-1]:.0f}") + " us",
        "time of the N-th agent's registration.",
    )
    large, half = max(SIZES), max(SIZES) // 2
    section.notes.append(
        f"At N={large} the supervisor spent {sum(airflow[large]):.1f} s registering tokens, against "
        f"{1000 * sum(provider[large]):.1f} ms in the task process. Its cost per agent grows with the agents "
        f"registered before it, so a task's total grows with the square of its agents: one task of {large} "
        f"agents cost {sum(airflow[large]):.1f} s, while two tasks of {half} (each with its own supervisor) "
        f"cost {2 * sum(airflow[half]):.1f} s between them. Splitting a long agent list over several bulk "
        "tasks keeps this down; the supervisor's masker is Airflow's, which the provider does not change."
    )


if __name__ == "__main__":
    main(measure, "Secret masking with many agents (issue 5)")
