"""What AWS answered, read from botocore's errors: the evidence a translated error keeps.

A translated error names the AWS error code, the HTTP status and the request id AWS Support
asks for, and chains botocore's exception as its ``__cause__`` so a traceback shows what AWS
said. Requests that carry a token (writes to a secrets store) may see it echoed in a validation
message; :func:`evidence` then chains a copy with the token replaced.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from collections.abc import Iterable


@dataclass(frozen=True)
class AwsAnswer:
    """An AWS error answer: its code, message, HTTP status and request id."""

    code: str
    message: str
    status: int | None
    request_id: str | None

    @classmethod
    def of(cls, error: ClientError) -> AwsAnswer:
        details = error.response.get("Error", {})
        metadata = error.response.get("ResponseMetadata", {})
        return cls(
            code=str(details.get("Code", "Unknown")),
            message=str(details.get("Message", "")).strip(),
            status=metadata.get("HTTPStatusCode"),
            request_id=metadata.get("RequestId") or None,
        )

    @property
    def label(self) -> str:
        """``Code (HTTP 404, RequestId ID)``, leaving out what AWS did not send."""
        parts = [f"HTTP {self.status}"] if self.status else []
        if self.request_id:
            parts.append(f"RequestId {self.request_id}")
        return f"{self.code} ({', '.join(parts)})" if parts else self.code

    def fields(self) -> dict[str, Any]:
        """``error_code``, ``status_code`` and ``request_id`` of a :class:`~airflow_connect_fed.exceptions.ConnectApiError`."""
        return {"error_code": self.code, "status_code": self.status, "request_id": self.request_id}

    def without(self, secrets: Iterable[str]) -> AwsAnswer:
        """This answer with each of ``secrets`` in its message replaced by ``***``."""
        return AwsAnswer(self.code, _redacted(self.message, secrets), self.status, self.request_id)


def describe(error: Exception, secrets: Iterable[str] = ()) -> str:
    """``Code (HTTP 400, RequestId ID): message`` of an AWS answer (without the message when it is an HTML
    page), ``Type: message`` of another botocore error; each of ``secrets`` replaced by ``***``."""
    if isinstance(error, ClientError):
        answer = AwsAnswer.of(error).without(secrets)
        if _HTML.match(answer.message):  # a proxy's or server's error page: its status says it all
            return answer.label
        return f"{answer.label}: {answer.message}".rstrip(": ")
    return f"{type(error).__name__}: {_redacted(str(error), secrets)}"


def evidence(error: Exception, secrets: Iterable[str] = ()) -> Exception | None:
    """What to chain as ``__cause__``: ``error``, or, if it shows one of ``secrets``, a redacted copy.

    A botocore error other than ``ClientError`` that shows a secret is not chained (``None``):
    its message cannot be rebuilt without it.
    """
    secrets = [secret for secret in secrets if secret]
    if not any(secret in str(error) or secret in repr(getattr(error, "response", "")) for secret in secrets):
        return error
    if not isinstance(error, ClientError):
        return None
    response = _redacted_copy(error.response, secrets)
    return type(error)(response, error.operation_name)


#: An answer whose message is an HTML page (``<!doctype html>...``, ``<html>...``), not AWS's words.
_HTML = re.compile(r"\s*<(!doctype\s+html|html[\s>])", re.IGNORECASE)


def _redacted(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _redacted_copy(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return _redacted(value, secrets)
    if isinstance(value, dict):
        return {key: _redacted_copy(item, secrets) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_redacted_copy(item, secrets) for item in value)
    return copy.copy(value)
