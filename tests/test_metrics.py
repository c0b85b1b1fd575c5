"""The provider's metrics: names and values handed to Airflow's ``Stats``, failures swallowed, and a
throttled bulk run reaching a real StatsD listener over UDP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections import Counter

import pytest

from airflow_connect_fed import metrics
from tests.stats import recording_stats

TAGS = {"instance_id": "a1b2c3d4-0000-4000-8000-000000000001", "operator": "GetFederationTokensOperator"}


def test_names_go_under_connect_federation_and_timings_as_durations(monkeypatch):
    stats = recording_stats(monkeypatch)
    metrics.incr("tokens_fetched", 3, tags=TAGS)
    metrics.incr("throttled")
    metrics.timing("quota_wait", 0.25, tags=TAGS)
    assert stats.calls == [
        ("incr", "connect_federation.tokens_fetched", 3, TAGS),
        ("incr", "connect_federation.throttled", 1, None),
        ("timing", "connect_federation.quota_wait", 0.25, TAGS),
    ]


def test_airflows_stats_is_imported_on_first_use_not_with_the_operators():
    probe = (
        "import sys, airflow.sdk; import airflow_connect_fed.operators.federation_token; "
        "from airflow_connect_fed import metrics; before = metrics.Stats; metrics.incr('tokens_fetched'); "
        "from airflow.providers.common.compat.sdk import Stats; print(before is None, metrics.Stats is Stats)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip().splitlines()[-1] == "True True"


def test_a_failing_stats_is_swallowed_and_logged_once_per_process(monkeypatch, log_messages):
    class BrokenStats:
        def incr(self, *args, **kwargs):
            raise OSError("statsd is down")

        def timing(self, *args, **kwargs):
            raise ValueError("bad histogram")

    monkeypatch.setattr(metrics, "Stats", BrokenStats())
    monkeypatch.setattr(metrics, "_warned", False)
    metrics.incr("tokens_fetched", tags=TAGS)
    metrics.incr("tokens_fetched", tags=TAGS)
    metrics.timing("quota_wait", 0.1)
    warnings = [message for message in log_messages() if "Could not send the metric" in message]
    assert warnings == [
        "Could not send the metric connect_federation.tokens_fetched (OSError: statsd is down); the task goes "
        "on, and further metrics errors in this process are not logged. Check the [metrics] section of the "
        "Airflow configuration."
    ]


#: A bulk task as a worker runs it: Airflow's Stats configured from [metrics] (the task runner does so
#: before a task on Airflow >= 3.2; older Airflow configures Stats itself on first use).
BULK_TASK = """
import json, sys
try:
    from airflow.sdk.observability.metrics.stats_utils import get_stats_factory
    from airflow.sdk.observability.stats import initialize
except ImportError:
    pass
else:
    from airflow.sdk.configuration import conf

    initialize(factory=get_stats_factory(), export_legacy_names=conf.getboolean("metrics", "legacy_names_on"))
from airflow_connect_fed.operators.federation_token import GetFederationTokensOperator

instance_id, role_arn, users = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
values = GetFederationTokensOperator(
    task_id="bulk", instance_id=instance_id, connect_users=users, role_arn=role_arn, aws_conn_id="emu",
    requests_per_second=20, burst=10, allow_partial_failure=True,
).execute({})
print("stored", len(values))
"""


def statsd_counters(listener: socket.socket) -> Counter[str]:
    """The counters received until the listener is quiet for a second, summed by name."""
    totals: Counter[str] = Counter()
    listener.settimeout(1.0)
    while True:
        try:
            packet = listener.recv(65535).decode()
        except TimeoutError:
            return totals
        for line in packet.splitlines():
            name, _, rest = line.partition(":")
            value, _, kind = rest.partition("|")
            if kind.startswith("c"):
                totals[name] += int(value)


@pytest.mark.integration
@pytest.mark.parametrize("statsd", ["listening", "closed port", "unresolvable host"])
def test_a_throttled_bulk_task_reports_to_statsd_what_the_emulator_saw(
    connect_emulator, emu_connection, statsd
):
    connect_emulator.set_quota(2, 1)  # the task asks for 20/s, burst 10: throttled
    instance = connect_emulator.create_instance("metrics")["id"]
    role_arn = connect_emulator.create_federation_role()
    users = [f"agent.{n:02d}@example.com" for n in range(12)]
    for user in users:
        connect_emulator.create_user(instance, user)
    connect_emulator.counters.reset()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        if statsd != "listening":
            listener.close()
        env = {
            **os.environ,
            **connect_emulator.secrets_backend_env(),
            "AIRFLOW__METRICS__STATSD_ON": "True",
            "AIRFLOW__METRICS__STATSD_HOST": "statsd.invalid"
            if statsd == "unresolvable host"
            else "127.0.0.1",
            "AIRFLOW__METRICS__STATSD_PORT": str(port),
        }
        task = subprocess.run(
            [sys.executable, "-c", BULK_TASK, instance, role_arn, json.dumps(users)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert task.returncode == 0, task.stderr[-3000:]
        received = statsd_counters(listener) if statsd == "listening" else None
    sm = connect_emulator.client("secretsmanager", **emu_connection)
    stored = len(sm.list_secrets(MaxResults=100)["SecretList"])
    throttled = connect_emulator.counters.throttled_operation("GetFederationToken")
    assert task.stdout.splitlines()[-1] == f"stored {stored}"
    assert stored > 0
    assert throttled > 0
    if received is None:  # the task ran all the same; UDP to a closed port fails silently, and Airflow
        # itself reports a host it cannot resolve (then sends nothing)
        output = task.stdout + task.stderr
        assert output.count("Could not send the metric") <= 1
        assert ("Could not configure StatsClient" in output) == (statsd == "unresolvable host")
        return
    assert received["airflow.connect_federation.tokens_fetched"] == stored
    assert received["airflow.connect_federation.throttled"] == throttled
    assert received["airflow.connect_federation.tokens_failed"] == len(users) - stored
