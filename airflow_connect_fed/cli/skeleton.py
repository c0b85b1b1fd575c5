"""``--generate-cli-skeleton`` and ``--cli-input-json``: the request and response as JSON documents.

As in the AWS CLI, the input skeleton is the GetFederationToken request with empty values, the
output skeleton a sample response with each string named after its member and epoch-zero timestamps;
``--cli-input-json`` takes such a request as a JSON string or ``file://PATH``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from airflow_connect_fed.cli.exit_codes import UsageError

SkeletonKind = Literal["input", "output"]
SKELETON_KINDS: tuple[SkeletonKind, ...] = ("input", "output")

_INPUT_SKELETON = {"InstanceId": ""}
_EPOCH = "1970-01-01T00:00:00"
_OUTPUT_SKELETON = {
    "UserId": "UserId",
    "UserArn": "UserArn",
    "Credentials": {
        "AccessToken": "AccessToken",
        "AccessTokenExpiration": _EPOCH,
        "RefreshToken": "RefreshToken",
        "RefreshTokenExpiration": _EPOCH,
    },
    "SignInUrl": "SignInUrl",
}
_FILE_PREFIX = "file://"


def skeleton(kind: SkeletonKind) -> str:
    """The JSON skeleton of the request (``input``) or a sample response (``output``)."""
    document = _INPUT_SKELETON if kind == "input" else _OUTPUT_SKELETON
    return json.dumps(document, indent=4) + "\n"


def read_cli_input_json(value: str) -> dict[str, str]:
    """Parse ``--cli-input-json`` (JSON text or ``file://PATH``) into request parameters."""
    source = "--cli-input-json"
    if value.startswith(_FILE_PREFIX):
        path = Path(value[len(_FILE_PREFIX) :]).expanduser()
        source = f"--cli-input-json file {str(path)!r}"
        try:
            value = path.read_text(encoding="utf-8")
        except OSError as error:
            raise UsageError(f"Cannot read {source}: {error.strerror}.") from None
    try:
        document: Any = json.loads(value)
    except ValueError as error:
        raise UsageError(
            f"{source} is not valid JSON ({error}). Pass a JSON object such as "
            '\'{"InstanceId": "ID"}\' (see --generate-cli-skeleton input) or file://PATH.'
        ) from None
    return _request(document, source)


def _request(document: Any, source: str) -> dict[str, str]:
    if not isinstance(document, dict):
        raise UsageError(f'{source} must be a JSON object like {{"InstanceId": "ID"}}, got {document!r}.')
    unknown = sorted(set(document) - set(_INPUT_SKELETON))
    if unknown:
        raise UsageError(
            f"Unknown parameter in {source}: {', '.join(map(repr, unknown))}; must be one of: "
            f"{', '.join(_INPUT_SKELETON)}."
        )
    instance_id = document.get("InstanceId")
    if instance_id is not None and not isinstance(instance_id, str):
        raise UsageError(f"InstanceId in {source} must be a string, got {instance_id!r}.")
    return {} if instance_id is None else {"InstanceId": instance_id}
