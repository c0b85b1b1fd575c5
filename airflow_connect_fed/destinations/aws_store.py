"""What Secrets Manager and SSM Parameter Store destinations share: one name, a new version per write;
and, store-wide, the tokens this provider wrote for an instance, listed and deleted."""

from __future__ import annotations

import logging
from abc import abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from botocore.exceptions import BotoCoreError, ClientError

from airflow_connect_fed._client.aws_error import describe, evidence
from airflow_connect_fed._client.sensitive import protect
from airflow_connect_fed.destinations.base import (
    StoredToken,
    TokenDestination,
    deserialize,
    serialize,
    token_reference,
)
from airflow_connect_fed.destinations.write_retry import WriteRetry
from airflow_connect_fed.exceptions import DestinationWriteError, TokenReadError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from airflow_connect_fed._client.token_bucket import OperationQuota
    from airflow_connect_fed.token import FederationToken

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredValue:
    """A value a store listing found that this provider wrote for the instance it was listed for.

    :param name: the secret or parameter name.
    :param store_id: what deleting it names: the secret's ARN, the parameter's name.
    :param connect_user: the Connect user the value records, when the listing read the value.
    """

    name: str
    store_id: str
    connect_user: str | None = None


@dataclass(frozen=True)
class StoreListing:
    """What a listing found: the instance's values, and how many this provider wrote that record no instance."""

    values: list[StoredValue]
    unattributed: int = 0


