"""Token reuse (issue 7): a scheduled run whose stored token is still valid makes no Connect API call.

Runs ``example_connect_federation_secrets`` twice with ``airflow dags test`` in an AirflowSandbox wired to
an in-process emulator (Secrets Manager as the secrets backend), and counts GetFederationToken requests
at the emulator for each run.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from harness import REPO, main

if TYPE_CHECKING:
    from report import Section

DAG_ID = "example_connect_federation_secrets"
AGENT = "agent-1"
REUSED = "Reusing the stored federation token"


def measure(section: Section) -> None:
    from amazon_connect_emulator import ConnectEmulator
    from amazon_connect_emulator.airflow_sandbox import AirflowSandbox

    with ConnectEmulator() as emulator, tempfile.TemporaryDirectory(prefix="connect-fed-sandbox-") as home:
        instance = emulator.create_instance("reuse")
        role_arn = emulator.create_federation_role()
        emulator.create_user(instance["id"], AGENT)
        sandbox = AirflowSandbox(
            emulator,
            Path(home) / "airflow",
            REPO / "dags_examples",
            extra_env={"CONNECT_INSTANCE_ID": instance["id"], "CONNECT_FEDERATION_ROLE_ARN": role_arn},
        )
        sandbox.migrate()
        received, seconds, outputs = [], [], []
        for _ in range(2):
            before = emulator.counters.totals().received
            started = time.perf_counter()
            result = sandbox.dags_test(DAG_ID, env={"CONNECT_AGENT": AGENT})
            seconds.append(time.perf_counter() - started)
            received.append(emulator.counters.totals().received - before)
            outputs.append(result.stdout + result.stderr)
    section.add(
        "First run: GetFederationToken requests",
        str(received[0]),
        f"`airflow dags test {DAG_ID}` with nothing stored yet; counted by the emulator "
        f"({seconds[0]:.1f} s for the run).",
        "1",
        received[0] == 1,
    )
    section.add(
        "Second run: GetFederationToken requests",
        str(received[1]),
        "the same DAG again while the stored access token is valid for longer than reuse_if_valid_for (30 min "
        f"of a 60-minute access token); counted by the emulator ({seconds[1]:.1f} s for the run).",
        "0",
        received[1] == 0,
    )
    section.add(
        "Second run logged the reuse",
        "yes" if REUSED in outputs[1] else "no",
        f"the operator's log line '{REUSED} ...' in the output of the second run.",
    )


if __name__ == "__main__":
    main(measure, "Token reuse (issue 7)")
