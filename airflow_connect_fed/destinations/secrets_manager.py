"""AWS Secrets Manager destination: one secret per key, a new version per rotation."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from airflow_connect_fed.aws_error import error_parts
from airflow_connect_fed.destinations.base import StoredToken, TokenDestination, deserialize
from airflow_connect_fed.exceptions import DestinationWriteError, InvalidDestinationError, TokenReadError
from airflow_connect_fed.sensitive import protect

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_secretsmanager import SecretsManagerClient

    from airflow_connect_fed.token import FederationToken

_SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")


class SecretsManagerDestination(TokenDestination):
    """Write the token as the ``SecretString`` of ``secret_id`` (JSON of ``to_dict()`` plus ``ConnectUser`` and ``Principal``: who it was requested for and as).

    The secret is created on the first write; later writes add a version with
    ``PutSecretValue``, so the previous version stays intact if a write fails.

    :param secret_id: secret name, e.g. ``airflow/variables/connect/agent-1``.
    :param kms_key_id: KMS key for a new secret (default: the account's ``aws/secretsmanager`` key).
    :param aws_conn_id: Airflow ``aws`` connection used to reach Secrets Manager.
    :param region_name: AWS region of the secret.
    :param client: a ready ``secretsmanager`` client, used instead of ``aws_conn_id``.
    """

    kind = "secrets_manager"

    def __init__(
        self,
        secret_id: str,
        kms_key_id: str | None = None,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        client: SecretsManagerClient | None = None,
    ) -> None:
        if not isinstance(secret_id, str) or not _SECRET_NAME.match(secret_id):
            raise InvalidDestinationError(
                f"Secret name {secret_id!r} cannot be stored in Secrets Manager: use 1 to 512 characters "
                "of letters, digits and / _ + = . @ -."
            )
        self.secret_id = secret_id
        self.kms_key_id = kms_key_id
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self._client = protect(client) if client is not None else None

    @property
    def client(self) -> SecretsManagerClient:
        if self._client is None:
            from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

            hook = AwsBaseHook(self.aws_conn_id, region_name=self.region_name, client_type="secretsmanager")
            self._client = protect(hook.conn)
        return self._client

    def location(self, version: str | int | None) -> dict[str, Any]:
        return {
            "secret_id": self.secret_id,
            "version_id": version,
            "aws_conn_id": self.aws_conn_id,
            "region_name": self.region_name,
        }

    def put(self, text: str) -> str:
        """Store ``text`` as the secret's new current version; return the version id."""
        try:
            return self.client.put_secret_value(SecretId=self.secret_id, SecretString=text)["VersionId"]
        except ClientError as error:
            if error_parts(error)[0] != "ResourceNotFoundException":
                raise self._write_error(error) from None
        except BotoCoreError as error:
            raise self._write_error(error) from None
        try:
            extra: dict[str, Any] = {"KmsKeyId": self.kms_key_id} if self.kms_key_id else {}
            created = self.client.create_secret(
                Name=self.secret_id,
                SecretString=text,
                Description="Amazon Connect federation token (airflow-connect-fed)",
                **extra,
            )
        except (ClientError, BotoCoreError) as error:
            raise self._write_error(error) from None
        return created["VersionId"]

    def read_current(self) -> StoredToken | None:
        return self.get()

    def get(self, version_id: str | None = None) -> StoredToken | None:
        """The stored token (current version unless ``version_id``), ``None`` if there is no secret."""
        kwargs = {"VersionId": version_id} if version_id else {}
        try:
            answer = self.client.get_secret_value(SecretId=self.secret_id, **kwargs)
        except BotoCoreError as error:
            raise TokenReadError(f"Could not read secret {self.secret_id!r}: {error}.") from None
        except ClientError as error:
            code, message, _ = error_parts(error)
            if code == "ResourceNotFoundException":
                return None
            raise TokenReadError(
                f"Could not read secret {self.secret_id!r}: {code}: {message}. "
                "Allow secretsmanager:GetSecretValue on it."
            ) from None
        return deserialize(answer.get("SecretString", ""), f"secret {self.secret_id!r}", answer["VersionId"])

    @classmethod
    def load(cls, reference: Mapping[str, Any]) -> FederationToken:
        destination = cls(
            reference["secret_id"],
            aws_conn_id=reference.get("aws_conn_id"),
            region_name=reference.get("region_name"),
        )
        stored = destination.get(reference.get("version_id"))
        if stored is None:
            raise TokenReadError(f"Secret {destination.secret_id!r} no longer exists.")
        return stored.token

    def _write_error(self, error: ClientError | BotoCoreError) -> DestinationWriteError:
        detail = "{}: {}".format(*error_parts(error)) if isinstance(error, ClientError) else str(error)
        return DestinationWriteError(
            f"Could not write the federation token to secret {self.secret_id!r}: {detail}. The previous "
            "version, if any, is unchanged. Allow secretsmanager:PutSecretValue and CreateSecret on it."
        )
