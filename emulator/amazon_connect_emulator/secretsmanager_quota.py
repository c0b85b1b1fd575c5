"""Secrets Manager's write quotas, as AWS applies them per account and region, answered as AWS answers.

AWS documents (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html),
each per supported region, not adjustable: a combined rate of 50 requests/s for ``PutSecretValue``,
``RemoveRegionsFromReplication``, ``ReplicateSecretToRegion``, ``StopReplicationToReplica``,
``UpdateSecret`` and ``UpdateSecretVersionStage``, and a rate of 50 requests/s of ``CreateSecret``
on its own. Quotas count against the calling identity's account (a cross-account request counts
against the caller's), which is the account the emulator files the request under.

AWS documents no burst for these quotas. The emulator's assumption: a bucket (as in ``token_bucket``)
holding one second's worth, 50, refilling at the rate. Over it, Secrets Manager answers HTTP 400 with
error code ``ThrottlingException`` ("Rate exceeded"), in its JSON 1.1 protocol: botocore reads the code
from ``__type`` and its retry handler (legacy and standard modes) treats that code at 400 as throttling.
Reads (``GetSecretValue``, ``DescribeSecret``: 10,000/s combined) and the other operations are not
throttled here.
"""

from __future__ import annotations

import json
import uuid

from werkzeug.wrappers import Response

#: AWS's documented rate of each write quota, the emulator's default; the burst is the emulator's assumption.
DEFAULT_SECRETSMANAGER_WRITES_PER_SECOND = 50.0
DEFAULT_SECRETSMANAGER_WRITE_BURST = 50

#: Operation -> the quota (bucket) it counts against.
WRITE_QUOTAS = {
    **dict.fromkeys(
        (
            "PutSecretValue",
            "RemoveRegionsFromReplication",
            "ReplicateSecretToRegion",
            "StopReplicationToReplica",
            "UpdateSecret",
            "UpdateSecretVersionStage",
        ),
        "PutSecretValue+UpdateSecret",
    ),
    "CreateSecret": "CreateSecret",
}

THROTTLED_MESSAGE = "Rate exceeded"


def throttling_response() -> Response:
    """Secrets Manager's answer over its quota: HTTP 400 ``ThrottlingException``."""
    return Response(
        json.dumps({"__type": "ThrottlingException", "message": THROTTLED_MESSAGE}),
        status=400,
        headers={"x-amzn-RequestId": str(uuid.uuid4())},
        content_type="application/x-amz-json-1.1",
    )
