"""Secrets Manager on a secret scheduled for deletion, answered as AWS answers where moto 5.2.5 differs.

After ``DeleteSecret`` with a recovery window, and until ``RestoreSecret``, AWS refuses to read or
change the secret with ``400 InvalidRequestException`` ("The secret is scheduled for deletion", in
the service model) and refuses ``CreateSecret`` of its name. moto accepts ``PutSecretValue``,
answers ``CreateSecret`` with ``ResourceExistsException`` and words ``GetSecretValue``'s refusal
otherwise. ``DescribeSecret``, ``ListSecretVersionIds``, ``RestoreSecret`` and ``DeleteSecret`` are
moto's already and pass through.

Whether a secret is scheduled for deletion is moto's ``describe_secret`` answer's ``DeletedDate``,
as moto's own DescribeSecret reports it; moto resolves the identifier (a name, an ARN, a partial ARN).
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

from moto.secretsmanager.exceptions import SecretNotFoundException
from moto.secretsmanager.models import secretsmanager_backends
from werkzeug.wrappers import Response

from amazon_connect_emulator.operations import request_body

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

MARKED_FOR_DELETION = "You can't perform this operation on the secret because it was marked for deletion."
NAME_SCHEDULED_FOR_DELETION = (
    "You can't create this secret because a secret with this name is already scheduled for deletion."
)

#: The operations AWS refuses on a secret scheduled for deletion, and the request field naming it.
_SECRET_FIELD = {
    "GetSecretValue": "SecretId",
    "PutSecretValue": "SecretId",
    "UpdateSecret": "SecretId",
    "RotateSecret": "SecretId",
    "UpdateSecretVersionStage": "SecretId",
    "CreateSecret": "Name",
}


def scheduled_deletion_refusal(
    environ: WSGIEnvironment, operation: str, account_id: str, region: str
) -> Response | None:
    """AWS's refusal of ``operation`` when the secret it names is scheduled for deletion; None: moto answers.

    Only the refused operations' bodies are read, and each is put back for moto.
    """
    field = _SECRET_FIELD.get(operation)
    if field is None:
        return None
    secret_id = _body_field(request_body(environ), field)
    if secret_id is None or not _scheduled_for_deletion(account_id, region, secret_id):
        return None
    message = NAME_SCHEDULED_FOR_DELETION if operation == "CreateSecret" else MARKED_FOR_DELETION
    return _json_error(400, "InvalidRequestException", message)


def _body_field(body: bytes, field: str) -> str | None:
    """A string field of a JSON request body; None when absent or not JSON (moto reports that)."""
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return None
    value = payload.get(field) if isinstance(payload, dict) else None
    return value if isinstance(value, str) and value else None


def _scheduled_for_deletion(account_id: str, region: str, secret_id: str) -> bool:
    try:
        secret = secretsmanager_backends[account_id][region].describe_secret(secret_id)
    except (KeyError, SecretNotFoundException):  # a region moto does not serve, or no such secret
        return False
    return secret.to_dict().get("DeletedDate") is not None


def _json_error(status: int, code: str, message: str) -> Response:
    """An error in the JSON 1.1 protocol: botocore reads the code from ``__type``, the text from ``message``."""
    return Response(
        json.dumps({"__type": code, "message": message}),
        status=status,
        headers={"x-amzn-RequestId": str(uuid.uuid4())},
        content_type="application/x-amz-json-1.1",
    )
