"""Credentials that follow the calling thread, so one client can call as many role sessions.

A bulk fetch assumes one role session per Connect user. Building a client per
session costs more than the call itself; instead one client signs each request
with the session its worker thread bound last.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from botocore.credentials import CredentialProvider, Credentials, ReadOnlyCredentials

if TYPE_CHECKING:
    from mypy_boto3_sts.type_defs import CredentialsTypeDef


class SessionCredentials(Credentials):
    """The role session credentials bound to the current thread by :meth:`use`."""

    def __init__(self) -> None:
        super().__init__("unbound", "unbound")
        self._local = threading.local()

    def use(self, credentials: CredentialsTypeDef) -> None:
        """Sign this thread's next requests as the given ``AssumeRole`` credentials."""
        self._local.frozen = ReadOnlyCredentials(
            credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
        )

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        frozen: ReadOnlyCredentials | None = getattr(self._local, "frozen", None)
        if frozen is None:
            raise RuntimeError("No role session is bound to this thread; call use() first.")
        return frozen

    def provider(self) -> CredentialProvider:
        """A botocore credential provider that hands out these credentials."""
        return _Provider(self)


class _Provider(CredentialProvider):
    METHOD = "connect-fed-role-sessions"
    CANONICAL_NAME = "connect-fed-role-sessions"

    def __init__(self, credentials: SessionCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> SessionCredentials:
        return self._credentials
