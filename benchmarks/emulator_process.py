"""The Connect emulator as a separate process (``python -m amazon_connect_emulator``), set up over HTTP.

A separate process keeps the emulator's CPU off the benchmark's GIL. Its federation request counts
come from its own access log (one line per request, with the HTTP status it answered), so they are
what the emulator received, whatever the client believes it sent.
"""

from __future__ import annotations

import json
import re
import select
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from types import TracebackType

ROOT_ACCESS_KEY = "AKIAEMULATORROOT0000"
ROOT_SECRET = "benchmark"  # noqa: S105 - the emulator checks no secret
REGION = "us-east-1"
_READY = re.compile(r"amazon-connect-emulator listening on (\S+)")
_FEDERATION = re.compile(r'"GET /user/federate/\S+ HTTP/[\d.]+" (\d{3})')


@dataclass(frozen=True)
class FederationCounts:
    """GetFederationToken requests the emulator answered, by outcome."""

    received: int
    succeeded: int
    throttled: int
    faulted: int
    rejected: int


@dataclass(frozen=True)
class Caller:
    """Long-term credentials of an IAM user, and the Airflow connection that uses them."""

    access_key_id: str
    secret_access_key: str


class EmulatorProcess:
    """Start the emulator with a quota, wait for its ready line, stop it on exit."""

    def __init__(self, requests_per_second: float, burst: int, start_timeout: float = 60) -> None:
        self._args = ["--port", "0", "--requests-per-second", str(requests_per_second), "--burst", str(burst)]
        self._start_timeout = start_timeout
        self._log_dir = tempfile.TemporaryDirectory(prefix="connect-fed-emulator-")
        self.log_path = Path(self._log_dir.name) / "emulator.log"
        self._process: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> EmulatorProcess:
        with self.log_path.open("w") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "amazon_connect_emulator", *self._args],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        try:
            self.url = self._wait_ready()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()

    def _wait_ready(self) -> str:
        assert self._process is not None
        assert self._process.stdout is not None
        deadline = time.monotonic() + self._start_timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self._process.stdout], [], [], 0.2)
            if ready:
                line = self._process.stdout.readline()
                if match := _READY.search(line):
                    return match[1]
            if self._process.poll() is not None:
                break
        raise RuntimeError(f"the emulator did not start: {self.log_path.read_text()[-2000:]}")

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()

    # Counting, from the access log

    def log_mark(self) -> int:
        """A position in the access log; ``federation_counts(since=mark)`` counts what came after it."""
        return self.log_path.stat().st_size

    def federation_counts(self, since: int = 0) -> FederationCounts:
        with self.log_path.open("rb") as log:
            log.seek(since)
            statuses = [int(m[1]) for m in _FEDERATION.finditer(log.read().decode(errors="replace"))]
        return FederationCounts(
            received=len(statuses),
            succeeded=sum(s == 200 for s in statuses),
            throttled=sum(s == 429 for s in statuses),
            faulted=sum(s >= 500 for s in statuses),
            rejected=sum(400 <= s < 500 and s != 429 for s in statuses),
        )

    # Setup with plain boto3 over HTTP, as the account root

    def client(self, service: str, access_key_id: str = ROOT_ACCESS_KEY, secret: str = ROOT_SECRET) -> Any:
        return boto3.session.Session().client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret,
        )

    def create_instance(self, alias: str) -> str:
        response = self.client("connect").create_instance(
            IdentityManagementType="SAML",
            InboundCallsEnabled=True,
            OutboundCallsEnabled=True,
            InstanceAlias=alias,
        )
        return str(response["Id"])

    def create_users(self, instance_id: str, usernames: list[str]) -> None:
        """The users at once through the emulator's setup route: seeding is not Connect traffic, and
        CreateUser has its own quota (2/s) at the emulator as at AWS."""
        body = json.dumps(
            {"InstanceId": instance_id, "Region": REGION, "Users": [{"Username": u} for u in usernames]}
        ).encode()
        request = urllib.request.Request(  # noqa: S310 - the emulator's own http:// URL
            f"{self.url}/connect-emulator-api/users",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            response.read()

    def create_federation_role(self, name: str = "ConnectFederation") -> str:
        account = self.client("sts").get_caller_identity()["Account"]
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        iam = self.client("iam")
        return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])

    def create_caller(self, name: str) -> Caller:
        """An IAM user with an access key: the identity an Airflow connection calls as."""
        iam = self.client("iam")
        iam.create_user(UserName=name)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return Caller(key["AccessKeyId"], key["SecretAccessKey"])

    def airflow_connection_env(self, conn_id: str, caller: Caller) -> dict[str, str]:
        """``AIRFLOW_CONN_<ID>``: an ``aws`` connection that calls the emulator as ``caller``."""
        value = {
            "conn_type": "aws",
            "login": caller.access_key_id,
            "password": caller.secret_access_key,
            "extra": {"region_name": REGION, "endpoint_url": self.url},
        }
        return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(value)}