class AwsStoreDestination(TokenDestination):
    """A token as the value of ``name`` in an AWS store, through the amazon provider's hook for it.

    :param name: the secret or parameter name, checked when the destination is made.
    :param kms_key_id: KMS key to encrypt with (default: the store's AWS-managed key).
    :param aws_conn_id: Airflow ``aws`` connection used to reach the store.
    :param region_name: AWS region of the store.
    :param client: a ready boto3 client of the store, used instead of ``aws_conn_id``; the
        reference then records no connection (the client's owner supplies it when reading).
    """

    #: The reference's field names for the name and the version.
    _name_field: ClassVar[str]
    _version_field: ClassVar[str]
    #: What to allow when a read or a write is refused.
    _read_advice: ClassVar[str]
    _write_advice: ClassVar[str]
    #: The IAM actions that list the store and delete from it, and whether a deletion can be undone.
    list_action: ClassVar[str]
    delete_action: ClassVar[str]
    recoverable: ClassVar[bool]
    #: The store, for messages.
    store_name: ClassVar[str]
    #: The store's write quota, and the operations that take a permit of it.
    write_quota: ClassVar[OperationQuota]
    write_operations: ClassVar[tuple[str, ...]]
    #: How a failed write is tried again (tests replace it with one on a fake clock).
    retry: WriteRetry = WriteRetry()

    def __init__(
        self,
        name: str,
        kms_key_id: str | None = None,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        client: Any = None,
    ) -> None:
        self.name = self._checked_name(name)
        self.kms_key_id = kms_key_id
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self._client = protect(client) if client is not None else None
        self._given_client = client is not None

    @property
    def client(self) -> Any:
        """The store's boto3 client, protected from botocore's DEBUG logging."""
        if self._client is None:
            hook = self._hook_class()(aws_conn_id=self.aws_conn_id, region_name=self.region_name)
            self._client = protect(hook.conn)
        return self._client

    def write(
        self, token: FederationToken, connect_user: str | None = None, principal: str | None = None
    ) -> dict[str, Any]:
        """Store ``token``; a retryable failure (see :mod:`~airflow_connect_fed.destinations.write_retry`)
        is tried again with backoff while the token stays valid, so an issued token is not dropped."""
        text = serialize(token, connect_user, principal)
        secrets = (text, token.access_token, token.refresh_token)
        attempt = 0
        while True:
            attempt += 1
            try:
                version = self._put(text, token.instance_id)
            except (ClientError, BotoCoreError) as error:
                delay = self.retry.delay(error, attempt, token)
                if isinstance(delay, str):
                    raise DestinationWriteError(
                        f"Could not write the federation token to {self._what()}"
                        f"{f' after {attempt} attempts' if attempt > 1 else ''}: {describe(error, secrets)}."
                        f"{delay} The previous version, if any, is unchanged. {self._write_advice}"
                    ) from evidence(error, secrets)
                log.warning(
                    "Writing to %s failed (%s); attempt %d of %d in %.1f s.",
                    self._what(),
                    describe(error, secrets),
                    attempt + 1,
                    self.retry.attempts,
                    delay,
                )
                self.retry.sleep(delay)
                continue
            return self._reference(token, version)

    def current(self) -> StoredToken | None:
        return self._stored(None)

    def aws_store(self) -> AwsStoreDestination:
        return self

    def describe(self, reference: Mapping[str, Any]) -> str:
        return f"{self._what()} (version {reference.get(self._version_field)})"

    @classmethod
    def read(cls, reference: Mapping[str, Any]) -> FederationToken:
        store = cls(
            reference[cls._name_field],
            aws_conn_id=reference.get("aws_conn_id"),
            region_name=reference.get("region_name"),
        )
        return store._read_version(reference.get(cls._version_field))

    def _read_version(self, version: str | int | None) -> FederationToken:
        stored = self._stored(version)
        if stored is None:
            raise TokenReadError(f"{self._what()} no longer exists.")
        return stored.token

    def _reference(self, token: FederationToken, version: str | int | None) -> dict[str, Any]:
        location: dict[str, Any] = {self._name_field: self.name, self._version_field: version}
        if not self._given_client:
            location.update(aws_conn_id=self.aws_conn_id, region_name=self.region_name)
        return token_reference(self.kind, location, token)

    def _stored(self, version: str | int | None) -> StoredToken | None:
        """The stored token (the current one unless ``version``), ``None`` if nothing is stored."""
        try:
            found = self._get(version)
        except BotoCoreError as error:
            raise TokenReadError(f"Could not read {self._what()}: {error}.") from error
        except ClientError as error:
            raise TokenReadError(
                f"Could not read {self._what()}: {describe(error)}. {self._read_advice}"
            ) from error
        if found is None:
            return None
        text, stored_version = found
        token, connect_user, principal = deserialize(text, self._what())
        return StoredToken(token, connect_user, self._reference(token, stored_version), principal)

    @staticmethod
    @abstractmethod
    def _hook_class() -> type:
        """The amazon provider's hook for this store."""

    @classmethod
    @abstractmethod
    def _checked_name(cls, name: object) -> str:
        """``name`` if the store can hold it, else :class:`InvalidDestinationError` saying why."""

    @abstractmethod
    def _what(self) -> str:
        """The stored value, for messages: ``secret 'NAME'``."""

    @abstractmethod
    def _put(self, text: str, instance_id: str) -> str | int:
        """Store ``text``, a token of ``instance_id``, as the new current value; return its version;
        botocore errors propagate."""

    @abstractmethod
    def _get(self, version: str | int | None) -> tuple[str, str | int] | None:
        """The stored text and its version, ``None`` if nothing is stored; botocore errors propagate."""

    @classmethod
    @abstractmethod
    def list_tokens(cls, client: Any, prefix: str, instance_id: str, *, nested: bool) -> StoreListing:
        """The values this provider wrote for ``instance_id`` under names starting with ``prefix``.

        ``nested``: whether a name may hold a ``/`` after ``prefix``. Reads as few pages as the store
        allows; botocore errors propagate.
        """

    @classmethod
    @abstractmethod
    def delete_tokens(
        cls,
        client: Any,
        values: Sequence[StoredValue],
        recovery_window_in_days: int | None,
        deleted: Callable[[StoredValue], None],
    ) -> list[StoredValue]:
        """Delete ``values``, calling ``deleted`` after each one is gone; return those the store no longer had.

        ``recovery_window_in_days`` (``None``: at once) where the store can restore a deletion.
        Stops at the first error, which propagates.
        """
