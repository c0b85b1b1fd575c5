"""A fake GetFederationToken endpoint inside botocore's own request pipeline.

moto has no GetFederationToken. This answers ``before-send`` for that one
operation, so requests still pass through botocore's signing, retry handler
and response parser (which Stubber would bypass), and records every attempt.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

ACCOUNT = "123456789012"
INSTANCE_ID = "11111111-2222-3333-4444-555555555555"
ACCESS_TOKEN = "ACCESS-TOKEN-6f1d2b7c9e0a4f3b8d5c"
REFRESH_TOKEN = "REFRESH-TOKEN-0a9b8c7d6e5f4a3b2c1d"
CALLER_ARN = f"arn:aws:iam::{ACCOUNT}:user/airflow-worker"


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def success_body(
    user: str = "agent-1", region: str = "us-east-1", expires_at: datetime | None = None
) -> dict:
    expires_at = expires_at or datetime.now(UTC) + timedelta(hours=12)
    return {
        "Credentials": {
            "AccessToken": ACCESS_TOKEN,
            "AccessTokenExpiration": expires_at.timestamp(),
            "RefreshToken": REFRESH_TOKEN,
            "RefreshTokenExpiration": (expires_at + timedelta(hours=12)).timestamp(),
        },
        "SignInUrl": f"https://example.my.connect.aws/auth/sign-in?user={user}",
        "UserArn": f"arn:aws:connect:{region}:{ACCOUNT}:instance/{INSTANCE_ID}/agent/{user}-id",
        "UserId": f"{user}-id",
    }


@dataclass(repr=False)
class FakeFederationApi:
    """Answers queued for GetFederationToken, and the requests that reached it."""

    answers: list[tuple[int, dict, dict]] = field(default_factory=list)
    requests: list[Any] = field(default_factory=list)
    assume_role_error: str | None = None
    caller_arn: str = CALLER_ARN
    identity_requests: int = 0

    def sts_assume_role(self, request: Any, **_: Any) -> AWSResponse | None:
        """Refuse sts:AssumeRole with ``assume_role_error`` when set; otherwise let moto answer."""
        if self.assume_role_error is None:
            return None
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
            f"<Message>{self.assume_role_error}</Message></Error></ErrorResponse>"
        )
        return AWSResponse(request.url, 403, {}, _Raw(body.encode()))

    def sts_get_caller_identity(self, request: Any, **_: Any) -> AWSResponse:
        """Answer as ``caller_arn``, the connection's own identity."""
        self.identity_requests += 1
        body = (
            "<GetCallerIdentityResponse><GetCallerIdentityResult>"
            f"<Arn>{self.caller_arn}</Arn><UserId>AIDAFAKE</UserId><Account>{ACCOUNT}</Account>"
            "</GetCallerIdentityResult></GetCallerIdentityResponse>"
        )
        return AWSResponse(request.url, 200, {}, _Raw(body.encode()))

    def succeed(self, **kwargs: Any) -> None:
        self.answers.append((200, success_body(**kwargs), {}))

    def fail(self, status: int, code: str, message: str, times: int = 1) -> None:
        for _ in range(times):
            self.answers.append((status, {"Message": message}, {"x-amzn-ErrorType": code}))

    def access_keys(self) -> list[str]:
        """The SigV4 access key each request was signed with."""
        return [
            r.headers["Authorization"].decode().split("Credential=")[1].split("/")[0] for r in self.requests
        ]

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.requests.append(request)
        status, body, headers = self.answers.pop(0) if self.answers else (200, success_body(), {})
        headers = {"Content-Type": "application/json", **headers}
        return AWSResponse(request.url, status, headers, _Raw(json.dumps(body).encode()))


@pytest.fixture
def federation_api(monkeypatch: pytest.MonkeyPatch) -> FakeFederationApi:
    """Route every boto3 session the hook creates through a fake GetFederationToken and GetCallerIdentity."""
    from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook

    api = FakeFederationApi()
    original = ConnectFederationHook.get_session

    def get_session(self: Any, region_name: str | None = None, deferrable: bool = False) -> boto3.Session:
        session = original(self, region_name=region_name, deferrable=deferrable)
        session.events.register("before-send.connect.GetFederationToken", api)
        session.events.register_first("before-send.sts.AssumeRole", api.sts_assume_role)
        session.events.register_first("before-send.sts.GetCallerIdentity", api.sts_get_caller_identity)
        return session

    monkeypatch.setattr(ConnectFederationHook, "get_session", get_session)
    return api
