"""Reading botocore's ClientError: the code, message and HTTP status AWS answered with."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.exceptions import ClientError


def error_parts(error: ClientError) -> tuple[str, str, int | None]:
    """``(code, message, http_status)`` of an AWS error answer."""
    details = error.response.get("Error", {})
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(details.get("Code", "Unknown")), str(details.get("Message", "")).strip(), status
