"""SSM Parameter Store destination: a SecureString parameter, overwritten on each rotation."""

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

    from mypy_boto3_ssm import SSMClient

    from airflow_connect_fed.token import FederationToken

_PARAMETER_NAME = re.compile(r"^/?[A-Za-z0-9_.\-/]{1,2047}$")
_MAX_LEVELS = 15


class SsmParameterDestination(TokenDestination):
    """Write the token as a ``SecureString`` parameter (JSON of ``to_dict()`` plus ``ConnectUser`` and ``Principal``: who it was requested for and as), ``Overwrite=True``.

    The ``Intelligent-Tiering`` tier lets SSM move a value over 4 KB to the advanced tier.

    :param name: parameter name, e.g. ``/airflow/variables/connect/agent-1``.
    :param kms_key_id: KMS key for the SecureString (default: the account's ``aws/ssm`` key).
    :param aws_conn_id: Airflow ``aws`` connection used to reach SSM.
    :param region_name: AWS region of the parameter.
    :param client: a ready ``ssm`` client, used instead of ``aws_conn_id``.
    """

    kind = "ssm_parameter"

    def __init__(
        self,
        name: str,
        kms_key_id: str | None = None,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        client: SSMClient | None = None,
    ) -> None:
        if not isinstance(name, str) or not _PARAMETER_NAME.match(name) or "//" in name:
            raise InvalidDestinationError(
                f"Parameter name {name!r} cannot be stored in SSM Parameter Store: use up to 2048 characters "
                "of letters, digits and _ . - /, with no empty path segment."
            )
        levels = name.strip("/").count("/") + 1
        if levels > _MAX_LEVELS:
            raise InvalidDestinationError(
                f"Parameter name {name!r} has {levels} levels; SSM Parameter Store allows at most "
                f"{_MAX_LEVELS}. Use a shorter path (or a shorter variables_prefix)."
            )
        if name.lstrip("/").lower().startswith(("aws", "ssm")):
            raise InvalidDestinationError(f"Parameter name {name!r} may not start with 'aws' or 'ssm'.")
        self.name = name
        self.kms_key_id = kms_key_id
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self._client = protect(client) if client is not None else None

    @property
    def client(self) -> SSMClient:
        if self._client is None:
            from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

            hook = AwsBaseHook(self.aws_conn_id, region_name=self.region_name, client_type="ssm")
            self._client = protect(hook.conn)
        return self._client

    def location(self, version: str | int | None) -> dict[str, Any]:
        return {
            "parameter_name": self.name,
            "version": version,
            "aws_conn_id": self.aws_conn_id,
            "region_name": self.region_name,
        }

    def put(self, text: str) -> int:
        """Store ``text`` as the parameter's new version; return the version number."""
        extra: dict[str, Any] = {"KeyId": self.kms_key_id} if self.kms_key_id else {}
        try:
            answer = self.client.put_parameter(
                Name=self.name,
                Value=text,
                Type="SecureString",
                Overwrite=True,
                Tier="Intelligent-Tiering",
                **extra,
            )
        except (ClientError, BotoCoreError) as error:
            detail = "{}: {}".format(*error_parts(error)) if isinstance(error, ClientError) else str(error)
            raise DestinationWriteError(
                f"Could not write the federation token to parameter {self.name!r}: {detail}. The previous "
                "version, if any, is unchanged. Allow ssm:PutParameter (and kms:Encrypt on its key)."
            ) from None
        return answer["Version"]

    def read_current(self) -> StoredToken | None:
        return self.get()

    def get(self, version: int | None = None) -> StoredToken | None:
        """The stored token (latest unless ``version``), ``None`` if the parameter does not exist."""
        name = f"{self.name}:{version}" if version else self.name
        try:
            parameter = self.client.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        except BotoCoreError as error:
            raise TokenReadError(f"Could not read parameter {self.name!r}: {error}.") from None
        except ClientError as error:
            code, message, _ = error_parts(error)
            if code == "ParameterNotFound":
                return None
            raise TokenReadError(
                f"Could not read parameter {self.name!r}: {code}: {message}. "
                "Allow ssm:GetParameter (and kms:Decrypt on its key)."
            ) from None
        return deserialize(parameter["Value"], f"parameter {self.name!r}", parameter["Version"])

    @classmethod
    def load(cls, reference: Mapping[str, Any]) -> FederationToken:
        destination = cls(
            reference["parameter_name"],
            aws_conn_id=reference.get("aws_conn_id"),
            region_name=reference.get("region_name"),
        )
        stored = destination.get(reference.get("version"))
        if stored is None:
            raise TokenReadError(f"Parameter {destination.name!r} no longer exists.")
        return stored.token
