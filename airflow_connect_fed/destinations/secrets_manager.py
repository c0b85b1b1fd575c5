"""AWS Secrets Manager destination: one secret per key, a new version per rotation."""

from __future__ import annotations

import re
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from airflow_connect_fed._client.aws_error import error_parts
from airflow_connect_fed.destinations.aws_store import AwsStoreDestination
from airflow_connect_fed.exceptions import DestinationWriteError, InvalidDestinationError

_SECRET_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")


class SecretsManagerDestination(AwsStoreDestination):
    """Write the token as the ``SecretString`` of secret ``name``: JSON of ``to_dict()`` plus
    ``ConnectUser`` and ``Principal`` (who it was requested for and as).

    The secret is created on the first write; later writes add a version with
    ``PutSecretValue``, so the previous version stays intact if a write fails.
    ``name`` is e.g. ``airflow/variables/connect/agent-1``; the other parameters are
    :class:`~airflow_connect_fed.destinations.aws_store.AwsStoreDestination`'s.
    """

    kind = "secrets_manager"
    _name_field = "secret_id"
    _version_field = "version_id"
    _read_advice = "Allow secretsmanager:GetSecretValue on it."

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

    def _put(self, text: str) -> str:
        try:
            return str(self.client.put_secret_value(SecretId=self.name, SecretString=text)["VersionId"])
        except ClientError as error:
            if error_parts(error)[0] != "ResourceNotFoundException":
                raise self._write_error(error) from None
        except BotoCoreError as error:
            raise self._write_error(error) from None
        extra: dict[str, Any] = {"KmsKeyId": self.kms_key_id} if self.kms_key_id else {}
        try:
            created = self.client.create_secret(
                Name=self.name,
                SecretString=text,
                Description="Amazon Connect federation token (airflow-connect-fed)",
                **extra,
            )
        except (ClientError, BotoCoreError) as error:
            raise self._write_error(error) from None
        return str(created["VersionId"])

    def _get(self, version: str | int | None) -> tuple[str, str] | None:
        kwargs = {"VersionId": version} if version else {}
        try:
            answer = self.client.get_secret_value(SecretId=self.name, **kwargs)
        except ClientError as error:
            if error_parts(error)[0] == "ResourceNotFoundException":
                return None
            raise
        return answer.get("SecretString", ""), answer["VersionId"]

    def _write_error(self, error: ClientError | BotoCoreError) -> DestinationWriteError:
        detail = "{}: {}".format(*error_parts(error)) if isinstance(error, ClientError) else str(error)
        return DestinationWriteError(
            f"Could not write the federation token to secret {self.name!r}: {detail}. The previous "
            "version, if any, is unchanged. Allow secretsmanager:PutSecretValue and CreateSecret on it."
        )
