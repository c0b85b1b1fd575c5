"""AWS Secrets Manager destination: one secret per key, a new version per rotation."""

from __future__ import annotations

import re
from typing import Any

from botocore.exceptions import ClientError

from airflow_connect_fed._client.aws_error import AwsAnswer
from airflow_connect_fed.destinations.aws_store import AwsStoreDestination
from airflow_connect_fed.exceptions import InvalidDestinationError

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
    _write_advice = "Allow secretsmanager:PutSecretValue and CreateSecret on it."

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
            if AwsAnswer.of(error).code != "ResourceNotFoundException":
                raise
        extra: dict[str, Any] = {"KmsKeyId": self.kms_key_id} if self.kms_key_id else {}
        created = self.client.create_secret(
            Name=self.name,
            SecretString=text,
            Description="Amazon Connect federation token (airflow-connect-fed)",
            **extra,
        )
        return str(created["VersionId"])

    def _get(self, version: str | int | None) -> tuple[str, str] | None:
        kwargs = {"VersionId": version} if version else {}
        try:
            answer = self.client.get_secret_value(SecretId=self.name, **kwargs)
        except ClientError as error:
            if AwsAnswer.of(error).code == "ResourceNotFoundException":
                return None
            raise
        return answer.get("SecretString", ""), answer["VersionId"]
