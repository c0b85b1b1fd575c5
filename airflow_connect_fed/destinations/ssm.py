"""SSM Parameter Store destination: a SecureString parameter, overwritten on each rotation."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from airflow_connect_fed._client.aws_error import AwsAnswer
from airflow_connect_fed._client.token_bucket import SSM_WRITES
from airflow_connect_fed.destinations.aws_store import AwsStoreDestination, StoredValue, StoreListing
from airflow_connect_fed.destinations.base import stored_owner
from airflow_connect_fed.exceptions import InvalidDestinationError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

_PARAMETER_NAME = re.compile(r"/?[A-Za-z0-9_.\-/]{1,2047}")
_MAX_LEVELS = 15
#: DeleteParameters' most names per request.
_DELETE_BATCH = 10


class SsmParameterDestination(AwsStoreDestination):
    """Write the token as a ``SecureString`` parameter ``name`` (JSON of ``to_dict()`` plus
    ``ConnectUser`` and ``Principal``), ``Overwrite=True``.

    The ``Intelligent-Tiering`` tier lets SSM move a value over 4 KB to the advanced tier.
    ``name`` is e.g. ``/airflow/variables/connect/agent-1``; the other parameters are
    :class:`~airflow_connect_fed.destinations.aws_store.AwsStoreDestination`'s.
    """

    kind = "ssm_parameter"
    _name_field = "parameter_name"
    _version_field = "version"
    _read_advice = "Allow ssm:GetParameter (and kms:Decrypt on its key)."
    _write_advice = "Allow ssm:PutParameter (and kms:Encrypt on its key)."
    write_quota = SSM_WRITES
    write_operations = ("PutParameter",)
    list_action = "ssm:GetParametersByPath (and kms:Decrypt on the parameters' key)"
    delete_action = "ssm:DeleteParameters"
    recoverable = False
    store_name = "SSM Parameter Store"

    @staticmethod
    def _hook_class() -> type:
        from airflow.providers.amazon.aws.hooks.ssm import SsmHook

        return SsmHook

    @classmethod
    def _checked_name(cls, name: object) -> str:
        if not isinstance(name, str) or not _PARAMETER_NAME.fullmatch(name) or "//" in name:
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
        return name

    def _what(self) -> str:
        return f"parameter {self.name!r}"

    def _put(self, text: str, instance_id: str) -> int:
        """PutParameter with ``Overwrite``; a first write that finds the parameter created meanwhile by
        another writer (``ParameterAlreadyExists``) overwrites theirs: both writers succeed."""
        try:
            return self._put_parameter(text)
        except ClientError as error:
            if AwsAnswer.of(error).code != "ParameterAlreadyExists":
                raise
        return self._put_parameter(text)

    def _put_parameter(self, text: str) -> int:
        extra: dict[str, Any] = {"KeyId": self.kms_key_id} if self.kms_key_id else {}
        answer = self.client.put_parameter(
            Name=self.name,
            Value=text,
            Type="SecureString",
            Overwrite=True,
            Tier="Intelligent-Tiering",
            **extra,
        )
        return int(answer["Version"])

    def _get(self, version: str | int | None) -> tuple[str, int] | None:
        name = f"{self.name}:{version}" if version else self.name
        try:
            parameter = self.client.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        except ClientError as error:
            if AwsAnswer.of(error).code == "ParameterNotFound":
                return None
            raise
        return parameter["Value"], int(parameter["Version"])

    @classmethod
    def list_tokens(cls, client: Any, prefix: str, instance_id: str, *, nested: bool) -> StoreListing:
        """The SecureString parameters under ``prefix`` whose value is a token this provider stored for
        ``instance_id``, with the Connect user it records.

        GetParametersByPath on the hierarchy level holding ``prefix`` (recursive only for ``nested``
        names), decrypted: a parameter carries no tag of its own, so the value says whose it is. Only
        its ``InstanceId`` and ``ConnectUser`` are read; no token is built, masked or shown.
        """
        path = prefix.rpartition("/")[0] or "/"
        pages = client.get_paginator("get_parameters_by_path").paginate(
            Path=path, Recursive=nested, WithDecryption=True
        )
        values: list[StoredValue] = []
        for page in pages:
            for parameter in page.get("Parameters", []):
                name = parameter["Name"]
                if not name.startswith(prefix) or parameter.get("Type") != "SecureString":
                    continue
                owner = stored_owner(parameter.get("Value", ""))
                if owner is not None and owner[0] == instance_id:
                    values.append(StoredValue(name, name, owner[1]))
        return StoreListing(values)

    @classmethod
    def delete_tokens(
        cls,
        client: Any,
        values: Sequence[StoredValue],
        recovery_window_in_days: int | None,
        deleted: Callable[[StoredValue], None],
    ) -> list[StoredValue]:
        """DeleteParameters, ten names a request; SSM keeps no deleted parameter, so there is no window."""
        missing: list[StoredValue] = []
        for start in range(0, len(values), _DELETE_BATCH):
            batch = {value.store_id: value for value in values[start : start + _DELETE_BATCH]}
            answer = client.delete_parameters(Names=list(batch))
            for name in answer.get("DeletedParameters", []):
                if name in batch:
                    deleted(batch.pop(name))
            missing.extend(batch.values())  # InvalidParameters: no longer there
        return missing
