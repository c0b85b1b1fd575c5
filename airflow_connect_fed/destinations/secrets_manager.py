"""AWS Secrets Manager destination: one secret per key, a new version per rotation."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from airflow_connect_fed._client.aws_error import AwsAnswer
from airflow_connect_fed._client.token_bucket import SECRETS_MANAGER_WRITES
from airflow_connect_fed.destinations.aws_store import AwsStoreDestination, StoredValue, StoreListing
from airflow_connect_fed.exceptions import InvalidDestinationError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

_SECRET_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")
#: The description of every secret this provider creates.
DESCRIPTION = "Amazon Connect federation token (airflow-connect-fed)"
#: The tag every secret this provider creates carries: the key, its value the token's instance ID.
INSTANCE_TAG = "airflow-connect-fed:instance-id"
#: ListSecrets' largest page.
_PAGE_SIZE = 100
#: How Secrets Manager words ``InvalidRequestException`` for a secret scheduled for deletion
#: ("... because it was marked for deletion", "... is already scheduled for deletion").
_PENDING_DELETION = re.compile(r"(marked|scheduled) for deletion|marked deleted", re.IGNORECASE)

log = logging.getLogger(__name__)


class SecretsManagerDestination(AwsStoreDestination):
    """Write the token as the ``SecretString`` of secret ``name``: JSON of ``to_dict()`` plus
    ``ConnectUser`` and ``Principal`` (who it was requested for and as).

    The secret is created on the first write, tagged ``airflow-connect-fed:instance-id`` with the
    token's instance ID (which tells a prune whose it is without reading it); later writes add a
    version with ``PutSecretValue``, so the previous version stays intact if a write fails. Two writers
    of the same new secret both succeed: the one whose ``CreateSecret`` finds it created adds its
    version with ``PutSecretValue``. A
    secret scheduled for deletion (a pruned agent hired again within the recovery window) reads as
    nothing stored, and the write restores it (``RestoreSecret``) before adding the new version.
    ``name`` is e.g. ``airflow/variables/connect/agent-1``; the other parameters are
    :class:`~airflow_connect_fed.destinations.aws_store.AwsStoreDestination`'s.
    """

    kind = "secrets_manager"
    _name_field = "secret_id"
    _version_field = "version_id"
    _read_advice = "Allow secretsmanager:GetSecretValue on it."
    _write_advice = "Allow secretsmanager:PutSecretValue, CreateSecret, TagResource and RestoreSecret on it."
    write_quota = SECRETS_MANAGER_WRITES
    write_operations = ("PutSecretValue", "CreateSecret", "RestoreSecret")
    list_action = "secretsmanager:ListSecrets"
    delete_action = "secretsmanager:DeleteSecret"
    recoverable = True
    store_name = "Secrets Manager"

    @staticmethod
    def _hook_class() -> type:
        from airflow.providers.amazon.aws.hooks.secrets_manager import SecretsManagerHook

        return SecretsManagerHook

    @classmethod
    def _checked_name(cls, name: object) -> str:
        if not isinstance(name, str) or not _SECRET_NAME.fullmatch(name):
            raise InvalidDestinationError(
                f"Secret name {name!r} cannot be stored in Secrets Manager: use 1 to 512 characters "
                "of letters, digits and / _ + = . @ -."
            )
        return name

    def _what(self) -> str:
        return f"secret {self.name!r}"

    def _put(self, text: str, instance_id: str) -> str:
        try:
            return self._put_value(text)
        except ClientError as error:
            answer = AwsAnswer.of(error)
            if _pending_deletion(error):
                return self._restore_and_put(text)
            if answer.code != "ResourceNotFoundException":
                raise
        return self._create(text, instance_id)

    def _create(self, text: str, instance_id: str) -> str:
        """Create the secret holding ``text``; if another writer created it meanwhile (two tasks or
        threads writing the same new key), add the version to theirs instead: the later write wins."""
        extra: dict[str, Any] = {"KmsKeyId": self.kms_key_id} if self.kms_key_id else {}
        try:
            created = self.client.create_secret(
                Name=self.name,
                SecretString=text,
                Description=DESCRIPTION,
                Tags=[{"Key": INSTANCE_TAG, "Value": instance_id}],
                **extra,
            )
        except ClientError as error:
            if AwsAnswer.of(error).code != "ResourceExistsException":
                raise
            log.info(
                "%s was created by another writer meanwhile; adding the new version to it.", self._what()
            )
            return self._put_value(text)
        return str(created["VersionId"])

    def _put_value(self, text: str) -> str:
        return str(self.client.put_secret_value(SecretId=self.name, SecretString=text)["VersionId"])

    def _restore_and_put(self, text: str) -> str:
        """Bring back a secret scheduled for deletion, then add the new version."""
        self.client.restore_secret(SecretId=self.name)
        log.info("Restored %s, which was scheduled for deletion, to store the new token.", self._what())
        return self._put_value(text)

    def _get(self, version: str | int | None) -> tuple[str, str] | None:
        kwargs = {"VersionId": version} if version else {}
        try:
            answer = self.client.get_secret_value(SecretId=self.name, **kwargs)
        except ClientError as error:
            if AwsAnswer.of(error).code == "ResourceNotFoundException" or _pending_deletion(error):
                return None
            raise
        return answer.get("SecretString", ""), answer["VersionId"]

    @classmethod
    def list_tokens(cls, client: Any, prefix: str, instance_id: str, *, nested: bool) -> StoreListing:
        """The secrets under ``prefix`` tagged with ``instance_id``, from ListSecrets' metadata (no value read).

        Secrets with this provider's description but no tag (created before the tag) are counted
        as ``unattributed``; ``nested`` changes nothing (a secret name is one string).
        """
        filters = [{"Key": "name", "Values": [prefix]}] if prefix else []
        pages = client.get_paginator("list_secrets").paginate(
            Filters=filters, PaginationConfig={"PageSize": _PAGE_SIZE}
        )
        values: list[StoredValue] = []
        unattributed = 0
        for page in pages:
            for secret in page.get("SecretList", []):
                if not secret["Name"].startswith(prefix):  # the filter's match may be looser
                    continue
                tags = {tag["Key"]: tag["Value"] for tag in secret.get("Tags") or []}
                if tags.get(INSTANCE_TAG) == instance_id:
                    values.append(StoredValue(secret["Name"], secret["ARN"]))
                elif INSTANCE_TAG not in tags and secret.get("Description") == DESCRIPTION:
                    unattributed += 1
        return StoreListing(values, unattributed)

    @classmethod
    def delete_tokens(
        cls,
        client: Any,
        values: Sequence[StoredValue],
        recovery_window_in_days: int | None,
        deleted: Callable[[StoredValue], None],
    ) -> list[StoredValue]:
        """DeleteSecret each, with ``RecoveryWindowInDays``, or ``ForceDeleteWithoutRecovery`` for ``None``."""
        window: dict[str, Any] = (
            {"ForceDeleteWithoutRecovery": True}
            if recovery_window_in_days is None
            else {"RecoveryWindowInDays": recovery_window_in_days}
        )
        missing: list[StoredValue] = []
        for value in values:
            try:
                client.delete_secret(SecretId=value.store_id, **window)
            except ClientError as error:
                if AwsAnswer.of(error).code != "ResourceNotFoundException":
                    raise
                missing.append(value)
                continue
            deleted(value)
        return missing


def _pending_deletion(error: ClientError) -> bool:
    """Whether Secrets Manager refused because the secret is scheduled for deletion."""
    answer = AwsAnswer.of(error)
    return answer.code == "InvalidRequestException" and bool(_PENDING_DELETION.search(answer.message))
