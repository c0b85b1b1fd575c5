"""Constants the tests share and ``success_body``, a plain GetFederationToken response.

Nothing here answers a request: unit tests hand ``success_body()`` to botocore's ``Stubber``
on the client the code uses, integration tests get real answers from the emulator over HTTP.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

#: moto's default account, which the emulator serves too.
ACCOUNT = "123456789012"
#: The id the emulator's ``seed`` gives its instance by default.
INSTANCE_ID = "11111111-2222-3333-4444-555555555555"
ACCESS_TOKEN = "ACCESS-TOKEN-6f1d2b7c9e0a4f3b8d5c"
REFRESH_TOKEN = "REFRESH-TOKEN-0a9b8c7d6e5f4a3b2c1d"
#: The IAM user of the ``emu_connection`` fixture (tests/conftest.py).
CALLER_ARN = f"arn:aws:iam::{ACCOUNT}:user/airflow-worker"


def success_body(
    user: str = "agent-1", region: str = "us-east-1", expires_at: datetime | None = None
) -> dict:
    """A GetFederationToken response for ``user`` of ``INSTANCE_ID``, with ``ACCESS_TOKEN`` and ``REFRESH_TOKEN``:
    as the default authentication profile issues them, an access token for 60 minutes (or until
    ``expires_at``) and a refresh token for 11 hours more."""
    expires_at = expires_at or datetime.now(UTC) + timedelta(minutes=60)
    return {
        "Credentials": {
            "AccessToken": ACCESS_TOKEN,
            "AccessTokenExpiration": expires_at.timestamp(),
            "RefreshToken": REFRESH_TOKEN,
            "RefreshTokenExpiration": (expires_at + timedelta(hours=11)).timestamp(),
        },
        "SignInUrl": f"https://example.my.connect.aws/auth/sign-in?user={user}",
        "UserArn": f"arn:aws:connect:{region}:{ACCOUNT}:instance/{INSTANCE_ID}/agent/{user}-id",
        "UserId": f"{user}-id",
    }
